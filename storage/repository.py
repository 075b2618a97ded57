"""Reads and writes of touthunt's tables. Every function takes a ``Session`` and never commits: the caller
(a pipeline batch, a command) owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.models import (
    CONTACT_KINDS,
    SOURCE_STATES,
    Contact,
    CrawlRun,
    FetchFailure,
    Hit,
    Identifier,
    Page,
    PageLink,
    ReferralExport,
    ReferralItem,
    SerpResult,
    Source,
    utcnow,
)


@dataclass(frozen=True)
class PageRecord:
    """What the store pipeline hands to :func:`upsert_page`."""

    canonical_url: str
    url: str
    final_url: str
    domain: str
    registrable_domain: str
    title: str
    text: str
    content_hash: str
    http_status: int
    encoding: str
    redirect_chain: list[str] = field(default_factory=list)
    depth: int = 0
    referer: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, registrable domain)
    stable_url: str | None = None  # a post's permanent address beside a temporary crawled URL


@dataclass(frozen=True)
class ScoreRecord:
    """The part of a score the database keeps."""

    score: int
    hit: bool
    category: str | None
    reasons: list[dict[str, Any]]
    contacts: dict[str, list[str]]
    lexicon_version: str
    contact_sources: dict[str, str] = field(default_factory=dict)  # "kind:value" -> text | qr | ocr
    identifiers: list[dict[str, Any]] = field(default_factory=list)  # {"kind", "value", "valid"}


# Loading a hit for display or export: its page, the page's source and contacts, in few queries.
_HIT_LOAD = joinedload(Hit.page).options(joinedload(Page.source), selectinload(Page.contacts))


# Sources and runs ---------------------------------------------------------------------------------------


def ensure_source(session: Session, name: str, kind: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, kind=kind)
        session.add(source)
        session.flush()
    elif source.kind != kind:
        source.kind = kind
    return source


def start_run(session: Session, source: Source) -> CrawlRun:
    run = CrawlRun(source_id=source.id, status="running", started_at=utcnow(), error_reasons={})
    session.add(run)
    session.flush()
    return run


@dataclass(frozen=True)
class RunHealth:
    """What a run saw of its source (see ``CrawlRun``): requests sent, items produced, blocked answers, the
    source's state (one of ``SOURCE_STATES``), the robots policy applied, and further figures by name."""

    requests: int = 0
    items: int = 0
    blocked: int = 0
    source_state: str = "ok"
    robots_obeyed: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source_state not in SOURCE_STATES:
            raise ValueError(f"unknown source state {self.source_state!r}")


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    pages_fetched: int | None = None,
    hits_new: int | None = None,
    error_reasons: dict[str, int] | None = None,
    finish_reason: str | None = None,
    message: str | None = None,
    health: RunHealth | None = None,
) -> CrawlRun:
    """Close a run; page, hit and error counts are recomputed from what the run actually stored."""
    run = session.get_one(CrawlRun, run_id)
    run.status = status
    run.finished_at = utcnow()
    if pages_fetched is not None:
        run.pages_fetched = pages_fetched
    if hits_new is not None:
        run.hits_new = hits_new
    if error_reasons is not None:
        run.error_reasons = dict(sorted(error_reasons.items()))
    run.errors = sum(int(v) for v in (run.error_reasons or {}).values())
    if finish_reason is not None:
        run.finish_reason = finish_reason
    if message is not None:
        run.message = message
    if health is not None:
        run.requests = health.requests
        run.items = health.items
        run.blocked = health.blocked
        run.source_state = health.source_state
        run.robots_obeyed = health.robots_obeyed
        run.health = dict(sorted(health.extra.items()))
    run.pages_stored = session.scalar(select(func.count(Page.id)).where(Page.last_run_id == run_id)) or 0
    return run


def latest_runs(session: Session, limit: int = 20) -> Sequence[CrawlRun]:
    stmt = select(CrawlRun).options(joinedload(CrawlRun.source)).order_by(CrawlRun.id.desc()).limit(limit)
    return session.scalars(stmt).all()


def run_failures(session: Session, run_id: int) -> Sequence[FetchFailure]:
    return session.scalars(select(FetchFailure).where(FetchFailure.run_id == run_id).order_by(FetchFailure.id)).all()


# Pages, hits, contacts --------------------------------------------------------------------------------


def upsert_pages(
    session: Session,
    records: Sequence[PageRecord],
    *,
    source_id: int,
    run_id: int | None,
    seen_at: Sequence[datetime],
) -> list[tuple[Page, bool]]:
    """Insert pages or refresh the stored ones with the same canonical URLs; returns (page, created) per
    record. Existing pages come back with their hit, contacts, identifiers and links loaded, in five queries for
    the batch."""
    urls = {r.canonical_url for r in records}
    known = {
        page.canonical_url: page
        for page in session.scalars(
            select(Page)
            .where(Page.canonical_url.in_(urls))
            .options(
                selectinload(Page.hit),
                selectinload(Page.contacts),
                selectinload(Page.identifiers),
                selectinload(Page.links),
            )
        )
    }
    results = []
    for record, seen in zip(records, seen_at, strict=True):
        page = known.get(record.canonical_url)
        created = page is None
        if page is None:
            page = Page(canonical_url=record.canonical_url, first_seen=seen, first_run_id=run_id, source_id=source_id)
            session.add(page)
            known[record.canonical_url] = page
        page.url = record.url
        page.final_url = record.final_url
        page.stable_url = record.stable_url or page.stable_url
        page.domain = record.domain
        page.registrable_domain = record.registrable_domain
        page.title = record.title
        page.text = record.text
        page.content_hash = record.content_hash
        page.http_status = record.http_status
        page.encoding = record.encoding
        page.redirect_chain = list(record.redirect_chain)
        page.depth = record.depth
        page.referer = record.referer
        page.last_seen = seen
        page.last_run_id = run_id
        replace_links(page, record.links)
        results.append((page, created))
    return results


def upsert_page(
    session: Session, record: PageRecord, *, source_id: int, run_id: int | None, seen_at: datetime
) -> tuple[Page, bool]:
    """One page through :func:`upsert_pages`."""
    return upsert_pages(session, [record], source_id=source_id, run_id=run_id, seen_at=[seen_at])[0]


def save_score(session: Session, page: Page, score: ScoreRecord, *, at: datetime) -> tuple[Hit | None, bool]:
    """Record a page's score: a hit is created the first time the page reaches the threshold and updated on
    later crawls (its review status is kept). Returns (hit or None, created). Nothing is flushed here."""
    replace_contacts(page, score.contacts, score.contact_sources)
    replace_identifiers(page, score.identifiers)
    hit = page.hit
    if hit is None and not score.hit:
        return None, False
    created = hit is None
    if hit is None:
        hit = Hit(page=page, status="new", created_at=at)
        session.add(hit)
    hit.score = score.score
    if hit.status != "confirmed":  # an analyst's confirmed category outlives re-scoring
        hit.category = score.category or "scalper_service"
    hit.reasons = score.reasons
    hit.lexicon_version = score.lexicon_version
    hit.updated_at = at
    return hit, created


def replace_contacts(page: Page, contacts: dict[str, list[str]], sources: dict[str, str] | None = None) -> None:
    """Make the page's contacts exactly ``contacts``; ``sources`` says where each was found."""
    sources = sources or {}
    wanted = {(kind, value) for kind in CONTACT_KINDS for value in contacts.get(kind, [])}
    current = {(c.kind, c.value): c for c in page.contacts}
    for key, contact in current.items():
        if key not in wanted:
            page.contacts.remove(contact)
    for kind, value in sorted(wanted):
        found_in = sources.get(f"{kind}:{value}", "text")
        if (kind, value) in current:
            current[(kind, value)].found_in = found_in
        else:
            page.contacts.append(Contact(kind=kind, value=value, found_in=found_in))


def replace_identifiers(page: Page, identifiers: list[dict[str, Any]]) -> None:
    wanted = {(i["kind"], i["value"]): i.get("valid") for i in identifiers}
    current = {(i.kind, i.value): i for i in page.identifiers}
    for key, identifier in current.items():
        if key not in wanted:
            page.identifiers.remove(identifier)
    for (kind, value), valid in sorted(wanted.items()):
        if (kind, value) in current:
            current[(kind, value)].valid = valid
        else:
            page.identifiers.append(Identifier(kind=kind, value=value, valid=valid))


def replace_links(page: Page, links: list[tuple[str, str]]) -> None:
    wanted = dict(links)
    current = {link.url: link for link in page.links}
    for url, link in current.items():
        if url not in wanted:
            page.links.remove(link)
    for url, domain in wanted.items():
        if url not in current:
            page.links.append(PageLink(url=url, registrable_domain=domain))


def record_failure(
    session: Session, *, run_id: int, url: str, reason: str, detail: str = "", http_status: int | None = None
) -> FetchFailure:
    failure = FetchFailure(run_id=run_id, url=url, reason=reason, detail=detail[:2000], http_status=http_status)
    session.add(failure)
    return failure


# Search results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SerpRecord:
    """One search result to store (see ``SerpResult``)."""

    engine: str
    query: str
    page_number: int
    rank: int
    is_ad: bool
    title: str
    snippet: str
    display_url: str
    serp_url: str
    redirect_url: str
    target_url: str
    target_domain: str
    resolution: str
    found_at: datetime


def add_serp_result(session: Session, run_id: int, record: SerpRecord) -> SerpResult:
    result = SerpResult(
        run_id=run_id,
        engine=record.engine[:20],
        query=record.query[:255],
        page_number=record.page_number,
        rank=record.rank,
        is_ad=record.is_ad,
        title=record.title[:500],
        snippet=record.snippet[:2000],
        display_url=record.display_url[:2048],
        serp_url=record.serp_url[:2048],
        redirect_url=record.redirect_url[:2048],
        target_url=record.target_url[:2048],
        target_domain=record.target_domain[:255],
        resolution=record.resolution[:20],
        found_at=record.found_at,
    )
    session.add(result)
    return result


def link_serp_pages(session: Session, run_id: int) -> int:
    """Point a run's search results at their stored target pages (matched by the URL the page was requested
    as, or its final URL). Returns how many results gained a target page."""
    results = session.scalars(select(SerpResult).where(SerpResult.run_id == run_id, SerpResult.page_id.is_(None))).all()
    urls = {r.target_url for r in results if r.target_url}
    pages: dict[str, int] = {}
    for chunk_start in range(0, len(urls), 500):
        chunk = sorted(urls)[chunk_start : chunk_start + 500]
        for page_id, url, final_url in session.execute(
            select(Page.id, Page.url, Page.final_url).where(Page.url.in_(chunk) | Page.final_url.in_(chunk))
        ):
            pages.setdefault(url, page_id)
            pages.setdefault(final_url, page_id)
    linked = 0
    for result in results:
        if result.target_url and result.target_url in pages:
            result.page_id = pages[result.target_url]
            linked += 1
    return linked


def serp_results_for_page(session: Session, page_id: int, limit: int = 20) -> Sequence[SerpResult]:
    """The search results that led to a page, ads first, newest first: how the page was found."""
    stmt = (
        select(SerpResult)
        .where(SerpResult.page_id == page_id)
        .order_by(SerpResult.is_ad.desc(), SerpResult.found_at.desc(), SerpResult.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def serp_results(session: Session, *, run_id: int | None = None, ads_only: bool = False) -> Sequence[SerpResult]:
    stmt = select(SerpResult).order_by(SerpResult.id)
    if run_id is not None:
        stmt = stmt.where(SerpResult.run_id == run_id)
    if ads_only:
        stmt = stmt.where(SerpResult.is_ad.is_(True))
    return session.scalars(stmt).all()


# Source health ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceHealth:
    """A source's latest run and the time of its last good item: the newest page its runs stored, else the end
    of its last run that produced items."""

    name: str
    kind: str
    last_run: CrawlRun | None
    last_item_at: datetime | None


def source_health(session: Session, names: Iterable[str] | None = None) -> list[SourceHealth]:
    """Health of every source in the database (or of ``names``, in that order; unknown names have no run)."""
    sources = {s.name: s for s in session.scalars(select(Source))}
    wanted = list(names) if names is not None else sorted(sources)
    latest = dict(session.execute(select(CrawlRun.source_id, func.max(CrawlRun.id)).group_by(CrawlRun.source_id)).all())
    newest = dict(
        session.execute(
            select(CrawlRun.source_id, func.max(Page.last_seen))
            .join(CrawlRun, Page.last_run_id == CrawlRun.id)
            .group_by(CrawlRun.source_id)
        ).all()
    )
    # pages later re-seen by another source's run count for that source; then the last run that produced
    # items tells when this source last gave a good item
    productive = dict(
        session.execute(
            select(CrawlRun.source_id, func.max(CrawlRun.finished_at))
            .where(CrawlRun.items > 0, CrawlRun.status == "finished")
            .group_by(CrawlRun.source_id)
        ).all()
    )
    out = []
    for name in wanted:
        source = sources.get(name)
        if source is None:
            out.append(SourceHealth(name=name, kind="", last_run=None, last_item_at=None))
            continue
        run = session.get(CrawlRun, latest[source.id]) if source.id in latest else None
        last_item = newest.get(source.id) or productive.get(source.id)
        if last_item is not None and last_item.tzinfo is None:
            last_item = last_item.replace(tzinfo=UTC)
        out.append(SourceHealth(name=name, kind=source.kind, last_run=run, last_item_at=last_item))
    return out


def list_hits(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_score: int = 0,
    statuses: Iterable[str] = ("new", "confirmed"),
    seen_since: datetime | None = None,
) -> Sequence[Hit]:
    """Hits first found in [since, until) (and whose page was crawled again after ``seen_since``), newest
    first."""
    stmt = (
        select(Hit)
        .join(Hit.page)
        .options(_HIT_LOAD)
        .where(Hit.score >= min_score, Hit.status.in_(list(statuses)))
        .order_by(Hit.created_at.desc(), Hit.score.desc(), Hit.id.desc())
    )
    if since is not None:
        stmt = stmt.where(Hit.created_at >= since)
    if until is not None:
        stmt = stmt.where(Hit.created_at < until)
    if seen_since is not None:
        stmt = stmt.where(Page.last_seen >= seen_since)
    return session.scalars(stmt).unique().all()


def get_hit(session: Session, hit_id: int) -> Hit | None:
    stmt = select(Hit).where(Hit.id == hit_id).options(_HIT_LOAD, joinedload(Hit.page).selectinload(Page.identifiers))
    return session.scalars(stmt).unique().one_or_none()


def contacts_by_kind(page: Page) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {kind: [] for kind in CONTACT_KINDS}
    for contact in page.contacts:
        grouped.setdefault(contact.kind, []).append(contact.value)
    return {kind: sorted(values) for kind, values in grouped.items()}


# Referral exports -------------------------------------------------------------------------------------


def unreferred_hits(
    session: Session, authority: str, *, min_score: int = 0, statuses: Sequence[str] | None = None
) -> Sequence[Hit]:
    """Hits not yet referred to ``authority`` (no active referral item: a re-opened hit may be referred again)
    and not dismissed (only of ``statuses`` when given), oldest first."""
    referred = select(ReferralItem.hit_id).where(ReferralItem.authority == authority, ReferralItem.active.is_(True))
    stmt = (
        select(Hit)
        .join(Hit.page)
        .options(_HIT_LOAD)
        .where(Hit.status != "dismissed", Hit.score >= min_score, Hit.id.not_in(referred))
        .order_by(Hit.created_at, Hit.id)
    )
    if statuses is not None:
        stmt = stmt.where(Hit.status.in_(list(statuses)))
    return session.scalars(stmt).unique().all()


def record_export(
    session: Session,
    *,
    authority: str,
    path: str,
    sha256: str,
    hits: Sequence[Hit],
    at: datetime,
    targets: Sequence[str] | None = None,
) -> ReferralExport:
    """Record an export and one referral item per hit; ``targets`` (default: the pages' final URLs) say what
    the authority acts on for each hit."""
    export = ReferralExport(authority=authority, path=path, sha256=sha256, item_count=len(hits), created_at=at)
    session.add(export)
    session.flush()
    wanted = list(targets) if targets is not None else [hit.page.final_url for hit in hits]
    session.add_all(
        ReferralItem(export_id=export.id, hit_id=hit.id, authority=authority, target=target)
        for hit, target in zip(hits, wanted, strict=True)
    )
    return export


__all__ = [
    "PageRecord",
    "ScoreRecord",
    "contacts_by_kind",
    "ensure_source",
    "finish_run",
    "get_hit",
    "latest_runs",
    "list_hits",
    "record_export",
    "record_failure",
    "replace_contacts",
    "replace_identifiers",
    "replace_links",
    "run_failures",
    "save_score",
    "start_run",
    "unreferred_hits",
    "upsert_page",
    "upsert_pages",
]
