"""Lexicon term matching: one Aho-Corasick automaton over every term, run once over a page's skeleton view.

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
  spaces) stand between it and the previous positive match, and that match was negated ("禁止发布代挂号、倒号、
  加号广告"). A comma or any other word ends the enumeration: in "不代挂号，专家号当天可挂" 专家号 stands.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ahocorasick

from keywords.lexicon import CONTEXT_GROUP, Lexicon, Term

if TYPE_CHECKING:
    from keywords.normalisation import NormalisedText
    from keywords.tokenizer import TermTokenizer

__all__ = ["Matcher", "TermMatch"]

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


def _straddles_break(text: NormalisedText, start: int, end: int) -> bool:
    """Rule 3: some neighbouring characters are adjacent, others are separated by a clause break."""
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


def _is_ascii_letter(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return len(folded) == 1 and folded.isascii() and folded.isalpha()


class Matcher:
    """Finds lexicon terms in normalised text."""

    def __init__(self, lexicon: Lexicon, tokenizer: TermTokenizer) -> None:
        self._tokenizer = tokenizer
        self._automaton = ahocorasick.Automaton()
        for index, term in enumerate(lexicon.terms):
            self._automaton.add_word(term.key, index)
        self._automaton.make_automaton()
        self._terms = lexicon.terms
        alternatives = sorted(lexicon.negators, key=len, reverse=True)
        verbs = sorted(lexicon.negation_verbs, key=len, reverse=True)
        verb_part = "(?:" + "|".join(map(re.escape, verbs)) + ")?" if verbs else ""
        fillers = "|".join(_NEGATION_FILLERS)
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
        skeleton = text.skeleton
        spans: list[tuple[int, int, Term]] = []
        for last, index in self._automaton.iter(skeleton):
            term = self._terms[index]
            start = last - len(term.key) + 1
            end = last + 1
            if not self._ascii_edges_ok(text, term, start, end) or _straddles_break(text, start, end):
                continue
            # The jieba check is the expensive one: last.
            if term.boundary and not self._tokenizer.is_token_span(skeleton, start, end):
                continue
            spans.append((start, end, term))

        spans.sort(key=lambda s: (s[0], -s[1]))
        matches: list[TermMatch] = []
        max_end = -1
        previous: TermMatch | None = None  # the previous positive match
        for start, end, term in spans:
            if end <= max_end:
                continue  # nested in an earlier, longer match
            max_end = end
            orig_start, orig_end = text.skeleton_span(start, end)
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

    def _is_negated(self, skeleton: str, start: int) -> bool:
        if self._negated_before is None or start == 0:
            return False
        return self._negated_before.search(skeleton, max(0, start - _NEGATION_LOOKBACK), start) is not None

    @staticmethod
    def _ascii_edges_ok(text: NormalisedText, term: Term, start: int, end: int) -> bool:
        original = text.original
        if term.key[0].isascii() and term.key[0].isalpha():
            before = text.skeleton_map[start] - 1
            if before >= 0 and _is_ascii_letter(original[before]):
                return False
        if term.key[-1].isascii() and term.key[-1].isalpha():
            after = text.skeleton_map[end - 1] + 1
            if after < len(original) and _is_ascii_letter(original[after]):
                return False
        return True
