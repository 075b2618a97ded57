"""Tests for the pinyin and initials views and the lexicon's pinyin forms: mixed spellings match, homophones and
partial tokens do not, and every match points at its real place in the original text."""

from __future__ import annotations

import pytest

from keywords.lexicon import Lexicon, load_lexicon
from keywords.matcher import Matcher
from keywords.normalisation import initials_forms, normalise, pinyin_forms
from keywords.tokenizer import TermTokenizer


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def matcher(lexicon: Lexicon) -> Matcher:
    return Matcher(lexicon, TermTokenizer.for_lexicon(lexicon))


def _found(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    return [(m.term.rule_id, text[m.start : m.end]) for m in matcher.find(normalise(text))]


def test_pinyin_and_initials_forms_of_a_term() -> None:
    assert pinyin_forms("代挂号")[0] == "daiguahao"
    assert "daiyao" in pinyin_forms("代约")  # heteronyms are expanded on the keyword side
    assert initials_forms("专家号")[0] == "zjh"
    assert pinyin_forms("绿泡泡")[0] == "lvpaopao"


def test_pinyin_view_covers_mixed_script_regions_only() -> None:
    n = normalise("今天天气很好。代guahao，找我")
    assert n.pinyin.startswith("jintiantianqihenhaodaiguahao")
    assert normalise("今天天气很好").pinyin == ""
    for view, view_map in ((n.pinyin, n.pinyin_map), (n.initials, n.initials_map)):
        assert len(view) == len(view_map)
        assert all(0 <= i < len(n.skeleton) for i in view_map)
    s = n.pinyin.index("daiguahao")
    start, end = n.pinyin_span(s, s + len("daiguahao"))
    assert n.original[start:end] == "代guahao"


@pytest.mark.parametrize(
    ("text", "rule", "span"),
    [
        ("找代guahao的私聊", "service.代挂号", "代guahao"),
        ("dai gua hao 专家号", "service.代挂号", "dai gua hao"),
        ("DaiGuaHao!", "service.代挂号", "DaiGuaHao"),
        ("ｄａｉｇｕａｈａｏ", "service.代挂号", "ｄａｉｇｕａｈａｏ"),
        ("找dgh私聊", "service.代挂号", "dgh"),
        ("zjh当天可挂", "service.专家号", "zjh"),
        ("zhuanjia号当天可挂", "service.专家号", "zhuanjia号"),
        ("haomankejia", "guarantee.号满可加", "haomankejia"),
        ("加weixin详谈", "cta.加微信", "加weixin"),
        ("peizhen shi 带你看病", "disguise.陪诊师", "peizhen shi"),
    ],
)
def test_mixed_and_latin_spellings_match(matcher: Matcher, text: str, rule: str, span: str) -> None:
    assert (rule, span) in _found(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "专家好评如潮",  # all-Chinese homophone of 专家号: not a pinyin match
        "带挂号",  # all-Chinese homophone of 代挂号
        "xdaiguahao",  # Latin letter glued before
        "daiguahaoxyz",  # and after
        "dgh_2024",  # initials inside a longer token (a WeChat ID)
        "adghz",
        "d g h",  # spaced initials are not a token
    ],
)
def test_homophones_and_partial_tokens_do_not_match(matcher: Matcher, text: str) -> None:
    assert not [rule for rule, _ in _found(matcher, text) if rule in {"service.代挂号", "service.专家号"}]


def test_pinyin_match_and_character_match_are_one_match(matcher: Matcher) -> None:
    # the characters are matched in the skeleton; the pinyin of the same span adds nothing
    assert _found(matcher, "代挂号vx") == [("service.代挂号", "代挂号"), ("cta.vx", "vx")]


def test_negation_applies_to_pinyin_matches(matcher: Matcher) -> None:
    [match] = [m for m in matcher.find(normalise("本店不daiguahao")) if m.term.rule_id == "service.代挂号"]
    assert match.negated
