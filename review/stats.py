"""What the dashboards and the coverage line count: degraded sources from each source's latest run, hits per
day by category and by source, the review backlog, precision from the analysts' verdicts per source and per
rule, referrals and take-downs over time. Days are China days; every query is bounded by a day window."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.hitlist import CHINA, day_bounds
from crawler.labels import AUTHORITIES, RUN_STATUSES, SOURCE_STATES, category_label
from referrals.report import fate_of
from storage.models import CrawlRun, Hit, Page, ReferralBatch, ReferralExport, ReferralItem, Source, utcnow


@dataclass(frozen=True)
class SourceCoverage:
    name: str
    run_id: int | None
    status: str
    problems: tuple[str, ...]  # Chinese, empty when the source is healthy
    finished_at: datetime | None

    @property
    def degraded(self) -> bool:
        return bool(self.problems)


def coverage(session: Session, configured: tuple[str, ...] = ()) -> list[SourceCoverage]:
    """Every known or configured source with what its latest run says about it."""
    latest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source_id)
    runs = {
        run.source.name: run
        for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest)).join(CrawlRun.source))
    }
    names = sorted(set(runs) | set(configured))
    result = []
    for name in names:
        run = runs.get(name)
        if run is None:
            result.append(SourceCoverage(name, None, "", ("从未抓取",), None))
            continue
        problems = []
        if run.status in ("failed", "interrupted"):
            problems.append(f"运行{RUN_STATUSES.get(run.status, run.status)}")
        if run.source_state and run.source_state != "ok":
            problems.append(SOURCE_STATES.get(run.source_state, run.source_state))
        if run.status == "finished" and run.items == 0 and run.source_state != "empty":
            problems.append("没有抓到任何页面")
        result.append(SourceCoverage(name, run.id, run.status, tuple(problems), run.finished_at))
    return result


def day_range(days: int, *, today: date | None = None) -> list[date]:
    today = today or utcnow().astimezone(CHINA).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


@dataclass(frozen=True)
class DailyCounts:
    days: list[str]
    series: dict[str, list[int]]  # label -> count per day


def hits_per_day(session: Session, days: list[date]) -> tuple[DailyCounts, DailyCounts]:
    """Hits first found per China day, (by category, by source)."""
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    rows = session.execute(
        select(Hit.created_at, Hit.category, Source.name)
        .join(Page, Hit.page_id == Page.id)
        .join(Source, Page.source_id == Source.id)
        .where(Hit.created_at >= start, Hit.created_at < end)
    )
    index = {d: i for i, d in enumerate(days)}
    by_category: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    by_source: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for created, category, source in rows:
        i = index.get(created.astimezone(CHINA).date())
        if i is None:
            continue
        by_category[category_label(category)][i] += 1
        by_source[source][i] += 1
    labels = [d.isoformat() for d in days]
    return DailyCounts(labels, dict(sorted(by_category.items()))), DailyCounts(labels, dict(sorted(by_source.items())))


@dataclass(frozen=True)
class Backlog:
    total: int
    by_age: list[tuple[str, int]]  # (label, count of new hits found that long ago)
    oldest: datetime | None


def backlog(session: Session) -> Backlog:
    now = utcnow()
    created = list(session.scalars(select(Hit.created_at).where(Hit.status == "new")))
    buckets = [("今天", 1), ("1-3 天", 3), ("4-7 天", 7), ("8-30 天", 30), ("30 天以上", None)]
    counts = Counter()
    for at in created:
        age = (now - at).total_seconds() / 86400
        for label, limit in buckets:
            if limit is None or age < limit:
                counts[label] += 1
                break
    return Backlog(len(created), [(label, counts[label]) for label, _l in buckets], min(created, default=None))


@dataclass(frozen=True)
class Precision:
    label: str
    confirmed: int
    dismissed: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def ratio(self) -> float:
        return self.confirmed / self.decided if self.decided else 0.0


def precision(session: Session, *, max_rules: int = 30) -> tuple[list[Precision], list[Precision]]:
    """Share of decided hits that were confirmed, per source and per rule id (rules of the hit's reasons with
    a positive weight), from the hits' current review status; the rules with the most decided hits first."""
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.execute(
        select(Hit.status, Hit.reasons, Source.name)
        .join(Page, Hit.page_id == Page.id)
        .join(Source, Page.source_id == Source.id)
        .where(Hit.status.in_(("confirmed", "dismissed")))
    )
    for status, reasons, source in rows:
        per_source[source][status] += 1
        for rule in {r.get("rule_id", "") for r in reasons or [] if float(r.get("weight", 0)) > 0}:
            per_rule[rule][status] += 1

    def table(counts: dict[str, Counter[str]]) -> list[Precision]:
        return [Precision(k, v["confirmed"], v["dismissed"]) for k, v in counts.items()]

    sources = sorted(table(per_source), key=lambda p: p.label)
    rules = sorted(table(per_rule), key=lambda p: (-p.decided, p.label))[:max_rules]
    return sources, rules


def referrals_per_day(session: Session, days: list[date]) -> DailyCounts:
    """Hits referred per China day, by authority: the batch-less exports by their time, the batches by the
    time they were sent."""
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    exported = session.execute(
        select(ReferralExport.created_at, ReferralItem.authority)
        .join(ReferralExport, ReferralItem.export_id == ReferralExport.id)
        .where(ReferralExport.created_at >= start, ReferralExport.created_at < end)
    ).all()
    sent = session.execute(
        select(ReferralBatch.sent_at, ReferralItem.authority)
        .join(ReferralBatch, ReferralItem.batch_id == ReferralBatch.id)
        .where(ReferralBatch.sent_at >= start, ReferralBatch.sent_at < end)
    ).all()
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for created, authority in [*exported, *sent]:
        i = index.get(created.astimezone(CHINA).date())
        if i is not None:
            series[AUTHORITIES.get(authority, authority)][i] += 1
    return DailyCounts([d.isoformat() for d in days], dict(sorted(series.items())))


WEEKLY_AFTER = 31  # longer windows count take-downs per week (Monday to Sunday)


def takedowns_over_time(items: Iterable[ReferralItem], days: list[date]) -> DailyCounts:
    """Referred targets taken down per China day (per week for windows longer than WEEKLY_AFTER days; the
    label is the week's Monday), by authority, among ``items`` (``referrals.report.sent_items``: a take-down
    in the window may come from any batch sent before). A take-down is dated by ``referrals.report.fate_of``:
    the first re-check of the final run of "removed" results, the moment the summary report's days to
    take-down count to."""
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    weekly = len(days) > WEEKLY_AFTER
    buckets = sorted({d - timedelta(days=d.weekday()) for d in days}) if weekly else days
    index = {d: i for i, d in enumerate(buckets)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for item in items:
        assert item.batch is not None and item.batch.sent_at is not None
        removed_at = fate_of(item, item.batch.sent_at).removed_at
        if removed_at is None or not start <= removed_at < end:
            continue
        day = removed_at.astimezone(CHINA).date()
        i = index.get(day - timedelta(days=day.weekday()) if weekly else day)
        if i is not None:
            series[AUTHORITIES.get(item.authority, item.authority)][i] += 1
    return DailyCounts([d.isoformat() for d in buckets], dict(sorted(series.items())))
