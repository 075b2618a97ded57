"""The daily hit list: hits turned into flat rows, and those rows rendered as a terminal table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crawler.labels import category_label
from storage.models import Hit
from storage.repository import contacts_by_kind

CHINA = ZoneInfo("Asia/Shanghai")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in China time."""
    start = datetime.combine(day, time.min, tzinfo=CHINA)
    return start, start + timedelta(days=1)


def china_time(value: datetime) -> str:
    return value.astimezone(CHINA).isoformat(timespec="seconds")


def hit_row(hit: Hit) -> dict[str, Any]:
    page = hit.page
    return {
        "id": hit.id,
        "url": page.final_url,
        "requested_url": page.url,
        "domain": page.domain,
        "registrable_domain": page.registrable_domain,
        "title": page.title,
        "score": hit.score,
        "category": hit.category,
        "status": hit.status,
        "contacts": contacts_by_kind(page),
        "reasons": hit.reasons,
        "lexicon_version": hit.lexicon_version,
        "source": page.source.name,
        "first_seen": china_time(page.first_seen),
        "last_seen": china_time(page.last_seen),
        "hit_created": china_time(hit.created_at),
    }


def render_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=2)


CSV_COLUMNS = (
    ("id", "编号"),
    ("score", "评分"),
    ("category", "类别"),
    ("domain", "域名"),
    ("title", "标题"),
    ("url", "网址"),
    ("mobile", "手机号"),
    ("wechat", "微信"),
    ("qq", "QQ"),
    ("terms", "命中词"),
    ("source", "来源"),
    ("first_seen", "首次发现(北京时间)"),
)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    terms = []
    for reason in row["reasons"]:
        if reason.get("weight", 0) > 0 and reason.get("text") and reason["text"] not in terms:
            terms.append(reason["text"])
    return {
        **row,
        "category": category_label(row["category"]),
        "mobile": " ".join(row["contacts"].get("mobile", [])),
        "wechat": " ".join(row["contacts"].get("wechat", [])),
        "qq": " ".join(row["contacts"].get("qq", [])),
        "terms": "、".join(terms),
    }


def render_csv(rows: Sequence[dict[str, Any]]) -> str:
    """CSV with Chinese headers and a UTF-8 BOM so spreadsheet programs open it correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _key, header in CSV_COLUMNS])
    for row in rows:
        flat = _flat(row)
        writer.writerow([flat[key] for key, _header in CSV_COLUMNS])
    return "\ufeff" + buffer.getvalue()


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit_cell(text: str, width: int) -> str:
    """Pad or cut ``text`` to ``width`` terminal columns (CJK characters take two)."""
    if display_width(text) <= width:
        return text + " " * (width - display_width(text))
    out, used = "", 0
    for ch in text:
        if used + display_width(ch) > width - 1:
            break
        out += ch
        used += display_width(ch)
    return out + "…" + " " * (width - used - 1)


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    columns = (("id", "编号", 6), ("score", "评分", 4), ("category", "类别", 13), ("domain", "域名", 24),
               ("contacts", "联系方式", 26), ("first_seen", "首次发现", 16), ("url", "网址", 48))  # fmt: skip
    lines = ["  ".join(fit_cell(header, width) for _key, header, width in columns).rstrip()]
    lines.append("  ".join("-" * width for _key, _header, width in columns))
    for row in rows:
        flat = _flat(row)
        contacts = " ".join(v for kind in ("mobile", "wechat", "qq") for v in row["contacts"].get(kind, []))
        values = {**flat, "contacts": contacts, "first_seen": row["first_seen"][:16].replace("T", " ")}
        cells = [fit_cell(str(values[key]), width) for key, _header, width in columns[:-1]]
        lines.append("  ".join([*cells, str(values[columns[-1][0]])]))
    return "\n".join(lines)
