"""Referral batches: their numbers, their life cycle and who moved them.

``draft`` (created by an analyst from the confirmed hits not yet referred to that authority) ->
``approved`` (by a supervisor; from then on the export is fixed) -> ``sent`` (handed over; re-checks start)
-> ``answered`` (the authority's answer imported). Every step is written to the audit log in the same
transaction. A hit is referred once per authority: it joins a batch only while it has no active referral
item for that authority; ``reopen`` (an analyst's decision) deactivates the item so it can be referred again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from crawler.errors import ExportError
from referrals.routing import AUTHORITY_CODES, routes_to, target_of
from storage import audit, repository
from storage.models import Hit, Page, ReferralBatch, ReferralItem
from storage.users import require_user

CHINA = ZoneInfo("Asia/Shanghai")


class BatchError(ExportError):
    """A batch operation is not possible (unknown number, wrong state, nothing to refer)."""


def candidate_hits(session: Session, authority: str, platforms: frozenset[str]) -> list[Hit]:
    """Confirmed hits that route to ``authority`` and have no active referral item for it, oldest first."""
    if authority not in AUTHORITY_CODES:
        raise BatchError(f"--authority: {authority!r} is not one of {', '.join(AUTHORITY_CODES)}")
    hits = repository.unreferred_hits(session, authority, statuses=("confirmed",))
    return [hit for hit in hits if routes_to(hit, authority, platforms)]


def next_number(session: Session, institute_code: str, authority: str, year: int) -> tuple[int, str]:
    last = session.scalar(
        select(func.max(ReferralBatch.seq)).where(ReferralBatch.authority == authority, ReferralBatch.year == year)
    )
    seq = (last or 0) + 1
    return seq, f"{institute_code}-{authority}-{year}-{seq:03d}"


def create_batch(
    session: Session,
    *,
    authority: str,
    user: str,
    institute_code: str,
    platforms: frozenset[str],
    now: datetime,
) -> ReferralBatch | None:
    """A draft batch of every candidate hit; None when there is nothing to refer."""
    actor = require_user(session, user, "analyst")
    hits = candidate_hits(session, authority, platforms)
    if not hits:
        return None
    year = now.astimezone(CHINA).year
    seq, number = next_number(session, institute_code, authority, year)
    batch = ReferralBatch(
        number=number, authority=authority, year=year, seq=seq, status="draft", created_by=actor.name, created_at=now
    )
    session.add(batch)
    session.flush()
    for hit in hits:
        session.add(
            ReferralItem(batch_id=batch.id, hit_id=hit.id, authority=authority, target=target_of(hit, authority))
        )
    audit.record(session, actor.name, "batch_create", f"batch:{number}", authority=authority,
                 hits=[h.id for h in hits])  # fmt: skip
    session.flush()
    return batch


def get_batch(session: Session, number: str) -> ReferralBatch:
    batch = session.scalar(
        select(ReferralBatch)
        .where(ReferralBatch.number == number)
        .options(
            selectinload(ReferralBatch.items)
            .selectinload(ReferralItem.hit)
            .selectinload(Hit.page)
            .selectinload(Page.contacts),
            selectinload(ReferralBatch.items).selectinload(ReferralItem.hit).selectinload(Hit.page)
            .selectinload(Page.identifiers),
        )
    )  # fmt: skip
    if batch is None:
        raise BatchError(f"没有编号为 {number} 的移交批次")
    return batch


def _require_state(batch: ReferralBatch, allowed: Sequence[str], doing: str) -> None:
    if batch.status not in allowed:
        raise BatchError(f"批次 {batch.number} 状态为 {batch.status}，不能{doing}")


def approve_batch(session: Session, number: str, *, user: str, now: datetime) -> ReferralBatch:
    actor = require_user(session, user, "supervisor")
    batch = get_batch(session, number)
    _require_state(batch, ("draft",), "审批")
    batch.status = "approved"
    batch.approved_by = actor.name
    batch.approved_at = now
    audit.record(session, actor.name, "batch_approve", f"batch:{number}", items=len(batch.items))
    return batch


def mark_sent(session: Session, number: str, *, user: str, now: datetime) -> ReferralBatch:
    actor = require_user(session, user, "analyst")
    batch = get_batch(session, number)
    _require_state(batch, ("approved",), "标记为已发送")
    batch.status = "sent"
    batch.sent_by = actor.name
    batch.sent_at = now
    audit.record(session, actor.name, "batch_send", f"batch:{number}")
    return batch


def discard_batch(session: Session, number: str, *, user: str) -> None:
    """Delete a draft batch (nothing was handed over), freeing its hits for another batch."""
    actor = require_user(session, user, "analyst")
    batch = get_batch(session, number)
    _require_state(batch, ("draft",), "删除")
    for item in batch.items:
        session.delete(item)
    session.delete(batch)
    audit.record(session, actor.name, "batch_discard", f"batch:{number}")


def reopen_hit(session: Session, hit_id: int, authority: str, *, user: str, now: datetime) -> int:
    """Deactivate the hit's active referral items for ``authority`` so it can be referred again."""
    actor = require_user(session, user, "analyst")
    items = session.scalars(
        select(ReferralItem).where(
            ReferralItem.hit_id == hit_id, ReferralItem.authority == authority, ReferralItem.active.is_(True)
        )
    ).all()
    if not items:
        raise BatchError(f"命中 {hit_id} 没有移交{authority}的有效记录")
    for item in items:
        item.active = False
        item.reopened_at = now
        item.reopened_by = actor.name
    audit.record(session, actor.name, "reopen", f"hit:{hit_id}", authority=authority)
    return len(items)
