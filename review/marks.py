"""Crawled text and URLs made safe to show: the page text cut into plain and matched segments (the template
escapes each and wraps matches in <mark> with their reason number), and URLs made clickable only when they are
plain http(s) addresses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MAX_TEXT_SHOWN = 60_000  # characters of page text shown on the detail page


@dataclass(frozen=True)
class Segment:
    text: str
    reasons: tuple[int, ...] = ()  # 1-based numbers of the reasons matching exactly this span; () for plain text


def segments(text: str, reasons: list[dict[str, Any]], *, limit: int = MAX_TEXT_SHOWN) -> tuple[list[Segment], bool]:
    """The text (at most ``limit`` characters) as segments; matched spans of positioned reasons become
    numbered segments (reasons with the same span share one; overlaps: the earlier span wins). Returns
    (segments, truncated)."""
    shown = text[:limit]
    spans: dict[tuple[int, int], list[int]] = {}
    for number, reason in enumerate(reasons, start=1):
        try:
            start, end = int(reason.get("start", -1)), int(reason.get("end", -1))
        except (TypeError, ValueError):
            continue
        if 0 <= start < end <= len(shown):
            spans.setdefault((start, end), []).append(number)
    out: list[Segment] = []
    cursor = 0
    for (start, end), numbers in sorted(spans.items()):
        if start < cursor:
            continue
        if start > cursor:
            out.append(Segment(shown[cursor:start]))
        out.append(Segment(shown[start:end], tuple(numbers)))
        cursor = end
    if cursor < len(shown):
        out.append(Segment(shown[cursor:]))
    return out, len(text) > limit


def safe_link(url: str) -> str | None:
    """``url`` when it is an http(s) URL with a host and no characters that could break out of an attribute
    or smuggle another scheme; None otherwise (the template then shows it as text only)."""
    if not url or len(url) > 2048 or any(ord(c) < 0x21 or c in "\"'<>`\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
