"""Quoted-speech spans in page text: the parts between paired quotation marks or title marks.

News reports and official notices quote scalpers' wording ("号满可加", “保证挂上”, 《整治号贩子工作方案》),
while sellers rarely put their own offer in quotation marks. The scorer discounts positive evidence inside
these spans on pages that also carry benign context.
"""

from __future__ import annotations

import re
from bisect import bisect_right

__all__ = ["in_spans", "quoted_spans"]

# Longest quotation considered; an unpaired opening mark must not swallow the rest of the page.
_MAX_QUOTE = 200
_PAIRS = (("“", "”"), ("「", "」"), ("『", "』"), ("《", "》"), ("‘", "’"), ('"', '"'), ("＂", "＂"))
_QUOTE = re.compile(
    "|".join(f"{re.escape(o)}[^{re.escape(o)}{re.escape(c)}\\n]{{1,{_MAX_QUOTE}}}{re.escape(c)}" for o, c in _PAIRS)
)


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every quotation in ``text``, marks included, in order, not overlapping."""
    return [m.span() for m in _QUOTE.finditer(text)]


def in_spans(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies inside one of ``spans`` (sorted and non-overlapping, as returned above)."""
    index = bisect_right(spans, (start, float("inf"))) - 1
    return index >= 0 and end <= spans[index][1]
