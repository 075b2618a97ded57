"""Quoted-speech spans in page text: the parts between paired quotation marks or title marks.

News reports and official notices quote scalpers' wording ("号满可加", “保证挂上”, 《整治号贩子工作方案》),
while sellers rarely put their own offer in quotation marks. The scorer discounts positive evidence inside
these spans on pages that also carry benign context, and on every page inside two kinds of quotation that are
never the seller's own voice (`reported_or_mentions`):

* reported speech -- a quotation right after a verb of saying (对方称“……”, 她说：“……”, 主页写着‘……’);
* a mention -- a quotation that holds one term and nothing else (满屏都是“代挂号”“号满可加”的帖子, 找“黄牛”):
  the writer is naming the word, not using it.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from keywords._fold import char_positions

__all__ = ["in_spans", "quoted_spans", "reported_or_mentions"]

# Longest quotation considered; an unpaired opening mark must not swallow the rest of the page.
_MAX_QUOTE = 200
_PAIRS = (("“", "”"), ("「", "」"), ("『", "』"), ("《", "》"), ("‘", "’"), ('"', '"'), ("＂", "＂"))
_QUOTE = re.compile(
    "|".join(f"{re.escape(o)}[^{re.escape(o)}{re.escape(c)}\\n]{{1,{_MAX_QUOTE}}}{re.escape(c)}" for o, c in _PAIRS)
)


_OPENING = "".join(dict.fromkeys(o for o, _ in _PAIRS))


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every quotation in ``text``, marks included, in order, not overlapping.

    The matches of ``_QUOTE.finditer(text)``, found by trying the regex only at opening marks (a compiled pass
    finds them), not at every position of the page."""
    spans: list[tuple[int, int]] = []
    resume = 0
    for position in char_positions(text, _OPENING):
        if position < resume:
            continue  # inside the previous quotation: finditer goes on after it
        m = _QUOTE.match(text, position)
        if m is not None:
            spans.append(m.span())
            resume = m.end()
    return spans


# A verb of saying just before a quotation (at most a colon or comma and spaces between).
_SPEECH = re.compile(r"(?:说是|说|称|道|问|喊|表示|写着|写道|声称|号称|自称|宣称|报价|回复|留言|答)\s*[:：,，]?\s*$")
_SPEECH_LOOKBACK = 6


def reported_or_mentions(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """For each quotation ``(start, end)``: ``(start, end, reported)`` where ``reported`` tells whether it is
    reported speech. Mentions are recognised by the caller (a term filling the quotation's inside)."""
    return [(s, e, _SPEECH.search(text, max(0, s - _SPEECH_LOOKBACK), s) is not None) for s, e in spans]


def in_spans(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies inside one of ``spans`` (sorted and non-overlapping, as returned above)."""
    index = bisect_right(spans, (start, float("inf"))) - 1
    return index >= 0 and end <= spans[index][1]
