"""The relational model: sources, crawl runs, pages, hits, contacts, fetch failures and referral exports.

Typed SQLAlchemy 2.0 declarative models with a naming convention so constraint names are stable across
databases and Alembic revisions. Timestamps are stored in UTC and always come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# blocked: stopped by a platform's login wall, captcha or empty page (see spiders/platform.py)
RUN_STATUSES = ("running", "finished", "failed", "interrupted", "blocked")
SOURCE_STATES = ("ok", "login_wall", "captcha", "empty", "parser_failure", "blocked")
USER_ROLES = ("analyst", "supervisor")
HIT_STATUSES = ("new", "confirmed", "dismissed")
CONTACT_KINDS = ("mobile", "wechat", "qq", "landline", "tollfree")
CONTACT_SOURCES = ("text", "qr", "ocr")
VERDICTS = ("confirmed", "dismissed", "reopened")
LEXICON_ENTRY_KINDS = ("term", "domain")
LEXICON_ACTIONS = ("set", "remove")
IDENTIFIER_KINDS = ("icp", "icp_licence", "police_filing", "ad_cert", "uscc", "drug_info")
EVIDENCE_KINDS = ("capture", "recheck")
BATCH_STATES = ("draft", "approved", "sent", "answered")
RECHECK_OUTCOMES = ("removed", "still_online", "changed", "unreachable")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that stores UTC and returns aware datetimes, also on SQLite (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    pages_fetched: Mapped[int] = mapped_column(default=0)
    pages_stored: Mapped[int] = mapped_column(default=0)
    hits_new: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    # {"reason": count} for failed and dropped URLs, plus the crawler's finish reason
    error_reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text)
    # Source health (what the run saw, so "nothing found" and "could not look" differ):
    requests: Mapped[int] = mapped_column(default=0)  # requests sent, robots.txt and retries included
    items: Mapped[int] = mapped_column(default=0)  # pages that reached the pipelines
    blocked: Mapped[int] = mapped_column(default=0)  # answers that were a block, login wall or captcha
    # ok | login_wall | captcha | empty | parser_failure | blocked ; None while running
    source_state: Mapped[str | None] = mapped_column(String(30))
    robots_obeyed: Mapped[bool | None]
    health: Mapped[dict[str, Any]] = mapped_column(default=dict)  # further per-kind figures
    # The crawl process and its machine, so a run whose process is gone is found and marked interrupted
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))

    source: Mapped[Source] = relationship(back_populates="runs")


class FrontierEntry(Base):
    """A URL of a source's current crawl cycle: ``pending`` until the page (or its failure) is stored, then
    ``done`` in the same transaction, together with the links it leads to. A crawl that is killed resumes
    from the pending entries; a crawl that runs to its end clears its source's frontier."""

    __tablename__ = "crawl_frontier"
    __table_args__ = (
        UniqueConstraint("source_id", "key", name="uq_crawl_frontier_source_key"),
        Index("ix_crawl_frontier_source_state", "source_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    key: Mapped[str] = mapped_column(String(64))  # the request fingerprint (hex)
    url: Mapped[str] = mapped_column(String(2048))
    depth: Mapped[int] = mapped_column(default=0)
    hops: Mapped[int] = mapped_column(default=0)
    referer: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done
    added_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    done_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Page(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    final_url: Mapped[str] = mapped_column(String(2048))
    # a self-media post's permanent address, when the URL crawled was a temporary one (WeChat search links expire)
    stable_url: Mapped[str | None] = mapped_column(String(2048))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    registrable_domain: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    http_status: Mapped[int]
    encoding: Mapped[str] = mapped_column(String(40))
    redirect_chain: Mapped[list[Any]] = mapped_column(default=list)
    depth: Mapped[int] = mapped_column(default=0)
    referer: Mapped[str | None] = mapped_column(String(2048))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    source: Mapped[Source] = relationship()
    hit: Mapped[Hit | None] = relationship(back_populates="page")
    contacts: Mapped[list[Contact]] = relationship(back_populates="page", cascade="all, delete-orphan")
    identifiers: Mapped[list[Identifier]] = relationship(back_populates="page", cascade="all, delete-orphan")
    links: Mapped[list[PageLink]] = relationship(back_populates="page", cascade="all, delete-orphan")
    cluster: Mapped[Cluster | None] = relationship(back_populates="pages")


class Hit(Base):
    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), unique=True)
    score: Mapped[int] = mapped_column(index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    lexicon_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    page: Mapped[Page] = relationship(back_populates="hit")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("page_id", "kind", "value", name="uq_contacts_page_kind_value"),
        Index("ix_contacts_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    found_in: Mapped[str] = mapped_column(String(10), default="text")  # text | qr | ocr

    page: Mapped[Page] = relationship(back_populates="contacts")


class Identifier(Base):
    """A registration number shown on a page (ICP filing, 公安备案, ad approval, USCC), normalised;
    ``valid`` is the result of its format/check-digit/list check, None when it cannot be checked."""

    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("page_id", "kind", "value", name="uq_identifiers_page_kind_value"),
        Index("ix_identifiers_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    valid: Mapped[bool | None]

    page: Mapped[Page] = relationship(back_populates="identifiers")


class PageLink(Base):
    """An outgoing link of a page (the link graph: pages linking to known-bad domains)."""

    __tablename__ = "page_links"
    __table_args__ = (UniqueConstraint("page_id", "url", name="uq_page_links_page_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    registrable_domain: Mapped[str] = mapped_column(String(255), index=True)

    page: Mapped[Page] = relationship(back_populates="links")


class Cluster(Base):
    """An operator cluster: pages connected by shared contacts, across domains. ``key`` is the smallest
    ``kind:value`` contact of the cluster, so it stays stable while the cluster grows."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(130), unique=True)
    page_count: Mapped[int] = mapped_column(default=0)
    domain_count: Mapped[int] = mapped_column(default=0)
    contact_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    pages: Mapped[list[Page]] = relationship(back_populates="cluster")


class AdCertificate(Base):
    """An approved 医疗广告审查证明 imported by an analyst (CSV), to check the numbers ads show."""

    __tablename__ = "ad_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)  # normalised
    institution: Mapped[str] = mapped_column(String(255), default="")
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_file: Mapped[str] = mapped_column(String(1024), default="")


class FetchFailure(Base):
    """A URL a run could not turn into a page, with the reason (timeout, http_404, too_large, ...)."""

    __tablename__ = "fetch_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(String(60), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SerpResult(Base):
    """One result on a search-engine result page, organic or ad, as a search run saw it: where it stood,
    what it said, the engine's link and the target it resolved to, and the stored target page once fetched.
    Ads are evidence of paid promotion on hospital names."""

    __tablename__ = "serp_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    engine: Mapped[str] = mapped_column(String(20), index=True)
    query: Mapped[str] = mapped_column(String(255), index=True)
    page_number: Mapped[int]
    rank: Mapped[int]
    is_ad: Mapped[bool] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    snippet: Mapped[str] = mapped_column(Text, default="")
    display_url: Mapped[str] = mapped_column(String(2048), default="")
    serp_url: Mapped[str] = mapped_column(String(2048))
    redirect_url: Mapped[str] = mapped_column(String(2048))  # the link as the engine wrote it
    target_url: Mapped[str] = mapped_column(String(2048), default="")  # "" when it did not resolve
    target_domain: Mapped[str] = mapped_column(String(255), default="", index=True)  # registrable domain
    # direct | redirect | expired | loop | failed | not_followed (see crawler.items.SerpResultItem)
    resolution: Mapped[str] = mapped_column(String(20))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), index=True)  # the target page
    found_at: Mapped[datetime] = mapped_column(default=utcnow)

    page: Mapped[Page | None] = relationship()


class ReferralExport(Base):
    """One export file handed to an authority (the first, batch-less form of a referral)."""

    __tablename__ = "referral_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int]


class ReferralItem(Base):
    """A hit referred to an authority, by a batch (or by the first batch-less export). A hit is referred once
    per authority: only while no *active* item exists for that authority can it join a batch again; an
    analyst re-opening a hit sets ``active`` to False and keeps the row as history. ``target`` is what the
    authority acts on (the content URL, or the registrable domain for miit); ``state`` is ``open`` until
    two consecutive re-checks find the target removed (then ``closed``)."""

    __tablename__ = "referral_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int | None] = mapped_column(ForeignKey("referral_exports.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("referral_batches.id"), index=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"), index=True)
    authority: Mapped[str] = mapped_column(String(20), index=True)
    target: Mapped[str] = mapped_column(String(2048), default="")
    active: Mapped[bool] = mapped_column(default=True)
    reopened_at: Mapped[datetime | None]
    reopened_by: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))  # the authority's answer
    tracking_code: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None]

    batch: Mapped[ReferralBatch | None] = relationship(back_populates="items")
    hit: Mapped[Hit] = relationship()
    rechecks: Mapped[list[Recheck]] = relationship(back_populates="item", order_by="Recheck.id")


class ReferralBatch(Base):
    """A numbered batch of referrals to one authority: draft -> approved (by a supervisor) -> sent ->
    answered. ``number`` is ``<institute code>-<authority>-<yyyy>-<seq>``."""

    __tablename__ = "referral_batches"
    __table_args__ = (UniqueConstraint("authority", "year", "seq", name="uq_referral_batches_authority_year_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    authority: Mapped[str] = mapped_column(String(20), index=True)
    year: Mapped[int]
    seq: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    items: Mapped[list[ReferralItem]] = relationship(back_populates="batch", order_by="ReferralItem.id")


class EvidenceRecord(Base):
    """One evidence capture on disk: a folder of write-once files (WARC, screenshot) and the JSON manifest
    listing them with their SHA-256; ``manifest_sha256`` is the manifest file's own hash. ``kind`` is
    ``capture`` (when the hit was found) or ``recheck`` (a take-down re-check)."""

    __tablename__ = "evidence_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="capture")
    folder: Mapped[str] = mapped_column(String(1024))  # relative to evidence.folder
    url: Mapped[str] = mapped_column(String(2048))
    final_url: Mapped[str] = mapped_column(String(2048))
    http_status: Mapped[int | None]
    captured_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    file_count: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list[Any]] = mapped_column(default=list)  # what could not be captured, and why
    pruned_at: Mapped[datetime | None]


class Recheck(Base):
    """One take-down re-check of a referred target, with its outcome and its own evidence."""

    __tablename__ = "rechecks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("referral_items.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # removed | still_online | changed | unreachable
    reason: Mapped[str] = mapped_column(String(60))  # http_404, dns_error, deletion_notice, no_longer_matching...
    http_status: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_records.id"))

    item: Mapped[ReferralItem] = relationship(back_populates="rechecks")


class User(Base):
    """An analyst or supervisor account. Passwords are stored only as argon2 hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # analyst | supervisor
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # raised by a logout or a password change: every web session issued before it ends
    session_epoch: Mapped[int] = mapped_column(default=0)


class AuditEvent(Base):
    """Append-only audit log: logins, verdicts, lexicon changes, exports, batch approvals. Rows are only
    ever inserted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)  # user name, or "system"
    action: Mapped[str] = mapped_column(String(40), index=True)  # login, verdict, lexicon_change, export, ...
    target: Mapped[str] = mapped_column(String(255), default="")  # e.g. "hit:12", "batch:HZWJS-cac-2026-001"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Verdict(Base):
    """An analyst's decision on a hit, from the web app or ``touthunt review``; rows are only inserted, so a
    hit's verdicts are its review history (``reopened`` puts it back to ``new``)."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(20))  # confirmed | dismissed | reopened
    category: Mapped[str | None] = mapped_column(String(40))  # the category confirmed (None otherwise)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was dismissed or re-opened
    note: Mapped[str] = mapped_column(Text, default="")
    previous_status: Mapped[str] = mapped_column(String(20))


class LexiconChange(Base):
    """One attributed edit of the scoring lexicon made in the web app, on top of the lexicon's data files.
    Rows are only inserted; the effective edit of an entry (kind, group, text) is its newest row, and the newest
    row's id is the edit level that versions every score (``<files version>+<id>``)."""

    __tablename__ = "lexicon_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # term | domain (the official-domain allow-list)
    group: Mapped[str] = mapped_column(String(20), default="")  # a lexicon group for terms, "" for domains
    text: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(10))  # set (add or change) | remove
    weight: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class AlertDelivery(Base):
    """One attempt to deliver an alert over one channel. ``dedupe_key`` names the alert (e.g.
    ``urgent_hit:42``): once a key is ``sent`` on a channel it is never sent there again."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_key_channel", "dedupe_key", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # zero_items, login_wall, urgent_hit, digest, ...
    channel: Mapped[str] = mapped_column(String(20))  # email | dingtalk | wecom
    target: Mapped[str] = mapped_column(String(255), default="")  # recipients or the webhook host (no secrets)
    status: Mapped[str] = mapped_column(String(10))  # sent | failed
    error: Mapped[str] = mapped_column(Text, default="")
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text, default="")


class SchedulerLease(Base):
    """Who runs the scheduler on this database: one row per lease name, renewed by its holder's heartbeat.
    A second ``touthunt serve`` finds a live lease and refuses to start."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))  # changes with every new holder (compare-and-swap)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    acquired_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]
