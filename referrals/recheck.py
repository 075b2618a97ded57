"""Take-down re-checks (复查): after a batch is sent, each referred target is fetched again through the
proxy (the hit's page URL; for miit, whose target is the domain, the referred page of that domain) on a
schedule (``recheck.schedule_days`` after sending; default +1, +3, +7, +30 days, then every
last-interval days while it stays up) and classified:

* ``removed``  -- HTTP 404/410; the name no longer resolves (NXDOMAIN, or the proxy's DNS-failure answer);
  a platform deletion notice or a parked-domain page (``recheck.removed_phrases``) that no longer scores as
  a hit; or a page that is up but no longer matches (below the hit threshold and none of the hit's
  contacts left).
* ``still_online`` -- the page still scores as a hit with the same text.
* ``changed`` -- the text differs but the page still scores as a hit or still shows the hit's contacts.
* ``unreachable`` -- timeouts, refused connections, 5xx and other errors: nothing is concluded; the next
  check decides.

Each check is stored (``rechecks``) with its own evidence capture (WARC + manifest; the re-check kind has no
screenshot). A target is closed (销号) after two consecutive ``removed`` checks. A closed target whose
contacts reappear on a page first seen after it was closed is re-opened (``state`` back to ``open``), so
the operator's new page (a "转世" account) is followed again; clusters are rebuilt by the crawl.

``run_due_rechecks(config, sessions)`` is what the scheduler calls.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from crawler.config import Config
from evidence.capture import CaptureOutcome, capture
from evidence.fetch import FetchResult
from storage.models import Contact, Hit, Page, Recheck, ReferralBatch, ReferralItem

log = logging.getLogger(__name__)

REMOVED_STATUSES = (404, 410)
CLOSE_AFTER = 2  # consecutive "removed" checks


@dataclass(frozen=True)
class Classification:
    outcome: str
    reason: str
    http_status: int | None
    detail: str = ""


def _due_at(item: ReferralItem, sent_at: datetime, schedule: tuple[int, ...]) -> datetime:
    done = len(item.rechecks)
    if done < len(schedule):
        return sent_at + timedelta(days=schedule[done])
    interval = schedule[-1] - schedule[-2] if len(schedule) > 1 else schedule[-1]
    return item.rechecks[-1].checked_at + timedelta(days=max(1, interval))


def due_items(session: Session, config: Config, *, now: datetime, force: bool = False) -> list[ReferralItem]:
    """Open, active items of sent or answered batches whose next check is due (all of them with ``force``)."""
    items = session.scalars(
        select(ReferralItem)
        .join(ReferralBatch, ReferralBatch.id == ReferralItem.batch_id)
        .where(ReferralBatch.status.in_(("sent", "answered")), ReferralItem.active.is_(True))
        .where(ReferralItem.state == "open")
        .options(selectinload(ReferralItem.rechecks), selectinload(ReferralItem.batch))
        .order_by(ReferralItem.id)
    ).all()
    due = []
    for item in items:
        sent_at = item.batch.sent_at if item.batch else None
        if sent_at is None:
            continue
        if force or _due_at(item, sent_at, config.recheck.schedule_days) <= now:
            due.append(item)
    return due


def _page_text(fetch: FetchResult) -> str:
    from spiders.decoding import UndecodableBody, decode_body
    from spiders.extract import html_to_text

    final = fetch.final
    try:
        html, _encoding = decode_body(final.body, final.header("Content-Type") or "")
    except UndecodableBody:
        return ""
    return html_to_text(html)[1]


def classify(config: Config, hit: Hit, outcome: CaptureOutcome) -> Classification:
    """Decide what a re-check fetch shows (see the module docstring)."""
    if outcome.fetch is None:
        error = outcome.fetch_error
        reason = error.reason if error else "fetch_error"
        detail = error.detail[:500] if error else ""
        if reason == "dns_error":
            return Classification("removed", "dns_error", None, detail)
        return Classification("unreachable", reason, None, detail)
    final = outcome.fetch.final
    status = final.status
    if status == 503 and (final.header("X-Squid-Error") or "").startswith("ERR_DNS_FAIL"):
        return Classification("removed", "dns_error", status, "the proxy could not resolve the name")
    if status in REMOVED_STATUSES:
        return Classification("removed", f"http_{status}", status)
    if status >= 300:
        return Classification("unreachable", f"http_{status}", status)
    from crawler.scoring import build_scorer, inputs_from_config
    from pipelines.normalise import content_hash

    text = _page_text(outcome.fetch)
    scorer = build_scorer(inputs_from_config(config, with_database=False))
    result = scorer.score(text, url=outcome.fetch.final_url)
    still_hit = result.score >= config.scoring.hit_threshold
    contacts = {c.value for c in hit.page.contacts if c.kind in ("mobile", "wechat", "qq")}
    compact = "".join(text.split())
    contacts_left = sorted(v for v in contacts if v in compact)
    notice = next((p for p in config.recheck.removed_phrases if p in text), None)
    if still_hit:
        if content_hash(text) == hit.page.content_hash:
            return Classification("still_online", "same_content", status, f"score {result.score}")
        return Classification("changed", "content_changed", status, f"score {result.score}")
    if contacts_left:
        return Classification("changed", "contacts_persist", status, "contacts: " + " ".join(contacts_left))
    if notice:
        return Classification("removed", "deletion_notice", status, notice)
    return Classification("removed", "no_longer_matching", status, f"score {result.score}")


@dataclass
class RecheckSummary:
    checked: int = 0
    closed: int = 0
    reopened: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


def _reopen_reappeared(session: Session) -> int:
    """Closed targets whose contacts show up on a page first seen after closing go back to ``open``."""
    reopened = 0
    closed = session.scalars(
        select(ReferralItem).where(ReferralItem.state == "closed", ReferralItem.active.is_(True))
    ).all()
    for item in closed:
        values = [(c.kind, c.value) for c in item.hit.page.contacts if c.kind in ("mobile", "wechat", "qq")]
        if not values or item.closed_at is None:
            continue
        for kind, value in values:
            newer = session.scalar(
                select(Page.id)
                .join(Contact, Contact.page_id == Page.id)
                .where(Contact.kind == kind, Contact.value == value, Page.id != item.hit.page_id)
                .where(Page.first_seen > item.closed_at)
                .limit(1)
            )
            if newer is not None:
                item.state = "open"
                item.closed_at = None
                reopened += 1
                log.info("referral item %s re-opened: %s %s reappeared on page %s", item.id, kind, value, newer)
                break
    return reopened


def run_due_rechecks(
    config: Config, sessions: sessionmaker[Session], *, now: datetime | None = None, force: bool = False
) -> RecheckSummary:
    """Re-check every due target once (one fetch per URL per call), store the results, close and re-open."""
    summary = RecheckSummary()
    moment = now or datetime.now(UTC)
    with sessions() as session:
        due = [(item.id, item.hit_id) for item in due_items(session, config, now=moment, force=force)]
    by_url: dict[str, tuple[Classification, int]] = {}
    for item_id, _hit_id in due:
        try:
            with sessions.begin() as session:
                item = session.get_one(ReferralItem, item_id)
                hit = item.hit
                url = hit.page.final_url
                if url in by_url:
                    found, evidence_id = by_url[url]
                else:
                    outcome = capture(config, session, hit, kind="recheck", url=url, now=datetime.now(UTC))
                    found = classify(config, hit, outcome)
                    evidence_id = outcome.record.id
                    by_url[url] = (found, evidence_id)
                session.add(Recheck(item_id=item.id, checked_at=datetime.now(UTC), outcome=found.outcome,
                                    reason=found.reason, http_status=found.http_status, detail=found.detail,
                                    evidence_id=evidence_id))  # fmt: skip
                session.flush()
                session.refresh(item, ["rechecks"])
                recent = [r.outcome for r in item.rechecks[-CLOSE_AFTER:]]
                if len(recent) == CLOSE_AFTER and all(o == "removed" for o in recent):
                    item.state = "closed"
                    item.closed_at = datetime.now(UTC)
                    summary.closed += 1
            summary.checked += 1
            summary.outcomes[found.outcome] += 1
        except Exception as exc:  # one target's trouble never stops the others
            log.error("re-check of referral item %s failed: %s", item_id, exc)
    with sessions.begin() as session:
        summary.reopened = _reopen_reappeared(session)
    return summary
