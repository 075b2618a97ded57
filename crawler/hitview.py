"""One hit explained for a person at a terminal: its facts, every reason with its rule id and weight, and the
page text with each matched span marked where it really is (``【代挂号】¹``, the number pointing at the
reason), shown as excerpts around the matches."""

from __future__ import annotations

from typing import Any

from crawler.hitlist import china_time
from crawler.labels import category_label
from storage.models import Hit, SerpResult

ENGINE_LABELS = {"baidu": "百度", "sogou": "搜狗", "bing": "必应", "so": "360搜索"}

CONTEXT_CHARS = 40  # characters of text shown on each side of a marked span
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _spans(reasons: list[dict[str, Any]], length: int) -> list[tuple[int, int, int]]:
    """(start, end, reason number) of positioned reasons, sorted, overlaps dropped (the earlier one wins)."""
    spans = []
    for number, reason in enumerate(reasons, start=1):
        start, end = int(reason.get("start", -1)), int(reason.get("end", -1))
        if 0 <= start < end <= length:
            spans.append((start, end, number))
    spans.sort()
    kept: list[tuple[int, int, int]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def marked_excerpts(text: str, reasons: list[dict[str, Any]], *, color: bool = False) -> list[str]:
    """Excerpts of ``text`` around the reasons' spans, each span marked and numbered."""
    spans = _spans(reasons, len(text))
    if not spans:
        return []
    windows: list[list[tuple[int, int, int]]] = []
    for span in spans:
        if windows and span[0] - windows[-1][-1][1] <= 2 * CONTEXT_CHARS:
            windows[-1].append(span)
        else:
            windows.append([span])
    excerpts = []
    for group in windows:
        begin = max(0, group[0][0] - CONTEXT_CHARS)
        finish = min(len(text), group[-1][1] + CONTEXT_CHARS)
        parts, cursor = [], begin
        for start, end, number in group:
            parts.append(text[cursor:start])
            mark = f"【{text[start:end]}】{str(number).translate(SUPERSCRIPTS)}"
            parts.append(f"\x1b[1;31m{mark}\x1b[0m" if color else mark)
            cursor = end
        parts.append(text[cursor:finish])
        excerpt = "".join(parts).replace("\n", " ⏎ ")
        excerpts.append(("…" if begin else "") + excerpt + ("…" if finish < len(text) else ""))
    return excerpts


def found_by_lines(results: list[SerpResult]) -> list[str]:
    """How search found the page: engine, ad or organic, query, position and the result's title."""
    lines = []
    for r in results:
        kind = "广告" if r.is_ad else "自然结果"
        where = f"第{r.page_number}页第{r.rank}位"
        lines.append(f"  {ENGINE_LABELS.get(r.engine, r.engine)} {kind} 「{r.query}」 {where} {china_time(r.found_at)}")
        lines.append(f"      {r.title}  ({r.display_url})")
    return lines


def render_hit(hit: Hit, *, color: bool = False, found_by: list[SerpResult] | None = None) -> str:
    page = hit.page
    contacts = ", ".join(f"{c.kind}:{c.value}" + ("" if c.found_in == "text" else f"({c.found_in})")
                         for c in sorted(page.contacts, key=lambda c: (c.kind, c.value))) or "无"  # fmt: skip
    identifiers = (
        ", ".join(
            f"{i.kind}:{i.value}" + ("" if i.valid is None else (" ✓" if i.valid else " ✗")) for i in page.identifiers
        )
        or "无"
    )
    lines = [
        f"命中 #{hit.id}  评分 {hit.score}  类别 {category_label(hit.category)}  状态 {hit.status}",
        f"网址     {page.final_url}",
        f"标题     {page.title}",
        f"域名     {page.domain} (主域名 {page.registrable_domain})",
        f"联系方式 {contacts}",
        f"标识号   {identifiers}",
        f"首次发现 {china_time(page.first_seen)}   最近发现 {china_time(page.last_seen)}   来源 {page.source.name}",
        f"词库版本 {hit.lexicon_version}",
        "",
        "命中理由 (规则编号, 权重, 匹配文字):",
    ]
    for number, reason in enumerate(hit.reasons, start=1):
        lines.append(f"  {number:>2}. {reason['rule_id']:<32} {reason['weight']:+7.1f}  {reason.get('text', '')}")
    if found_by:
        lines += ["", "搜索发现 (搜索引擎结果与付费推广, 见 serp_results):"]
        lines += found_by_lines(found_by)
    excerpts = marked_excerpts(page.text, hit.reasons, color=color)
    if excerpts:
        lines += ["", "原文摘录 (【】内为匹配文字, 上标为理由编号):"]
        lines += [f"  {excerpt}" for excerpt in excerpts]
    return "\n".join(lines)
