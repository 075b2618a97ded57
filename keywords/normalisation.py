"""Text normalisation for matching: the skeleton, digits, pinyin and initials views of a page, each with an
offset map back to the original text.

Scalpers evade keyword filters with full-width letters, circled digits, zero-width characters, traditional
characters, symbols between characters ("代@挂#号"), digits spelled in Chinese ("幺三八") and pinyin
("代guahao", "dai gua hao", "dgh"). This module owns the folding that undoes those tricks while remembering,
for every character of every view, which character of the original text it came from, so that evidence can be
highlighted in the original.

Views (see `NormalisedText`):

* ``skeleton`` -- for term matching. Per character: zero-width/bidi characters and lone surrogates dropped,
  NFKC (full-width to half-width, circled/super/subscript digits to ASCII; dingbat circled digits that NFKC
  leaves alone are mapped by their Unicode digit value), OpenCC ``t2s`` on the whole text, ASCII lower-cased,
  and every character whose Unicode category is Z*, P*, S* or C* removed (so only letters, marks and numbers
  remain); outside the Basic Multilingual Plane only the CJK extension planes 2 and 3 are kept (emoji and
  historic scripts are dropped, mathematical letters are folded to ASCII first).
* ``digits`` -- for contact extraction. The same folding but separators are kept, and inside runs that look
  like numbers (at least five digit characters, optionally separated by up to three spaces, dashes, dots or
  underscores) Chinese numerals and phone-speak digits (幺=1, 两=2, 拐=7, 洞=0, 勾=9, 壹贰叁…) become ASCII
  digits. 十 is deliberately not a digit: nobody spells a phone number with it, and "二十" would become "210".
* ``pinyin`` and ``initials`` -- for the lexicon's pinyin forms. Every *mixed-script region* of the skeleton
  (each run of at least two Latin letters plus up to `PINYIN_CONTEXT` characters on either side) rendered in toneless
  pinyin (pypinyin ``Style.NORMAL``, one reading per character: the most common one) or in initials (the first
  letter of that reading, as ``Style.FIRST_LETTER``); Latin letters and digits stay as they are; regions are
  joined by a space, which no pinyin form contains. "代guahao" and "dai gua hao" both render as "daiguahao".
  Only mixed-script regions are rendered because pinyin is there to catch *Latin* spellings: an all-Chinese
  span is already matched character for character in the skeleton, and matching its pinyin as well would turn
  innocent homophones into offers (专家好评 reads "zhuanjiahaoping", which contains 专家号's "zhuanjiahao"). It
  also keeps the cost of these views proportional to the Latin text of a page, not to its length.

Offset maps are `keywords.offsets.OffsetMap` sequences: a match ``[s, e)`` in the skeleton or digits view maps
back to the original span ``[map[s], map[e-1] + 1)``. The pinyin and initials maps point into the skeleton
(a match there is checked against the skeleton's syllable and word boundaries) and compose into the skeleton
map for original positions. Every stage works on whole strings at C speed: the per-character passes (fold,
skeleton, the digits view's number-run mapping) are compiled (`keywords._fold`, driven
by this module's per-code-point tables), with a numpy and a pure-Python implementation for pages where a
character expands into several (⑸ → "(5)"), and OpenCC and regexes do the rest; Python-level loops run only
over such characters and over the small pinyin regions, so normalisation is linear in the page.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from operator import itemgetter
from typing import Any

import opencc

from keywords._fold import Folder
from keywords.offsets import OffsetMap

__all__ = [
    "PINYIN_CONTEXT",
    "NormalisedText",
    "fold_term",
    "has_reading",
    "initials_forms",
    "normalise",
    "pinyin_forms",
    "reading",
    "traditional_characters",
]

#: Characters of context rendered on each side of a Latin run in the pinyin views (the longest pinyin form
#: the lexicon may use spans this many Chinese characters next to the Latin letters).
PINYIN_CONTEXT = 8

# Zero-width and bidi control characters (dropped from every view).
_INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u180e", "\ufeff"]
)

# Chinese numerals and phone-speak digits, applied only inside number-like runs of the digits view.
# Traditional forms (貳, 陸, 兩, …) are already simplified by t2s before this table is used.
_CN_DIGITS = {
    "零": "0", "〇": "0", "洞": "0",
    "一": "1", "壹": "1", "幺": "1",
    "二": "2", "贰": "2", "两": "2",
    "三": "3", "叁": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6",
    "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9", "勾": "9",
}  # fmt: skip
_DIGIT_CLASS = "[0-9" + "".join(_CN_DIGITS) + "]"
# At least five digit characters, with at most three separators between neighbours.
_SEPARATORS = " \t\r\n-_.·"  # what may separate the digits of a number-like run (at most three in a row)
_NUMBER_RUN = re.compile(_DIGIT_CLASS + "(?:[" + re.escape(_SEPARATORS) + "]{0,3}" + _DIGIT_CLASS + "){4,}")
_HAS_CN_DIGIT = re.compile("[" + "".join(_CN_DIGITS) + "]")
_CN_DIGIT_TABLE = str.maketrans(_CN_DIGITS)

_REMOVED_CATEGORIES = frozenset("ZPSC")
# Chinese characters that have a pinyin reading (CJK unified ideographs, extensions, compatibility, 〇).
_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# "[a-z][a-z]+" rather than the equivalent "[a-z]{2,}": a pattern that starts with a plain character class lets
# the regex engine skip ahead to the next candidate at C speed (about twice as fast over Chinese text).
_LATIN_RUN = re.compile("[a-z][a-z]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_CJK_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x323B0))
_REGION_SEPARATOR = " "


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The original text plus its folded views; each ``*_map[i]`` is the original index of view char ``i``
    (``pinyin_map``/``initials_map``: the *skeleton* index, see the module docstring)."""

    original: str
    skeleton: str
    skeleton_map: OffsetMap
    digits: str
    digits_map: OffsetMap
    pinyin: str
    pinyin_map: OffsetMap
    initials: str
    initials_map: OffsetMap

    def skeleton_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the skeleton span ``[start, end)`` (which must be non-empty)."""
        return self.skeleton_map[start], self.skeleton_map[end - 1] + 1

    def digits_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the digits-view span ``[start, end)`` (which must be non-empty)."""
        return self.digits_map[start], self.digits_map[end - 1] + 1

    def pinyin_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the pinyin-view span ``[start, end)`` (which must be non-empty)."""
        return self.skeleton_span(self.pinyin_map[start], self.pinyin_map[end - 1] + 1)

    def initials_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the initials-view span ``[start, end)`` (which must be non-empty)."""
        return self.skeleton_span(self.initials_map[start], self.initials_map[end - 1] + 1)


@cache
def _t2s() -> opencc.OpenCC:
    # Built lazily on first use, never at import time.
    return opencc.OpenCC("t2s")


# OpenCC converters are not documented as thread-safe; serialise calls.
_T2S_LOCK = threading.Lock()


def _convert_t2s(text: str) -> str:
    with _T2S_LOCK:
        return str(_t2s().convert(text))


@cache
def _fold_char(ch: str) -> str:
    """Fold one original character: drop invisibles, NFKC, dingbat digits, ASCII lower-case."""
    if ch in _INVISIBLE or "\ud800" <= ch <= "\udfff":
        # Lone surrogates (from surrogateescape decoding) carry no text and cannot be passed to OpenCC.
        return ""
    folded = unicodedata.normalize("NFKC", ch)
    if folded == ch and unicodedata.category(ch) == "No":
        # NFKC leaves dingbat circled digits (⓿ ➃ ❸ …) alone; use their numeric value.
        value = unicodedata.numeric(ch, -1.0)
        if value >= 0 and value == int(value):
            folded = str(int(value))
    if folded.isascii():
        folded = folded.lower()
    return folded


class _FoldTable(dict[int, str]):
    """``str.translate`` table of the one-to-one folds, filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def _char_class(codes: list[int]) -> str:
    """A regex character class body for the sorted code points ``codes``, as ranges."""
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = chr(codes[i]), chr(codes[j])
        parts.append(re.escape(lo) if i == j else f"{re.escape(lo)}-{re.escape(hi)}")
        i = j + 1
    return "".join(parts)


def _may_fold_irregularly(ch: str) -> bool:
    # NFKC changes a lone character only if it has a decomposition; dingbat digits (No) may become "10".
    if ch in _INVISIBLE or unicodedata.decomposition(ch) or unicodedata.category(ch) == "No":
        return len(_fold_char(ch)) != 1
    return False


# Outside the Basic Multilingual Plane a regex class of exact code points compiles to a slow range list, so
# these planes are handled coarsely: plane 1 (emoji, historic scripts, mathematical letters) may fold
# irregularly and is removed from the skeleton once folded; planes 2 and 3 (CJK extensions) are content;
# planes 4 to 16 (tags, private use, unassigned) are removed.
_ASTRAL_IRREGULAR = "\U00010000-\U0001ffff"
_ASTRAL_REMOVED = "\U00010000-\U0001ffff\U00040000-\U0010ffff"


@cache
def _irregular() -> re.Pattern[str]:
    """Splits text around runs of characters whose fold may not be exactly one character (dropped, or
    expanded like ⑸ → "(5)")."""
    codes = [c for c in range(0x10000) if 0xD800 <= c <= 0xDFFF or _may_fold_irregularly(chr(c))]
    return re.compile(f"([{_char_class(codes)}{_ASTRAL_IRREGULAR}]+)")


@cache
def _removed_split() -> re.Pattern[str]:
    """Splits folded text into content and runs of removed characters (categories Z*, P*, S*, C*)."""
    codes = [c for c in range(0x10000) if unicodedata.category(chr(c))[0] in _REMOVED_CATEGORIES]
    return re.compile(f"([{_char_class(codes)}{_ASTRAL_REMOVED}]+)")


class _NonUnitTable(dict[int, str]):
    """``str.translate`` table keeping only the characters whose fold is not exactly one character."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = "" if len(_fold_char(ch)) == 1 else ch
        self[code] = value
        return value


_NON_UNIT_TABLE = _NonUnitTable()


def _fold(text: str) -> tuple[str, OffsetMap]:
    """Fold every character (see `_fold_char`); the map gives each folded character's original index."""
    parts = _irregular().split(text)
    if len(parts) == 1:
        return text.translate(_FOLD_TABLE), OffsetMap.identity(len(text))
    # parts alternate: regular run, possibly irregular run, regular run, ...
    pieces: list[str] = []
    lengths: list[int] = []
    origins: list[int] = []
    widths: list[int] = []
    position = 0
    for k, part in enumerate(parts):
        if k % 2 == 0 or not part.translate(_NON_UNIT_TABLE):
            pieces.append(part.translate(_FOLD_TABLE))
            lengths.append(len(part))
            origins.append(position)
            widths.append(1)
        else:
            for offset, ch in enumerate(part):
                folded = _fold_char(ch)
                if folded:
                    pieces.append(folded)
                    lengths.append(len(folded))
                    origins.append(position + offset)
                    widths.append(len(folded))
        position += len(part)
    return "".join(pieces), OffsetMap.from_pieces(lengths, origins, widths)


@cache
def traditional_characters() -> frozenset[str]:
    """Characters that OpenCC t2s converts on their own (found by converting every CJK character once)."""
    chars = [chr(c) for lo, hi in _CJK_BLOCKS for c in range(lo, hi)]
    with _T2S_LOCK:
        converted = str(_t2s().convert("\n".join(chars))).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - OpenCC keeps line breaks
        raise RuntimeError("OpenCC changed the number of lines")
    return frozenset(c for c, t in zip(chars, converted, strict=True) if c != t)


@cache
def _traditional_bmp() -> re.Pattern[str]:
    return re.compile(f"[{_char_class(sorted(ord(c) for c in traditional_characters() if ord(c) < 0x10000))}]")


def _has_traditional(folded: str) -> bool:
    """Whether t2s has anything to convert: some character of ``folded`` is traditional on its own. (A text
    without one is left as it is, so phrase-only conversions of simplified text never happen.)"""
    if _traditional_bmp().search(folded):
        return True
    if _ASTRAL.search(folded):
        traditional = traditional_characters()
        return any(ch in traditional for ch in folded if ch >= "\U00010000")
    return False


def _t2s_with_map(folded: str, fmap: OffsetMap) -> tuple[str, OffsetMap]:
    """Apply t2s, keeping the offset map exact.

    Whole-text conversion is used when it preserves length (the normal case: t2s maps characters one to one).
    Otherwise each line is converted on its own, and a line whose length still changes is converted character
    by character, every output character inheriting its source character's original index.
    """
    if not _has_traditional(folded):
        return folded, fmap
    converted = _convert_t2s(folded)
    if len(converted) == len(folded):
        return converted, fmap
    out: list[str] = []
    out_map: list[int] = []
    pos = 0
    for line in folded.splitlines(keepends=True):
        line_map = fmap[pos : pos + len(line)]
        pos += len(line)
        conv = _convert_t2s(line)
        if len(conv) == len(line):
            out.append(conv)
            out_map.extend(line_map)
            continue
        for ch, idx in zip(line, line_map, strict=True):
            piece = _convert_t2s(ch)
            out.append(piece)
            out_map.extend([idx] * len(piece))
    return "".join(out), OffsetMap.from_indices(out_map)


def _map_number_runs(folded: str) -> str:
    """Map Chinese and phone-speak digits to ASCII inside number-like runs; length is preserved."""
    if not _HAS_CN_DIGIT.search(folded):
        return folded
    return _NUMBER_RUN.sub(lambda m: m.group().translate(_CN_DIGIT_TABLE), folded)


def _skeleton(folded: str) -> tuple[str, OffsetMap]:
    """Remove non-content characters; the map gives each skeleton character's index in ``folded``."""
    parts = _removed_split().split(folded)
    if len(parts) == 1:
        return folded, OffsetMap.identity(len(folded))
    kept = parts[0::2]
    offsets = [0, *accumulate(map(len, parts))]
    lengths = list(map(len, kept))
    return "".join(kept), OffsetMap.from_pieces(lengths, offsets[0::2][: len(kept)], [1] * len(kept))


@cache
def reading(ch: str) -> str:
    """Toneless pinyin of one Chinese character (its most common reading); other characters stand for themselves.

    pypinyin is imported on first use; ü is written ``v`` (绿 → "lv"), as people type it.
    """
    from pypinyin import Style, lazy_pinyin

    if not _CJK_RUN.fullmatch(ch):
        return ch
    found = lazy_pinyin(ch, style=Style.NORMAL, errors=lambda chars: [chars])
    value = found[0] if found else ch
    return value if value.isascii() and value.isalpha() else ch


def _render_regions(
    skeleton: str, latin_runs: list[tuple[int, int]] | None = None
) -> tuple[str, OffsetMap, str, OffsetMap]:
    """The pinyin and initials views (and their maps into the skeleton) of the skeleton's mixed-script regions
    (``latin_runs``: the spans of `_LATIN_RUN` in the skeleton, when already known)."""
    regions: list[tuple[int, int]] = []
    if latin_runs is None:
        latin_runs = [m.span() for m in _LATIN_RUN.finditer(skeleton)]
    for run_start, run_end in latin_runs:
        start, end = max(0, run_start - PINYIN_CONTEXT), min(len(skeleton), run_end + PINYIN_CONTEXT)
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    if not regions:
        return "", OffsetMap.identity(0), "", OffsetMap.identity(0)

    pinyin: list[str] = []
    initials: list[str] = []
    p_lengths: list[int] = []
    i_lengths: list[int] = []
    widths: list[int] = []
    origins: list[int] = []

    def add_other(piece: str, origin: int) -> None:
        pinyin.append(piece)
        initials.append(piece)
        p_lengths.append(len(piece))
        i_lengths.append(len(piece))
        widths.append(1)
        origins.append(origin)

    for number, (start, end) in enumerate(regions):
        if number:
            add_other(_REGION_SEPARATOR, start)
        position = start
        for m in _CJK_RUN.finditer(skeleton, start, end):
            if m.start() > position:
                add_other(skeleton[position : m.start()], position)
            syllables = list(map(reading, m.group()))
            lengths = list(map(len, syllables))
            pinyin.extend(syllables)
            initials.extend(map(itemgetter(0), syllables))
            p_lengths.extend(lengths)
            i_lengths.extend([1] * len(syllables))
            widths.extend(lengths)
            origins.extend(range(m.start(), m.end()))
            position = m.end()
        if position < end:
            add_other(skeleton[position:end], position)
    return (
        "".join(pinyin),
        OffsetMap.from_pieces(p_lengths, origins, widths),
        "".join(initials),
        OffsetMap.from_pieces(i_lengths, origins, [1] * len(origins)),
    )


def normalise(text: str) -> NormalisedText:
    """Build the skeleton, digits, pinyin and initials views of ``text`` with offset maps back to it.

    Uses the numpy implementation when numpy is installed, the pure-Python one otherwise; both build the same
    views and maps (the tests compare them)."""
    tables = _numpy_tables()
    if tables is not None:
        result = _normalise_numpy(text, tables)
        if result is not None:
            return result
    return normalise_python(text)


def normalise_python(text: str) -> NormalisedText:
    """The pure-Python implementation: C-speed string operations with segment offset maps."""
    folded, fold_map = _fold(text)
    folded, fold_map = _t2s_with_map(folded, fold_map)
    digits = _map_number_runs(folded)
    skeleton, skeleton_to_folded = _skeleton(folded)
    return _with_pinyin(text, skeleton, skeleton_to_folded.compose(fold_map), digits, fold_map)


def _with_pinyin(
    text: str,
    skeleton: str,
    skeleton_map: OffsetMap,
    digits: str,
    digits_map: OffsetMap,
    latin_runs: list[tuple[int, int]] | None = None,
) -> NormalisedText:
    pinyin, pinyin_map, initials, initials_map = _render_regions(skeleton, latin_runs)
    return NormalisedText(
        original=text,
        skeleton=skeleton,
        skeleton_map=skeleton_map,
        digits=digits,
        digits_map=digits_map,
        pinyin=pinyin,
        pinyin_map=pinyin_map,
        initials=initials,
        initials_map=initials_map,
    )


@dataclass(frozen=True, slots=True)
class _Tables:
    """Per-code-point lookup tables of the numpy implementation (index: code point)."""

    np: Any  # the numpy module
    fold: Any  # uint32: the folded character, where the fold is one character
    length: Any  # uint8: length of the fold (0: dropped, 1, or more: expanded like ⑸)
    removed: Any  # bool: not in the skeleton
    traditional: Any  # bool: t2s converts it on its own


@cache
def _numpy_tables() -> _Tables | None:
    """Build the tables once (about half a second); None when numpy is not installed."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is installed in development and CI
        return None
    size = sys.maxunicode + 1
    fold = np.arange(size, dtype=np.uint32)
    length = np.ones(size, dtype=np.uint8)
    removed = np.zeros(size, dtype=bool)
    for code in range(size):
        ch = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            length[code] = 0
            continue
        if code < 0x10000 and unicodedata.category(ch)[0] in _REMOVED_CATEGORIES:
            removed[code] = True
        if ch in _INVISIBLE or unicodedata.decomposition(ch) or ("A" <= ch <= "Z") or unicodedata.category(ch) == "No":
            folded = _fold_char(ch)
            if len(folded) == 1:
                fold[code] = ord(folded)
            else:
                length[code] = len(folded)
    removed[0x10000:0x20000] = True
    removed[0x40000:] = True
    traditional = np.zeros(size, dtype=bool)
    traditional[[ord(c) for c in traditional_characters()]] = True
    return _Tables(np, fold, length, removed, traditional)


@cache
def _folder() -> Folder:
    """The compiled per-character passes (`keywords._fold`) over the numpy tables."""
    tables = _numpy_tables()
    assert tables is not None
    chinese, values = "".join(_CN_DIGITS), "".join(_CN_DIGITS.values())
    return Folder(tables.fold, tables.length, tables.removed, tables.traditional, chinese, values, _SEPARATORS)


def _normalise_numpy(text: str, tables: _Tables) -> NormalisedText | None:
    """The numpy implementation; None when t2s changes the text's length (then the Python one takes over).
    The compiled passes of `_folder` do the work unless some character expands into several (⑸ → "(5)")."""
    np = tables.np
    folder = _folder()
    found = folder.fold(text)
    if found is not None:
        folded_text, index, traditional = found
        if traditional:
            converted = _convert_t2s(folded_text)
            if len(converted) != len(folded_text):
                return None
            folded_text = converted
        skeleton, kept, latin_runs = folder.skeleton(folded_text, index)
        fold_map = (
            OffsetMap.identity(len(folded_text))
            if index is None
            else OffsetMap.from_array(np.frombuffer(index, dtype=np.int64))
        )
        digits = folder.number_runs(folded_text)
        skeleton_map = OffsetMap.from_array(np.frombuffer(kept, dtype=np.int64))
        return _with_pinyin(text, skeleton, skeleton_map, digits, fold_map, latin_runs)
    np = tables.np
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = tables.length[codes]
    folded = tables.fold[codes]
    fold_index = None  # identity
    if not (lengths == 1).all():
        fold_index = np.repeat(np.arange(len(codes), dtype=np.int64), lengths)
        folded = np.repeat(folded, lengths)
        expanded = np.flatnonzero(lengths > 1)
        if len(expanded):
            starts = np.cumsum(lengths, dtype=np.int64)[expanded] - lengths[expanded]
            expanded_codes = codes[expanded]
            for code in set(expanded_codes.tolist()):
                where = starts[expanded_codes == code]
                for offset, ch in enumerate(_fold_char(chr(code))):
                    folded[where + offset] = ord(ch)
    folded_text = folded.tobytes().decode("utf-32-le")
    if tables.traditional[folded].any():
        converted = _convert_t2s(folded_text)
        if len(converted) != len(folded_text):
            return None
        folded_text = converted
        folded = np.frombuffer(converted.encode("utf-32-le"), dtype=np.uint32)
    keep = np.flatnonzero(~tables.removed[folded])
    skeleton = folded[keep].tobytes().decode("utf-32-le")
    if fold_index is None:
        fold_map = OffsetMap.identity(len(folded_text))
        skeleton_map = OffsetMap.from_array(keep)
    else:
        fold_map = OffsetMap.from_array(fold_index)
        skeleton_map = OffsetMap.from_array(fold_index[keep])
    return _with_pinyin(text, skeleton, skeleton_map, _map_number_runs(folded_text), fold_map)


def fold_term(term: str) -> str:
    """The skeleton of a lexicon term, folded exactly as page text is (empty if nothing matchable remains)."""
    return normalise(term).skeleton


# At most this many spellings of one term are generated from its characters' alternative readings.
_MAX_FORMS = 16


def _readings_of(ch: str) -> list[str]:
    """Every toneless reading of one character (heteronyms expanded); the common one first."""
    from pypinyin import Style, pinyin

    if not _CJK_RUN.fullmatch(ch):
        return [ch]
    common = reading(ch)
    alternatives = [r for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0] if r.isascii() and r.isalpha()]
    return [common, *(r for r in dict.fromkeys(alternatives) if r != common)]


def pinyin_forms(key: str) -> tuple[str, ...]:
    """The pinyin spellings of a folded term (its skeleton): common readings first, heteronyms expanded up
    to `_MAX_FORMS` spellings. Characters without a reading stand for themselves."""
    forms = [""]
    for ch in key:
        forms = [f + r for f in forms for r in _readings_of(ch)][:_MAX_FORMS]
    return tuple(dict.fromkeys(forms))


def initials_forms(key: str) -> tuple[str, ...]:
    """The initials spellings of a folded term ("代挂号" → "dgh"), heteronyms expanded like `pinyin_forms`."""
    forms = [""]
    for ch in key:
        firsts = list(dict.fromkeys(r[0] for r in _readings_of(ch)))
        forms = [f + r for f in forms for r in firsts][:_MAX_FORMS]
    return tuple(dict.fromkeys(forms))


def has_reading(key: str) -> bool:
    """Whether a folded term contains at least one Chinese character with a pinyin reading."""
    return any(_CJK_RUN.fullmatch(ch) and reading(ch) != ch for ch in key)
