"""The append-only audit log: who did what to which object, and when. Rows are only inserted, never updated
or deleted; the caller owns the transaction, so an audited action and its audit row commit together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEvent

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "verdict",
    "reopen",
    "lexicon_change",
    "allowlist_change",
    "export",
    "batch_create",
    "batch_approve",
    "batch_export",
    "batch_send",
    "batch_discard",
    "batch_answer",
    "user_add",
)


def record(session: Session, actor: str, action: str, target: str = "", **detail: Any) -> AuditEvent:
    """Append one event; ``detail`` must be JSON-serialisable."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(actor=actor, action=action, target=target, detail=detail)
    session.add(event)
    return event


def events(session: Session, *, limit: int = 200, action: str | None = None) -> Sequence[AuditEvent]:
    """The newest events first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return session.scalars(stmt).all()
