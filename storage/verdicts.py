"""Analysts' verdicts on hits: the one function that confirms, dismisses or re-opens hits, used alike by the
web app and ``touthunt review``. Each verdict is a ``Verdict`` row (who, when, what, category, reason, note),
the hit's status follows it, and an audit event records it in the same transaction (the caller commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from keywords.result import CATEGORIES
from storage import audit
from storage.models import Hit, Verdict, utcnow

# verdict -> the hit status it leaves
STATUS_OF_VERDICT = {"confirmed": "confirmed", "dismissed": "dismissed", "reopened": "new"}
MAX_TEXT = 2000  # characters kept of a reason or a note


class VerdictError(ValueError):
    """A verdict that cannot be recorded (unknown hit, missing reason, unknown category); the message is
    Chinese, for the analyst."""


@dataclass(frozen=True)
class VerdictOutcome:
    verdicts: tuple[Verdict, ...]

    @property
    def hit_ids(self) -> list[int]:
        return [v.hit_id for v in self.verdicts]


def record_verdicts(
    session: Session,
    hit_ids: Iterable[int],
    *,
    actor: str,
    verdict: str,
    category: str | None = None,
    reason: str = "",
    note: str = "",
    via: str = "web",
) -> VerdictOutcome:
    """Record ``verdict`` (confirmed | dismissed | reopened) on every hit of ``hit_ids`` by ``actor``.

    Confirming keeps the hit's category unless ``category`` names another one; dismissing and re-opening need a
    reason. All hits must exist, or nothing is recorded. Nothing is committed here."""
    if verdict not in STATUS_OF_VERDICT:
        raise VerdictError(f"未知的审核结论 {verdict!r}")
    ids = list(dict.fromkeys(int(i) for i in hit_ids))
    if not ids:
        raise VerdictError("没有选择任何命中")
    reason, note = reason.strip()[:MAX_TEXT], note.strip()[:MAX_TEXT]
    if category is not None and category not in CATEGORIES:
        raise VerdictError(f"未知类别 {category!r}")
    if verdict != "confirmed" and category is not None:
        category = None
    if verdict in ("dismissed", "reopened") and not reason:
        raise VerdictError("排除或重新打开命中时必须填写理由")
    hits = {h.id: h for h in session.scalars(select(Hit).where(Hit.id.in_(ids)))}
    missing = [i for i in ids if i not in hits]
    if missing:
        raise VerdictError("不存在的命中编号: " + ", ".join(map(str, missing)))
    now = utcnow()
    rows = []
    for hit_id in ids:
        hit = hits[hit_id]
        row = Verdict(
            hit_id=hit_id,
            at=now,
            actor=actor,
            verdict=verdict,
            category=(category or hit.category) if verdict == "confirmed" else None,
            reason=reason,
            note=note,
            previous_status=hit.status,
        )
        session.add(row)
        hit.status = STATUS_OF_VERDICT[verdict]
        if row.category:
            hit.category = row.category
        hit.updated_at = now
        audit.record(
            session,
            actor,
            "reopen" if verdict == "reopened" else "verdict",
            f"hit:{hit_id}",
            verdict=verdict,
            category=row.category,
            reason=reason,
            note=note,
            previous_status=row.previous_status,
            via=via,
        )
        rows.append(row)
    session.flush()
    return VerdictOutcome(tuple(rows))


def hit_verdicts(session: Session, hit_id: int) -> Sequence[Verdict]:
    """A hit's verdicts, oldest first."""
    return session.scalars(select(Verdict).where(Verdict.hit_id == hit_id).order_by(Verdict.id)).all()
