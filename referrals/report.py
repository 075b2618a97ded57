"""The work summary (工作汇总表) of a period: pages crawled, hits, confirmed hits, referrals per authority,
what became of them (removed / still online / pending) and the median days from sending to take-down, per
authority, per category and per source; written as xlsx and as plain text (both Chinese).

Definitions (China days, both ends included): a *hit* counts in the period it was first found; a
*referral* is a hit in a batch sent in the period (one per authority); a referral is *removed* when its
target was closed (two consecutive removed re-checks) or its latest re-check found it removed, *still
online* when the latest re-check found it up (unchanged or changed), otherwise *pending* (not checked yet or
unreachable). Days to take-down run from the batch's sending to the first re-check of the final run of
"removed" results.

``fate_of`` and ``referral_figures`` are the one place these are computed: the web app's dashboard shows the
same figures and draws take-downs over time from the same fates.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crawler.labels import AUTHORITIES, category_label
from storage.models import CrawlRun, Hit, Page, ReferralBatch, ReferralItem, Source

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class Figures:
    pages: int = 0
    hits: int = 0
    confirmed: int = 0
    referred: int = 0
    removed: int = 0
    still_online: int = 0
    pending: int = 0
    days_to_removal: list[float] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.days_to_removal), 1) if self.days_to_removal else None

    @property
    def removal_rate(self) -> float | None:
        return self.removed / self.referred if self.referred else None


@dataclass
class Report:
    first: date
    last: date
    total: Figures
    by_authority: dict[str, Figures]
    by_category: dict[str, Figures]
    by_source: dict[str, Figures]


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), CHINA).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), CHINA).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class Fate:
    """What became of one referral: ``removed``, ``still_online`` or ``pending`` (see the module docstring);
    for a removed target, when the final run of "removed" re-checks began and how many days after sending."""

    state: str
    removed_at: datetime | None = None
    days: float | None = None


def fate_of(item: ReferralItem, sent_at: datetime) -> Fate:
    checks = item.rechecks
    if item.state == "closed" or (checks and checks[-1].outcome == "removed"):
        first_removed = None
        for check in reversed(checks):
            if check.outcome != "removed":
                break
            first_removed = check
        if first_removed is None:
            return Fate("removed")
        days = max(0.0, (first_removed.checked_at - sent_at).total_seconds() / 86400)
        return Fate("removed", first_removed.checked_at, days)
    if checks and checks[-1].outcome in ("still_online", "changed"):
        return Fate("still_online")
    return Fate("pending")


def sent_items(
    session: Session, start: datetime | None = None, end: datetime | None = None, *, with_hits: bool = True
) -> list[ReferralItem]:
    """Referral items of batches sent in [start, end) (every sent batch when unbounded), with their
    re-checks, batch and (``with_hits``) hit, page and source loaded; each one's fate is
    ``fate_of(item, item.batch.sent_at)``."""
    loads = [selectinload(ReferralItem.rechecks), selectinload(ReferralItem.batch)]
    if with_hits:
        loads.append(selectinload(ReferralItem.hit).selectinload(Hit.page).selectinload(Page.source))
    stmt = (
        select(ReferralItem)
        .join(ReferralBatch, ReferralBatch.id == ReferralItem.batch_id)
        .where(ReferralBatch.sent_at.is_not(None))
        .options(*loads)
        .order_by(ReferralItem.id)
    )
    if start is not None:
        stmt = stmt.where(ReferralBatch.sent_at >= start)
    if end is not None:
        stmt = stmt.where(ReferralBatch.sent_at < end)
    return list(session.scalars(stmt).all())


def count_referral(fate: Fate, *groups: Figures) -> None:
    """Add one referral with ``fate`` to each of ``groups``."""
    for figures in groups:
        figures.referred += 1
        setattr(figures, fate.state, getattr(figures, fate.state) + 1)
        if fate.days is not None:
            figures.days_to_removal.append(fate.days)


def referral_figures(items: Iterable[ReferralItem]) -> tuple[Figures, dict[str, Figures]]:
    """Referred / removed / still online / pending and days to removal of ``items`` (from ``sent_items``): in
    total and per authority (every authority listed)."""
    total = Figures()
    by_authority: dict[str, Figures] = {code: Figures() for code in AUTHORITIES}
    for item in items:
        assert item.batch is not None and item.batch.sent_at is not None
        count_referral(fate_of(item, item.batch.sent_at), total, by_authority.setdefault(item.authority, Figures()))
    return total, by_authority


def build_report(session: Session, first: date, last: date, *, platforms: frozenset[str] = frozenset()) -> Report:
    start, end = _bounds(first, last)
    total = Figures()
    by_authority: dict[str, Figures] = {code: Figures() for code in AUTHORITIES}
    by_category: dict[str, Figures] = defaultdict(Figures)
    by_source: dict[str, Figures] = defaultdict(Figures)
    runs = session.execute(
        select(Source.name, CrawlRun.pages_fetched)
        .join(Source, Source.id == CrawlRun.source_id)
        .where(CrawlRun.started_at >= start, CrawlRun.started_at < end)
    ).all()
    for name, pages in runs:
        by_source[name].pages += pages
        total.pages += pages
    hits = session.scalars(
        select(Hit).join(Hit.page).where(Hit.created_at >= start, Hit.created_at < end).options(
            selectinload(Hit.page).selectinload(Page.source)
        )
    ).all()  # fmt: skip
    for hit in hits:
        confirmed = int(hit.status == "confirmed")
        for figures in (total, by_category[hit.category], by_source[hit.page.source.name]):
            figures.hits += 1
            figures.confirmed += confirmed
    for item in sent_items(session, start, end):
        assert item.batch is not None and item.batch.sent_at is not None
        count_referral(fate_of(item, item.batch.sent_at), total, by_authority[item.authority],
                       by_category[item.hit.category], by_source[item.hit.page.source.name])  # fmt: skip
    return Report(first, last, total, by_authority, dict(sorted(by_category.items())), dict(sorted(by_source.items())))


HEADERS = (
    "抓取页面数",
    "发现命中数",
    "确认违规数",
    "移交数",
    "已删除/关闭",
    "仍在线",
    "待复查",
    "删除率",
    "删除中位天数",
)


def _row(figures: Figures) -> list[object]:
    rate = f"{figures.removal_rate:.0%}" if figures.removal_rate is not None else "-"
    median = figures.median_days if figures.median_days is not None else "-"
    return [figures.pages, figures.hits, figures.confirmed, figures.referred, figures.removed,
            figures.still_online, figures.pending, rate, median]  # fmt: skip


def tables(report: Report) -> list[tuple[str, str, list[tuple[str, list[object]]]]]:
    """(sheet title, first column header, rows) for each table of the report."""
    return [
        ("总体", "范围", [("合计", _row(report.total))]),
        ("按移交部门", "移交部门", [(AUTHORITIES[code], _row(f)) for code, f in report.by_authority.items()]),
        ("按类别", "类别", [(category_label(code), _row(f)) for code, f in report.by_category.items()]),
        ("按来源", "监测来源", [(name, _row(f)) for name, f in report.by_source.items()]),
    ]


def render_text(report: Report, institute: str) -> str:
    lines = [f"{institute} 网络号贩子与医托有害信息监测工作汇总表",
             f"统计期间: {report.first.isoformat()} 至 {report.last.isoformat()} (北京时间)", ""]  # fmt: skip
    for title, first_header, rows in tables(report):
        lines.append(f"【{title}】")
        for label, values in rows:
            cells = "，".join(f"{h} {v}" for h, v in zip(HEADERS, values, strict=True))
            lines.append(f"  {first_header}: {label} —— {cells}")
        lines.append("")
    lines.append("说明: 移交数按发送时间统计；“已删除/关闭”含连续两次复查确认删除的目标；删除中位天数自发送日起算。")
    return "\n".join(lines) + "\n"


def write_report(report: Report, out_dir: Path, *, institute: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"touthunt-report-{report.first.isoformat()}-{report.last.isoformat()}"
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, first_header, rows in tables(report):
        sheet = workbook.create_sheet(title)
        sheet.append([first_header, *HEADERS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for label, values in rows:
            sheet.append([label, *values])
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 24
        for letter in "BCDEFGHIJ":
            sheet.column_dimensions[letter].width = 13
    workbook.properties.creator = institute
    workbook.properties.title = "工作汇总表"
    xlsx = out_dir / f"{stem}.xlsx"
    workbook.save(xlsx)
    text = out_dir / f"{stem}.txt"
    text.write_text(render_text(report, institute), encoding="utf-8")
    return xlsx, text
