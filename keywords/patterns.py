"""Regular-expression rules from ``patterns.tsv`` (document numbers, "+V", prices) applied to a page.

Patterns complement the term automaton where a fixed string cannot express the signal. They run on the digits
view, which keeps separators, so a rule can see brackets, plus signs and digit groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from keywords.lexicon import PatternRule
    from keywords.normalisation import NormalisedText

__all__ = ["PatternMatch", "find_patterns"]


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """One regex rule hit; ``start``/``end`` index the original text."""

    rule: PatternRule
    start: int
    end: int


def find_patterns(rules: Iterable[PatternRule], text: NormalisedText) -> list[PatternMatch]:
    """Every non-empty match of every rule, sorted by original position."""
    found: list[PatternMatch] = []
    for rule in rules:
        for m in rule.regex.finditer(text.digits):
            if m.end() > m.start():
                start, end = text.digits_span(m.start(), m.end())
                found.append(PatternMatch(rule=rule, start=start, end=end))
    found.sort(key=lambda p: (p.start, p.end, p.rule.rule_id))
    return found
