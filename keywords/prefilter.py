"""Which of many regular expressions can match a page at all, decided in one pass over the page.

Most lexicon regexes (``patterns.tsv`` rules, ``re:`` structure cues) need some literal text to match: a
price needs 元 or 块, "+V" needs + or ➕, a news dateline needs 日电. Running each regex over a whole page
costs a full scan of the page even when it cannot match, because a regex that starts with a character class
or a group is tried at every position. This module owns

* `requirements`: what literal text every match of a regex must contain, read from the regex's parse tree:
  a list of *alternative sets*, each a set of strings of which every match contains at least one (the literal
  run 日电; the class [+➕]; the group (?:元|块));
* `RegexGate`: the literals of many regexes in one compiled Aho-Corasick automaton
  (``keywords._automaton.DenseAutomaton``), which finds in one pass which literals a text contains and hence
  which regexes may match; the others need not run. A regex without requirements always runs.

The gate only skips regexes that cannot match, so results are the same with or without it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from keywords._automaton import DenseAutomaton

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["RegexGate", "requirements"]

# A character class is used as a requirement only up to this many characters.
_MAX_CLASS = 16


def requirements(regex: re.Pattern[str]) -> tuple[frozenset[str], ...]:
    """Alternative sets of literals, each of which a match of ``regex`` must meet (contain one of its strings).
    Empty when nothing is known (and always for case-insensitive regexes)."""
    from re import _constants as constants  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]

    if regex.flags & re.IGNORECASE:
        return ()
    repeats = (constants.MAX_REPEAT, constants.MIN_REPEAT)
    found: list[frozenset[str]] = []

    def class_chars(items: list[tuple[object, object]]) -> frozenset[str] | None:
        chars: set[str] = set()
        for op, value in items:
            if op == constants.LITERAL:
                chars.add(chr(value))  # type: ignore[call-overload]
            elif op == constants.RANGE:
                low, high = value  # type: ignore[misc]
                if high - low >= _MAX_CLASS:
                    return None
                chars.update(map(chr, range(low, high + 1)))
            else:  # NEGATE, CATEGORY (\d, \s, ...): not a small set of literals
                return None
        return frozenset(chars) if 0 < len(chars) <= _MAX_CLASS else None

    def longest_run(items: object) -> str:
        best = current = ""
        for op, value in items:  # type: ignore[attr-defined]
            if op == constants.LITERAL:
                current += chr(value)
                best = max(best, current, key=len)
            elif op not in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
                current = ""
        return best

    def single(op: object, value: object) -> frozenset[str] | None:
        """The requirement of one consuming item, when it has one."""
        if op == constants.LITERAL:
            return frozenset(chr(value))  # type: ignore[call-overload]
        if op == constants.IN:
            return class_chars(value)  # type: ignore[arg-type]
        if op in repeats:
            low, _high, sub = value  # type: ignore[misc]
            if low >= 1 and len(sub) == 1:
                return single(*sub[0])
            return None
        if op == constants.BRANCH:
            runs = [longest_run(alternative) for alternative in value[1]]  # type: ignore[index]
            return frozenset(runs) if all(runs) else None
        if op == constants.SUBPATTERN:
            _group, add_flags, _del_flags, sub = value  # type: ignore[misc]
            if add_flags & re.IGNORECASE or len(sub) != 1:
                return None  # a group of several items: its top-level items are walked by `walk` instead
            return single(*sub[0])
        return None

    def walk(items: object) -> None:
        run = ""
        for op, value in items:  # type: ignore[attr-defined]
            if op == constants.LITERAL:
                run += chr(value)
                continue
            if op in (constants.AT, constants.ASSERT, constants.ASSERT_NOT):
                continue  # takes no characters; a literal run goes on across it
            if run:
                found.append(frozenset([run]))
                run = ""
            if op == constants.SUBPATTERN and len(value[-1]) > 1 and not value[1] & re.IGNORECASE:
                walk(value[-1])  # every item of a group that must match is required too
                continue
            requirement = single(op, value)
            if requirement is not None:
                found.append(requirement)
        if run:
            found.append(frozenset([run]))

    walk(parser.parse(regex.pattern, regex.flags))
    return tuple(dict.fromkeys(found))


class RegexGate:
    """One pass over a text tells which of ``regexes`` may match it (see the module docstring)."""

    def __init__(self, regexes: Sequence[re.Pattern[str]]) -> None:
        required = [requirements(regex) for regex in regexes]
        literals = sorted({literal for sets in required for options in sets for literal in options})
        index = {literal: number for number, literal in enumerate(literals)}
        # Per regex, one mask per alternative set. `DenseAutomaton.seen` gives one 0/1 byte per literal, read as
        # a little-endian number: literal i is bit 8 * i.
        self._masks: list[tuple[int, ...]] = [
            tuple(sum(1 << (8 * index[literal]) for literal in options) for options in sets) for sets in required
        ]
        self._automaton = DenseAutomaton(literals, list(range(len(literals))))

    def may_match(self, text: str) -> list[bool]:
        """For each regex, whether ``text`` holds the literals it requires (False: it cannot match)."""
        seen = int.from_bytes(self._automaton.seen(text), "little")
        out: list[bool] = []
        for masks in self._masks:  # plain loops: a generator per regex would cost more than the test
            for mask in masks:
                if not seen & mask:
                    out.append(False)
                    break
            else:
                out.append(True)
        return out
