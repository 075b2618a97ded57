"""Text normalisation for matching: the skeleton and digits views of a page, each with an offset map.

Scalpers evade keyword filters with full-width letters, circled digits, zero-width characters, traditional
characters, symbols between characters ("代@挂#号") and digits spelled in Chinese ("幺三八"). This module owns
the folding that undoes those tricks while remembering, for every character of every view, which character of
the original text it came from, so that evidence can be highlighted in the original.

Views (see `NormalisedText`):

* ``skeleton`` -- for term matching. Per character: zero-width/bidi characters and lone surrogates dropped,
  NFKC (full-width to half-width, circled/super/subscript digits to ASCII; dingbat circled digits that NFKC
  leaves alone are mapped by their Unicode digit value), OpenCC ``t2s`` on the whole text, ASCII lower-cased,
  and every character whose Unicode category is Z*, P*, S* or C* removed (so only letters, marks and numbers
  remain).
* ``digits`` -- for contact extraction. The same folding but separators are kept, and inside runs that look
  like numbers (at least five digit characters, optionally separated by up to three spaces, dashes, dots or
  underscores) Chinese numerals and phone-speak digits (幺=1, 两=2, 拐=7, 洞=0, 勾=9, 壹贰叁…) become ASCII
  digits. 十 is deliberately not a digit: nobody spells a phone number with it, and "二十" would become "210".

A match ``[s, e)`` in a view maps back to the original span ``[map[s], map[e-1] + 1)``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache

import opencc

__all__ = ["NormalisedText", "fold_term", "normalise"]

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
_NUMBER_RUN = re.compile(_DIGIT_CLASS + r"(?:[ \t\r\n\-_.·]{0,3}" + _DIGIT_CLASS + r"){4,}")
_HAS_CN_DIGIT = re.compile("[" + "".join(_CN_DIGITS) + "]")
_CN_DIGIT_TABLE = str.maketrans(_CN_DIGITS)

_REMOVED_CATEGORIES = frozenset("ZPSC")


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The original text plus its folded views; each ``*_map[i]`` is the original index of view char ``i``."""

    original: str
    skeleton: str
    skeleton_map: tuple[int, ...]
    digits: str
    digits_map: tuple[int, ...]

    def skeleton_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the skeleton span ``[start, end)`` (which must be non-empty)."""
        return self.skeleton_map[start], self.skeleton_map[end - 1] + 1

    def digits_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the digits-view span ``[start, end)`` (which must be non-empty)."""
        return self.digits_map[start], self.digits_map[end - 1] + 1


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


@cache
def _is_content(ch: str) -> bool:
    return unicodedata.category(ch)[0] not in _REMOVED_CATEGORIES


def _t2s_with_map(folded: str, fmap: list[int]) -> tuple[str, list[int]]:
    """Apply t2s, keeping the offset map exact.

    Whole-text conversion is used when it preserves length (the normal case: t2s maps characters one to one).
    Otherwise each line is converted on its own, and a line whose length still changes is converted character
    by character, every output character inheriting its source character's original index.
    """
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
    return "".join(out), out_map


def _map_number_runs(folded: str) -> str:
    """Map Chinese and phone-speak digits to ASCII inside number-like runs; length is preserved."""
    if not _HAS_CN_DIGIT.search(folded):
        return folded
    return _NUMBER_RUN.sub(lambda m: m.group().translate(_CN_DIGIT_TABLE), folded)


def normalise(text: str) -> NormalisedText:
    """Build the skeleton and digits views of ``text`` with offset maps back to it."""
    pieces = [_fold_char(ch) for ch in text]
    fmap = [i for i, piece in enumerate(pieces) for _ in piece]
    folded = "".join(pieces)
    folded, fmap = _t2s_with_map(folded, fmap)
    digits = _map_number_runs(folded)
    keep = [j for j, ch in enumerate(folded) if _is_content(ch)]
    skeleton = "".join([folded[j] for j in keep])
    skeleton_map = tuple([fmap[j] for j in keep])
    return NormalisedText(
        original=text,
        skeleton=skeleton,
        skeleton_map=skeleton_map,
        digits=digits,
        digits_map=tuple(fmap),
    )


def fold_term(term: str) -> str:
    """The skeleton of a lexicon term, folded exactly as page text is (empty if nothing matchable remains)."""
    return normalise(term).skeleton
