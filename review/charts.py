"""Charts drawn on the server as SVG markup: stacked daily bars and horizontal bars. Every label is escaped
here (the markup is inserted into pages as is), sizes are fixed, and colours come from a fixed palette, so a
chart needs no script and no style attribute (the app's Content-Security-Policy allows neither)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#2f6db5", "#d9822b", "#3a9a5b", "#b5453a", "#7b5ea7", "#8c7a4f", "#4aa3a8", "#c0589a", "#777777")
FONT = 'font-family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if value <= step * 5:
            return step * 5
    return value


def stacked_bars(
    title: str,
    days: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    width: int = 760,
    height: int = 260,
) -> Markup:
    """One bar per day, stacked by series (label -> one count per day), with a legend."""
    left, right, top, bottom = 44, 12, 28, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    ceiling = _nice_max(max(totals, default=0))
    slot = plot_w / max(1, len(days))
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(6):
        value = ceiling * tick / 5
        y = top + plot_h - plot_h * tick / 5
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{value:g}</text>')
    label_every = max(1, round(len(days) / 10))
    for index, day in enumerate(days):
        x = left + slot * index + (slot - bar) / 2
        y = top + plot_h
        for number, (label, values) in enumerate(series.items()):
            count = values[index]
            if not count:
                continue
            h = plot_h * count / ceiling
            y -= h
            colour = PALETTE[number % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(day)} {escape(label)}: {count}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" fill="#555">'
                f"{escape(day[5:])}</text>"
            )
    if not any(totals):
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            'fill="#777">暂无数据</text>'
        )
    legend_x = left
    for number, label in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="{height - 18}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{height - 9}" fill="#333">{escape(label)}</text>')
        legend_x += 24 + 12 * len(label)
    parts.append(f'<text x="{left}" y="16" font-size="13" fill="#222">{escape(title)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(
    title: str, rows: Sequence[tuple[str, float, str]], *, maximum: float | None = None, width: int = 760
) -> Markup:
    """One bar per row (label, value, text shown after the bar), e.g. precision per source."""
    left, right, top, row_h = 200, 90, 28, 22
    height = top + row_h * max(1, len(rows)) + 10
    plot_w = width - left - right
    ceiling = maximum if maximum is not None else _nice_max(max((v for _l, v, _t in rows), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" font-size="13" fill="#222">{escape(title)}</text>',
    ]
    if not rows:
        parts.append(f'<text x="8" y="{top + 14}" fill="#777">暂无数据</text>')
    for index, (label, value, text) in enumerate(rows):
        y = top + row_h * index
        w = plot_w * (value / ceiling) if ceiling else 0
        shown = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" fill="#333">{escape(shown)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="14" fill="#f0f0f0"/>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="14" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 14}" fill="#333">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
