"""Bad input, property-based (hypothesis): whatever a page holds -- nothing, megabytes of one character, mixed
scripts, lone surrogates, emoji, zero-width characters, evasive spellings -- it is scored without error, every
reason points at its real text, and the fast paths (compiled and numpy views, contact windows, the jieba shortcut,
the number-run mapping) agree with the plain ones. Linear time is a property of the algorithms (see
bench/score.py for measured scaling); nothing here times anything."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keywords import Scorer, load_scorer
from keywords.contacts import extract_contacts, extract_contacts_everywhere
from keywords.lexicon import load_lexicon
from keywords.normalisation import NormalisedText, normalise, normalise_python
from keywords.signals import ImageText
from keywords.tokenizer import _WINDOW, TermTokenizer

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_TERMS = [t.text for t in load_lexicon().terms]
_PIECES = [
    *_TERMS,
    "代guahao", "dai gua hao", "dgh", "zjh", "V信", "vx:", "QQ：", "扣扣", "加v", "➕V", "微信同号",
    "138 1234 5678", "①③⑧", "幺三八", "１３８－１２３４", "0571-86092415", "400-123-4567", "¥300", "500元",
    "“", "”", "《", "》", "？", "\n", "\n\n", " ", "，", "。", "：", "问：", "记者", "本报讯", "第三章",
]  # fmt: skip
_ODD = st.sampled_from(
    ["\u200b", "\u200d", "\ufeff", "\u202e", "\udcff", "\ud800", "😀", "🙏", "🈶", "⑸", "…", "ﬁ", "㈤", "\x00", "\t"]
)
_CHARS = st.characters(codec=None, categories=None, exclude_characters=())
# Texts built from lexicon terms, evasive spellings, contacts, odd characters and arbitrary code points.
TEXTS = st.lists(st.one_of(st.sampled_from(_PIECES), _ODD, st.text(_CHARS, max_size=8)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def _assert_valid(text: str, scorer: Scorer, **kwargs: object) -> None:
    result = scorer.score(text, **kwargs)  # type: ignore[arg-type]
    assert 0 <= result.score <= 100
    for reason in result.reasons:
        if reason.start == -1:
            assert reason.end == -1
        else:
            assert 0 <= reason.start < reason.end <= len(text)
            assert text[reason.start : reason.end] == reason.text
    for kind in ("mobile", "wechat", "qq"):
        assert kind in result.contacts


def _views(n: NormalisedText) -> tuple[object, ...]:
    return (
        n.skeleton,
        list(n.skeleton_map),
        n.digits,
        list(n.digits_map),
        n.pinyin,
        list(n.pinyin_map),
        n.initials,
        list(n.initials_map),
    )


@SETTINGS
@given(TEXTS)
def test_any_text_is_scored_with_valid_offsets(scorer: Scorer, text: str) -> None:
    _assert_valid(text, scorer)


@SETTINGS
@given(TEXTS, st.lists(TEXTS, max_size=3))
def test_any_image_text_is_scored(scorer: Scorer, text: str, images: list[str]) -> None:
    image_texts = tuple(ImageText(f"{i}.png", "qr" if i % 2 else "ocr", t) for i, t in enumerate(images))
    _assert_valid(text, scorer, image_texts=image_texts, links=("not a url", ""))


@SETTINGS
@given(TEXTS)
def test_views_map_into_the_original(text: str) -> None:
    n = normalise(text)
    for view, view_map in ((n.skeleton, n.skeleton_map), (n.digits, n.digits_map)):
        assert len(view) == len(view_map)
        assert list(view_map) == sorted(view_map)
        assert all(0 <= i < len(text) for i in view_map)
    for view, view_map in ((n.pinyin, n.pinyin_map), (n.initials, n.initials_map)):
        assert len(view) == len(view_map)
        assert all(0 <= i < len(n.skeleton) for i in view_map)


@SETTINGS
@given(TEXTS)
def test_numpy_and_python_normalisation_agree(text: str) -> None:
    assert _views(normalise(text)) == _views(normalise_python(text))


@SETTINGS
@given(TEXTS)
def test_contact_windows_find_what_a_full_scan_finds(text: str) -> None:
    n = normalise(text)
    assert extract_contacts(n) == extract_contacts_everywhere(n)


@SETTINGS
@given(TEXTS, st.data())
def test_jieba_shortcut_agrees_with_jieba(text: str, data: st.DataObject) -> None:
    tokenizer = TermTokenizer.for_lexicon(load_lexicon())
    skeleton = normalise(text).skeleton
    if len(skeleton) < 2:
        return
    start = data.draw(st.integers(0, len(skeleton) - 2))
    end = data.draw(st.integers(start + 1, min(len(skeleton), start + 5)))
    lo, hi = max(0, start - _WINDOW), min(len(skeleton), end + _WINDOW)
    boundaries = {lo}
    position = lo
    for token in tokenizer.segment(skeleton[lo:hi]):
        position += len(token)
        boundaries.add(position)
    assert tokenizer.is_token_span(skeleton, start, end) == (start in boundaries and end in boundaries)


@SETTINGS
@given(TEXTS)
def test_token_boundaries_are_jiebas(text: str) -> None:
    """TermTokenizer.boundaries (jieba's dictionary-mode algorithm without its generators) cuts where jieba does,
    on raw text (spaces, line breaks, every script) and on skeletons."""
    tokenizer = TermTokenizer.for_lexicon(load_lexicon())
    for sample in (text, normalise(text).skeleton):
        expected = {0}
        position = 0
        for token in tokenizer.segment(sample):
            position += len(token)
            expected.add(position)
        assert tokenizer.boundaries(sample) == expected


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("empty", ""),
        ("10 MB of one character", "号" * 10_000_000),
        ("emoji run", "😀🙏🈶➕" * 100_000),
        ("zero-width run", "\u200b" * 1_000_000),
        ("lone surrogates", "\udcff代\ud800挂号" * 20_000),
        ("ellipses", "…" * 500_000),
        ("mixed scripts", "代guahao专家号Ｖ信①③⑧ مرحبا привет \u200b幺三八 " * 10_000),
        ("one long line of Latin", "daiguahao" * 200_000),
    ],
)
def test_hostile_pages_are_scored(scorer: Scorer, label: str, text: str) -> None:
    result = scorer.score(text)
    assert 0 <= result.score <= 100, label
    assert all(r.start == -1 or text[r.start : r.end] == r.text for r in result.reasons)


_DIGITISH = st.text(st.sampled_from("0123456789一二三四五六七八九零〇幺两拐洞勾 \t\r\n-_.·x，"), max_size=60)


@SETTINGS
@given(st.one_of(_DIGITISH, TEXTS))
def test_compiled_number_runs_are_the_number_run_regex(text: str) -> None:
    """keywords._fold's number-run mapping is the regex substitution of the pure-Python normaliser."""
    from keywords.normalisation import _folder, _map_number_runs

    assert _folder().number_runs(text) == _map_number_runs(text)


@SETTINGS
@given(st.one_of(TEXTS, st.text(st.sampled_from("0123456789ab -\n①"), max_size=60)))
def test_digit_chains_are_the_number_hint_regex(text: str) -> None:
    """keywords._fold.digit_chains finds exactly the spans of contacts' number hint regex."""
    from keywords._fold import digit_chains

    from keywords.contacts import _NUMBER_HINT

    view = normalise(text).digits
    assert digit_chains(view, 5, 3) == [m.span() for m in _NUMBER_HINT.finditer(view)]


@SETTINGS
@given(st.one_of(TEXTS, st.text(st.sampled_from("微威薇徽维绿泡信vwxeihn加+➕ \n"), max_size=40)))
def test_wechat_hints_are_the_hint_regex(text: str) -> None:
    """Contacts' WeChat hints, tried only where one can start, are exactly the hint regex's matches."""
    from keywords.contacts import _WECHAT_HINT, _wechat_hints

    for view in (text, normalise(text).digits):
        assert [m.span() for m in _wechat_hints(view)] == [m.span() for m in _WECHAT_HINT.finditer(view)]


@SETTINGS
@given(st.one_of(TEXTS, st.text(st.sampled_from('“”「」『』《》‘’"＂ab\n'), max_size=40)))
def test_quoted_spans_are_the_quote_regex(text: str) -> None:
    """Quotations found from their opening marks are exactly the quotation regex's matches."""
    from keywords.quotes import _QUOTE, quoted_spans

    assert quoted_spans(text) == [m.span() for m in _QUOTE.finditer(text)]


@SETTINGS
@given(TEXTS)
def test_the_compiled_crossing_test_walks_the_dictionary_like_jieba(text: str) -> None:
    """keywords._segment.nothing_crosses (with its longest-entry shortcut) against the plain walk of jieba's
    prefix dictionary: is there an entry with a frequency that starts before a boundary and ends after it?"""
    tokenizer = TermTokenizer.for_lexicon(load_lexicon())
    tokenizer.initialize()
    freq = tokenizer._prefixes

    def plain(view: str, boundary: int) -> bool:
        if boundary <= 0 or boundary >= len(view):
            return True
        if view[boundary - 1].isascii() and view[boundary].isascii():
            return False
        for i in range(max(0, boundary - tokenizer._longest + 1), boundary):
            for j in range(boundary + 1, len(view) + 1):
                if view[i:j] not in freq:
                    break
                if freq[view[i:j]]:
                    return False
        return True

    for view in (text, normalise(text).skeleton):
        for boundary in range(len(view) + 1):
            assert tokenizer._nothing_crosses(view, boundary) == plain(view, boundary)


@SETTINGS
@given(st.one_of(TEXTS, st.text(st.sampled_from("加+➕vwx微威薇徽维绿泡信qQ扣企鹅🐧号: \n1234567890"), max_size=50)))
def test_contact_cues_hold_their_marker_characters(text: str) -> None:
    """Every WeChat (QQ) match holds one of the characters the extraction windows are tested for."""
    from keywords import contacts

    view = normalise(text).digits
    for regexes, chars in (
        ((contacts._WECHAT, contacts._WECHAT_BELOW), contacts._WECHAT_CUE_CHARS),
        ((contacts._QQ, contacts._QQ_BELOW), contacts._QQ_CUE_CHARS),
    ):
        for regex in regexes:
            for m in regex.finditer(view):
                assert any(ch in m.group() for ch in chars), (regex.pattern, m.group())
