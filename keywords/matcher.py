"""Lexicon term matching: one Aho-Corasick automaton over every term and structure cue, run once over a page's
skeleton view, and two small automata over the pinyin and initials views for the terms flagged ``pinyin`` or
``initials``. Every automaton pass is linear in its view; all filtering below is per match. Structure cues
(`keywords.lexicon.StructureCue`) pass rules 2 and 3 and are returned as they are; the cues of "absent"
structure kinds (medical words) have their own automaton, which stops at the first one found
(`Matcher.first_absent_cue`).

Pinyin matches (in the mixed-script regions of `keywords.normalisation`) count only when they

* contain at least one Latin letter of the page (an all-Chinese span is the skeleton automaton's business, and
  its pinyin may be an innocent homophone),
* start and end on syllable boundaries: a Chinese character's reading is taken whole, and a Latin edge must
  not touch another Latin letter in the original text ("daiguahao" counts in "找daiguahao!" but not in
  "xdaiguahao").

Initials matches count only when the match is a whole ASCII token of the original text: "dgh" in "找dgh私聊",
not in "dgh_2024" or "adghz". Both are then filtered like skeleton matches (rules 3 and 4 below) and report
the term's own rule id: "代guahao" is ``service.代挂号``.

Raw automaton hits are filtered in this order:

1. a term flagged ``boundary`` must sit on jieba token boundaries (`keywords.tokenizer`);
2. a term with an ASCII letter at an edge must not touch another ASCII letter there in the original text
   ("vx" counts in "vx:abc123" and "vx13812345678", not in "vxworks"; "加v" not in "加vip");
3. a match must not straddle a sentence break (comma, full stop, colon, newline, …) while other characters
   of it are adjacent: "陪诊，服务费" is not 陪诊服务 and "一键预约\n专家号" is not 预约专家号, but the evenly
   spaced evasion "代，挂，号" still is 代挂号;
4. a match fully contained in a longer surviving match is dropped (加号 inside 加号费, 黄牛 inside 黄牛号).

Overlapping but not nested matches are both kept.

Negation: a positive match is returned with ``negated=True`` when

* a negator from ``negation.txt`` directly precedes it, optionally followed by one verb from
  ``negation_verbs.txt`` and then by 任何/一切 ("不代挂号", "不转卖号源", "禁止发布任何代挂号广告"), or
* it continues an enumeration whose previous item was negated: only enumeration marks (、 / 和 及 或 与 以及,
  spaces) stand between it and the previous positive match, and that match was negated ("禁止发布代挂号、专家号、
  加号广告"). A comma or any other word ends the enumeration: in "不代挂号，专家号当天可挂" 专家号 stands.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ahocorasick
import numpy as np

from keywords._automaton import DenseAutomaton, table_size
from keywords.lexicon import CONTEXT_GROUP, Lexicon, StructureCue, Term
from keywords.offsets import OffsetMap

if TYPE_CHECKING:
    from keywords.normalisation import NormalisedText
    from keywords.tokenizer import TermTokenizer

__all__ = ["CueMatch", "Matcher", "Scan", "TermMatch"]

# Words allowed between a negator and the term it negates ("不提供任何代挂号服务").
_NEGATION_FILLERS = ("任何", "一切")
# How far back (in skeleton characters) a negator is looked for.
_NEGATION_LOOKBACK = 10
# What may separate the items of a negated enumeration (original text between two matches).
_ENUMERATION_GAP = re.compile(r"(?:[\s、/／]|以及|和|及|或|与)*")
# Characters that end a clause; see rule 3 of the module docstring.
_BREAKS = frozenset(",，.。;；!！?？、:：|｜\n\r")


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A lexicon term found in a page. ``start``/``end`` index the original text."""

    term: Term
    start: int
    end: int
    negated: bool


@dataclass(frozen=True, slots=True)
class CueMatch:
    """A structure cue found in a page; ``start``/``end`` index the original text."""

    cue: StructureCue
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything the automata found in one page."""

    terms: list[TermMatch]
    cues: list[CueMatch]


def _straddles_break(text: NormalisedText, start: int, end: int) -> bool:
    """Rule 3: some neighbouring characters are adjacent, others are separated by a clause break."""
    skeleton_map = text.skeleton_map
    return _straddles_break_at(text, start, end, skeleton_map[start], skeleton_map[end - 1])


def _straddles_break_at(text: NormalisedText, start: int, end: int, first: int, last: int) -> bool:
    """`_straddles_break` given the original indices of the span's first and last characters."""
    if last - first == end - 1 - start:
        return False  # one contiguous run of the original: nothing in between
    indices = text.skeleton_map[start:end]
    adjacent = broken = False
    for a, b in itertools.pairwise(indices):
        if b <= a + 1:
            adjacent = True
        elif not _BREAKS.isdisjoint(text.original[a + 1 : b]):
            broken = True
    return adjacent and broken


def _continues_negated_enumeration(original: str, previous: TermMatch | None, start: int) -> bool:
    """Second negation rule: the previous positive match was negated and only enumeration marks lie between."""
    if previous is None or not previous.negated:
        return False
    return _ENUMERATION_GAP.fullmatch(original, previous.end, max(previous.end, start)) is not None


def _ascii_edge(key: str) -> bool:
    return key[0].isascii() or key[-1].isascii()


def _is_ascii_letter(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return len(folded) == 1 and folded.isascii() and folded.isalpha()


def _is_cjk(ch: str) -> bool:
    return bool(ch) and ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch >= "\U00020000")


def _is_token_char(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return len(folded) == 1 and folded.isascii() and (folded.isalnum() or folded in "_-")


_INT64 = np.dtype(np.int64)
#: Up to this many keys the term automaton walks UTF-8 bytes; a larger lexicon walks characters.
BYTE_AUTOMATON_MAX_KEYS = 20_000
#: Largest transition table (bytes) of the dense automaton; a lexicon that needs more uses pyahocorasick.
DENSE_AUTOMATON_MAX_BYTES = 32_000_000


class _TermAutomaton:
    """An Aho-Corasick automaton over a page's skeleton, reporting character positions.

    A lexicon whose transition table fits in `DENSE_AUTOMATON_MAX_BYTES` (the shipped one needs a few MB) is
    matched by ``keywords._automaton.DenseAutomaton``: compiled, every failure link resolved in advance, one
    class lookup and one table load per character. A larger one falls back to pyahocorasick, which walks a
    text at a speed that falls with the number of distinct characters that start a key: a lexicon of Chinese
    terms starts with hundreds of them. Over UTF-8 bytes every Chinese character starts with one of a handful
    of lead bytes, and the same scan runs markedly faster -- but the trie has a node per byte, about three
    times as many. So up to `BYTE_AUTOMATON_MAX_KEYS` keys pyahocorasick walks bytes (carried in a latin-1
    string, match ends mapped back to character indices incrementally), and a larger lexicon walks characters
    (memory: 100,000 terms stay well under 200 MB). All three give the same matches in the same order.
    """

    def __init__(self, keys: dict[str, object]) -> None:
        self._dense: DenseAutomaton | None = None
        self._bytes = len(keys) <= BYTE_AUTOMATON_MAX_KEYS
        if self._bytes and table_size(list(keys)) <= DENSE_AUTOMATON_MAX_BYTES:
            self._dense = DenseAutomaton(list(keys), list(keys.values()))
            return
        self._automaton = ahocorasick.Automaton()
        for key, value in keys.items():
            self._automaton.add_word(key.encode("utf-8").decode("latin-1") if self._bytes else key, value)
        self._automaton.make_automaton()

    def findall(self, text: str) -> list[tuple[int, Any]]:
        """``(index of the match's last character in text, value)`` for every match, in order of their ends."""
        if self._dense is not None:
            return self._dense.findall(text)  # type: ignore[no-any-return]
        return list(self.iter(text))

    def findall_mapped(self, text: str, offsets: OffsetMap) -> list[tuple[int, Any, int, int]]:
        """`findall` with ``offsets[first]`` and ``offsets[last]`` of every match (first: its first character,
        from the value's key length at index 2); the dense automaton reads them from an array-backed map."""
        array = offsets.array
        if self._dense is not None and array is not None and array.dtype == _INT64 and array.flags.c_contiguous:
            return self._dense.findall_mapped(text, array)  # type: ignore[no-any-return]
        hits = self.findall(text)
        firsts = offsets.take([last - value[2] + 1 for last, value in hits])
        lasts = offsets.take([last for last, _ in hits])
        return [
            (last, value, first, orig_last) for (last, value), first, orig_last in zip(hits, firsts, lasts, strict=True)
        ]

    def first(self, text: str) -> tuple[int, Any] | None:
        """The first of `findall`, found without scanning further."""
        if self._dense is not None:
            return self._dense.first(text)  # type: ignore[no-any-return]
        return next(self.iter(text), None)

    def iter(self, text: str) -> Iterator[tuple[int, Any]]:
        """`findall` as an iterator."""
        if self._dense is not None:
            yield from self._dense.findall(text)
            return
        if not self._bytes:
            yield from self._automaton.iter(text)
            return
        data = text.encode("utf-8", "surrogatepass")
        if len(data) == len(text):  # ASCII: bytes and characters coincide
            yield from self._automaton.iter(data.decode("latin-1"))
            return
        done_bytes = 0
        done_chars = 0
        for last, value in self._automaton.iter(data.decode("latin-1")):
            end = last + 1
            if end > done_bytes:
                done_chars += len(data[done_bytes:end].decode("utf-8", "surrogatepass"))
                done_bytes = end
            yield done_chars - 1, value


def _automaton(keys: dict[str, int]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, value in keys.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


class Matcher:
    """Finds lexicon terms and structure cues in normalised text."""

    def __init__(self, lexicon: Lexicon, tokenizer: TermTokenizer) -> None:
        self._tokenizer = tokenizer
        self._terms = lexicon.terms
        # Cues of "absent" kinds (medical words) only need to be found once: their own first-hit automaton.
        absent = {k.kind for k in lexicon.structure_kinds if k.absent}
        self._cues = tuple(c for c in lexicon.structure_cues if c.key and c.kind not in absent)
        self._absent_cues = tuple(c for c in lexicon.structure_cues if c.key and c.kind in absent)
        self._absent = (
            _TermAutomaton({c.key: i for i, c in enumerate(self._absent_cues)}) if self._absent_cues else None
        )
        # skeleton key -> (term index or -1, cue indices, key length, key, whether an edge of the key is ASCII);
        # a key may be both a term and a cue ("记者")
        entries: dict[str, tuple[int, tuple[int, ...], int, str, bool]] = {}
        for index, term in enumerate(self._terms):
            entries[term.key] = (index, (), len(term.key), term.key, _ascii_edge(term.key))
        for index, cue in enumerate(self._cues):
            term_index, cue_indices, *rest = entries.get(cue.key, (-1, (), len(cue.key), cue.key, _ascii_edge(cue.key)))
            entries[cue.key] = (term_index, (*cue_indices, index), *rest)  # type: ignore[assignment]
        self._automaton = _TermAutomaton(dict(entries))
        self._pinyin = _automaton({k: i for i, t in enumerate(self._terms) for k in t.pinyin})
        self._initials = _automaton({k: i for i, t in enumerate(self._terms) for k in t.initials})
        alternatives = sorted(lexicon.negators, key=len, reverse=True)
        verbs = sorted(lexicon.negation_verbs, key=len, reverse=True)
        verb_part = "(?:" + "|".join(map(re.escape, verbs)) + ")?" if verbs else ""
        fillers = "|".join(_NEGATION_FILLERS)
        self._negator_chars = frozenset("".join(alternatives))
        self._negated_before = (
            re.compile("(?:" + "|".join(map(re.escape, alternatives)) + f"){verb_part}(?:{fillers})?$")
            if alternatives
            else None
        )

    @property
    def terms(self) -> tuple[Term, ...]:
        return self._terms

    def find(self, text: NormalisedText) -> list[TermMatch]:
        """All surviving term matches, sorted by original start (then longest first)."""
        return self.scan(text).terms

    def scan(self, text: NormalisedText) -> Scan:
        """Term matches (see `find`) and structure cue matches, in one pass of each automaton."""
        skeleton = text.skeleton
        original = text.original
        spans: list[tuple[int, int, Term, int, int]] = []
        cues: list[CueMatch] = []
        # with the original indices of every match's first and last character
        for last, (
            term_index,
            cue_indices,
            length,
            key,
            ascii_edge,
        ), orig_first, orig_last in self._automaton.findall_mapped(skeleton, text.skeleton_map):
            start = last - length + 1
            end = last + 1
            if ascii_edge and not _ascii_edges_ok_at(original, key, orig_first, orig_last):
                continue
            # (a match that is one contiguous run of the original straddles nothing: no call needed)
            if orig_last - orig_first != length - 1 and _straddles_break_at(text, start, end, orig_first, orig_last):
                continue
            orig_end = orig_last + 1
            if cue_indices:
                cues.extend(CueMatch(self._cues[i], orig_first, orig_end) for i in cue_indices)
            if term_index < 0:
                continue
            term = self._terms[term_index]
            # The jieba check is the expensive one: last.
            if term.boundary and not self._on_token_boundaries_at(text, start, end, orig_first, orig_end):
                continue
            spans.append((start, end, term, orig_first, orig_end))
        spans.extend(self._pinyin_spans(text))
        spans.extend(self._initials_spans(text))
        return Scan(terms=self._resolve(text, spans), cues=cues)

    def first_absent_cue(self, text: NormalisedText) -> CueMatch | None:
        """The first cue of an "absent" structure kind in the skeleton (the automaton stops there), or None."""
        if self._absent is None:
            return None
        found = self._absent.first(text.skeleton)
        if found is None:
            return None
        last, index = found
        cue = self._absent_cues[index]
        start, end = text.skeleton_span(last + 1 - len(cue.key), last + 1)
        return CueMatch(cue, start, end)

    def _resolve(self, text: NormalisedText, spans: list[tuple[int, int, Term, int, int]]) -> list[TermMatch]:
        """Rule 4 (nesting) and negation over skeleton spans."""
        skeleton = text.skeleton
        spans.sort(key=lambda s: (s[0], -s[1]))
        matches: list[TermMatch] = []
        max_end = -1
        previous: TermMatch | None = None  # the previous positive match
        for start, end, term, orig_start, orig_end in spans:
            if end <= max_end:
                continue  # nested in an earlier, longer match
            max_end = end
            negated = False
            if term.group != CONTEXT_GROUP:
                negated = self._is_negated(skeleton, start) or _continues_negated_enumeration(
                    text.original, previous, orig_start
                )
            match = TermMatch(term=term, start=orig_start, end=orig_end, negated=negated)
            matches.append(match)
            if term.group != CONTEXT_GROUP:
                previous = match
        return matches

    def _on_token_boundaries(self, text: NormalisedText, start: int, end: int) -> bool:
        """jieba's verdict, skipped when no Chinese character touches either edge of the match in the original
        (jieba never joins a token across punctuation, spaces or Latin letters)."""
        return self._on_token_boundaries_at(text, start, end, *text.skeleton_span(start, end))

    def _on_token_boundaries_at(
        self, text: NormalisedText, start: int, end: int, orig_start: int, orig_end: int
    ) -> bool:
        """`_on_token_boundaries` given the original span of the match."""
        original = text.original
        before = original[orig_start - 1] if orig_start > 0 else ""
        after = original[orig_end] if orig_end < len(original) else ""
        if not _is_cjk(before) and not _is_cjk(after):
            return True
        return self._tokenizer.is_token_span(text.skeleton, start, end)

    def _pinyin_spans(self, text: NormalisedText) -> list[tuple[int, int, Term, int, int]]:
        """Skeleton spans of pinyin matches that pass the rules of the module docstring."""
        if self._pinyin is None or not text.pinyin:
            return []
        view, view_map, skeleton = text.pinyin, text.pinyin_map, text.skeleton
        found: list[tuple[int, int, Term, int, int]] = []
        for last, index in self._pinyin.iter(view):
            term = self._terms[index]
            length = next(len(k) for k in term.pinyin if view.endswith(k, 0, last + 1))
            p_start, p_end = last + 1 - length, last + 1
            start, end = view_map[p_start], view_map[p_end - 1] + 1
            # syllables are taken whole: the match may not begin or end inside one character's reading
            if p_start > 0 and view_map[p_start - 1] == start and not skeleton[start].isascii():
                continue
            if p_end < len(view) and view_map[p_end] == end - 1 and not skeleton[end - 1].isascii():
                continue
            if not any(ch.isascii() and ch.isalpha() for ch in skeleton[start:end]):
                continue
            if not self._ascii_edges_ok(text, skeleton[start:end], start, end) or _straddles_break(text, start, end):
                continue
            found.append((start, end, term, *text.skeleton_span(start, end)))
        return found

    def _initials_spans(self, text: NormalisedText) -> list[tuple[int, int, Term, int, int]]:
        """Skeleton spans of initials matches that are whole ASCII tokens of the original text."""
        if self._initials is None or not text.initials:
            return []
        view, view_map, skeleton, original = text.initials, text.initials_map, text.skeleton, text.original
        found: list[tuple[int, int, Term, int, int]] = []
        for last, index in self._initials.iter(view):
            term = self._terms[index]
            length = len(term.initials[0])
            start, end = view_map[last + 1 - length], view_map[last] + 1
            if end - start != length or not skeleton[start:end].isascii():
                continue
            orig_start, orig_end = text.skeleton_span(start, end)
            if orig_end - orig_start != length:
                continue  # "d g h" or "d-g-h" is not a token
            if (orig_start > 0 and _is_token_char(original[orig_start - 1])) or (
                orig_end < len(original) and _is_token_char(original[orig_end])
            ):
                continue
            found.append((start, end, term, orig_start, orig_end))
        return found

    def _is_negated(self, skeleton: str, start: int) -> bool:
        if self._negated_before is None or start == 0:
            return False
        lo = max(0, start - _NEGATION_LOOKBACK)
        if self._negator_chars.isdisjoint(skeleton[lo:start]):
            return False  # no negator can end in this window: skip the regex
        return self._negated_before.search(skeleton, lo, start) is not None

    @staticmethod
    def _ascii_edges_ok(text: NormalisedText, key: str, start: int, end: int) -> bool:
        return _ascii_edges_ok_at(text.original, key, text.skeleton_map[start], text.skeleton_map[end - 1])


def _ascii_edges_ok_at(original: str, key: str, first: int, last: int) -> bool:
    """No ASCII letter of the original touches an ASCII-letter edge of the match (original indices of its first
    and last character)."""
    if key[0].isascii() and key[0].isalpha():
        before = first - 1
        if before >= 0 and _is_ascii_letter(original[before]):
            return False
    if key[-1].isascii() and key[-1].isalpha():
        after = last + 1
        if after < len(original) and _is_ascii_letter(original[after]):
            return False
    return True
