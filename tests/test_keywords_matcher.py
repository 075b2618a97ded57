"""Tests for keywords.matcher and keywords.tokenizer: one automaton, jieba boundaries, nesting, negation."""

from __future__ import annotations

import json
from pathlib import Path

import jieba
import pytest

from keywords import matcher as matcher_module
from keywords.lexicon import Lexicon, load_lexicon
from keywords.matcher import Matcher
from keywords.normalisation import normalise
from keywords.tokenizer import TermTokenizer


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def matcher(lexicon: Lexicon) -> Matcher:
    return Matcher(lexicon, TermTokenizer.for_lexicon(lexicon))


def _rules(matcher: Matcher, text: str) -> list[str]:
    return [m.term.rule_id for m in matcher.find(normalise(text))]


def test_one_tokenizer_per_lexicon_version_and_never_jiebas_global(lexicon: Lexicon) -> None:
    tokenizer = TermTokenizer.for_lexicon(lexicon)
    assert TermTokenizer.for_lexicon(lexicon) is tokenizer
    inner = tokenizer.initialize()
    assert tokenizer.initialize() is inner
    assert inner is not jieba.dt
    assert isinstance(inner, jieba.Tokenizer)


def test_lexicon_terms_are_jieba_user_words(lexicon: Lexicon) -> None:
    tokenizer = TermTokenizer.for_lexicon(lexicon)
    assert tokenizer.segment("可以代挂号吗") == ["可以", "代挂号", "吗"]
    assert tokenizer.segment("找陪诊师") == ["找", "陪诊师"]


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("可以加号", 2, 4, True),
        ("加号码", 0, 2, False),
        ("没有号了", 1, 3, False),
        ("专家号今天有号", 5, 7, True),
    ],
)
def test_token_span(lexicon: Lexicon, text: str, start: int, end: int, expected: bool) -> None:
    assert TermTokenizer.for_lexicon(lexicon).is_token_span(text, start, end) is expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("医生可以加号", "service.加号"),
        ("专家号今天有号", "service.有号"),
        ("本周出号，先到先得", "service.出号"),
        ("帮忙约号", "service.约号"),
        ("找人跑腿买药", "disguise.跑腿"),
    ],
)
def test_boundary_terms_count_on_token_boundaries(matcher: Matcher, text: str, rule: str) -> None:
    assert rule in _rules(matcher, text)


@pytest.mark.parametrize(
    "text",
    ["请加号码前缀", "请留下您的电话号码", "现在没有号了", "出号码牌", "有关系统维护的公告"],
)
def test_boundary_terms_inside_other_words_do_not_count(matcher: Matcher, text: str) -> None:
    rules = _rules(matcher, text)
    assert not any(r in rules for r in ("service.加号", "service.有号", "service.出号", "guarantee.有关系"))


def test_nested_match_is_suppressed_by_the_longer_one(matcher: Matcher) -> None:
    assert _rules(matcher, "加号费800") == ["fees.加号费"]
    assert _rules(matcher, "黄牛号") == ["service.黄牛号"]
    assert _rules(matcher, "祖传秘方") == ["cure.祖传秘方"]
    assert _rules(matcher, "加vx") == ["cta.加vx"]


def test_overlapping_matches_are_both_kept(matcher: Matcher) -> None:
    # 代挂号 and 号源 share 号 but neither contains the other.
    assert _rules(matcher, "代挂号源") == ["service.代挂号", "service.号源"]


def test_matches_cover_evasive_spellings_and_map_to_original(matcher: Matcher) -> None:
    text = "专业 代@挂#號，專\u200b家\u200b號"
    matches = matcher.find(normalise(text))
    assert [(m.term.rule_id, text[m.start : m.end]) for m in matches] == [
        ("service.代挂号", "代@挂#號"),
        ("service.专家号", "專\u200b家\u200b號"),
    ]


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("vx:abc123", True),
        ("vx13812345678", True),
        ("VX：abc", True),
        ("下载vxworks", False),
        ("加vip群", False),
        ("加v：abc", True),
    ],
)
def test_ascii_terms_do_not_match_inside_words(matcher: Matcher, text: str, present: bool) -> None:
    rules = _rules(matcher, text)
    assert any(r in rules for r in ("cta.vx", "cta.加v")) is present


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("本平台不代挂号", "service.代挂号"),
        ("我们不提供任何代挂号服务", "service.代挂号"),
        ("严禁抢号", "service.抢号"),
        ("本院免收服务费", "fees.服务费"),
    ],
)
def test_negated_terms_are_flagged(matcher: Matcher, text: str, rule: str) -> None:
    [match] = [m for m in matcher.find(normalise(text)) if m.term.rule_id == rule]
    assert match.negated


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("本店不转卖号源", "service.号源"),
        ("我们不承诺加号", "service.加号"),
        ("禁止发布代挂号广告", "service.代挂号"),
        ("严禁发布任何代约信息", "service.代约"),
        ("也不接受代抢号委托", "service.代抢号"),
    ],
)
def test_a_negation_verb_may_stand_between_negator_and_term(matcher: Matcher, text: str, rule: str) -> None:
    [match] = [m for m in matcher.find(normalise(text)) if m.term.rule_id == rule]
    assert match.negated


def test_a_negated_enumeration_negates_every_item(matcher: Matcher) -> None:
    matches = matcher.find(normalise("本版禁止发布代挂号、专家号、加号广告"))
    assert [(m.term.rule_id, m.negated) for m in matches] == [
        ("service.代挂号", True),
        ("service.专家号", True),
        ("service.加号", True),
    ]
    matches = matcher.find(normalise("严禁代抢号和黄牛号"))
    assert [(m.term.rule_id, m.negated) for m in matches] == [("service.代抢号", True), ("service.黄牛号", True)]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("不代挂号，专家号当天可挂", "service.专家号"),  # a comma ends the enumeration
        ("不代挂号、只卖专家号", "service.专家号"),  # another word ends it
        ("不用担心，代挂号找我", "service.代挂号"),  # 担心 is not a negation verb
        ("不限科室、专家号都能挂", "service.专家号"),  # 不限科室 is itself a term, not negated
    ],
)
def test_negation_does_not_reach_past_its_clause(matcher: Matcher, text: str, rule: str) -> None:
    [match] = [m for m in matcher.find(normalise(text)) if m.term.rule_id == rule]
    assert not match.negated


def test_unnegated_and_context_terms_are_not_flagged(matcher: Matcher) -> None:
    matches = matcher.find(normalise("代挂号，不打击"))
    assert [(m.term.rule_id, m.negated) for m in matches] == [("service.代挂号", False), ("context.打击", False)]


def test_results_are_sorted_by_original_position(matcher: Matcher) -> None:
    matches = matcher.find(normalise("私聊 专家号 当天可挂 服务费 代挂号"))
    starts = [m.start for m in matches]
    assert starts == sorted(starts)
    assert len(matches) == 5


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("陪诊，服务费", ["disguise.陪诊", "fees.服务费"]),
        ("600元一个，号满可加", ["guarantee.号满可加"]),
        ("一键预约\n专家号", ["service.专家号"]),
        ("代，挂，号", ["service.代挂号"]),
        ("代 挂 号", ["service.代挂号"]),
    ],
)
def test_matches_do_not_straddle_clause_breaks(matcher: Matcher, text: str, rules: list[str]) -> None:
    assert _rules(matcher, text) == rules


def test_dense_byte_and_character_automata_find_the_same(lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled dense automaton, pyahocorasick over bytes and pyahocorasick over characters agree."""
    fixtures = Path(__file__).parent / "fixtures"
    texts = [
        json.loads(line)["text"]
        for path in [fixtures / "scoring" / "labelled.jsonl", *sorted((fixtures / "corpus").glob("*.jsonl"))]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts += ["号" * 50, "\udcff代\ud800挂号" * 5, "😀代挂号😀专家号𠀀加号", "vx记者ｖｘ代guahao", ""]
    tokenizer = TermTokenizer.for_lexicon(lexicon)
    dense = Matcher(lexicon, tokenizer)
    monkeypatch.setattr(matcher_module, "DENSE_AUTOMATON_MAX_BYTES", 0)
    by_bytes = Matcher(lexicon, tokenizer)
    monkeypatch.setattr(matcher_module, "BYTE_AUTOMATON_MAX_KEYS", 0)
    by_characters = Matcher(lexicon, tokenizer)
    for text in texts:
        normalised = normalise(text)
        scans = [m.scan(normalised) for m in (dense, by_bytes, by_characters)]
        assert scans[0] == scans[1] == scans[2]
        firsts = [m.first_absent_cue(normalised) for m in (dense, by_bytes, by_characters)]
        assert firsts[0] == firsts[1] == firsts[2]


def test_dense_automaton_reports_like_pyahocorasick() -> None:
    """Overlapping and nested keys, at every end longest first, over every storage width of str."""
    import ahocorasick
    from keywords._automaton import DenseAutomaton

    keys = ["a", "ab", "bab", "号", "挂号", "代挂号", "𠀀号", "é", "\x80"]
    dense = DenseAutomaton(keys, keys)
    reference = ahocorasick.Automaton()
    for key in keys:
        reference.add_word(key, key)
    reference.make_automaton()
    for text in ["abab", "代挂号号", "x𠀀号代挂号abé", "é\x80ab", "\ud800挂号", ""]:
        assert dense.findall(text) == list(reference.iter(text))
        assert dense.first(text) == next(reference.iter(text), None)
