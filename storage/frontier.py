"""The crawl frontier's table (``crawl_frontier``): the URLs of each source's current crawl cycle, pending or
done. Functions take a Session and never commit; the store pipeline calls :func:`settle` in the transaction
that stores the pages, so a URL is done exactly when its page (or failure) is stored and the links it led to
are pending."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import FrontierEntry

_CHUNK = 500  # keys per IN (...) query


@dataclass(frozen=True)
class Entry:
    key: str
    url: str
    depth: int = 0
    hops: int = 0
    referer: str | None = None


def counts(session: Session, source_id: int) -> dict[str, int]:
    rows = session.execute(
        select(FrontierEntry.state, func.count())
        .where(FrontierEntry.source_id == source_id)
        .group_by(FrontierEntry.state)
    ).all()
    return {state: int(n) for state, n in rows}


def pending(session: Session, source_id: int) -> Sequence[FrontierEntry]:
    """Unfinished URLs in the order they were found (shallow first within a run)."""
    return session.scalars(
        select(FrontierEntry)
        .where(FrontierEntry.source_id == source_id, FrontierEntry.state == "pending")
        .order_by(FrontierEntry.depth, FrontierEntry.id)
    ).all()


def known_keys(session: Session, source_id: int) -> set[str]:
    return set(session.scalars(select(FrontierEntry.key).where(FrontierEntry.source_id == source_id)))


def clear(session: Session, source_id: int) -> int:
    """End the source's crawl cycle: the next run starts from the start URLs."""
    result = session.execute(delete(FrontierEntry).where(FrontierEntry.source_id == source_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _existing(session: Session, source_id: int, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = session.execute(
            select(FrontierEntry.key, FrontierEntry.state).where(
                FrontierEntry.source_id == source_id, FrontierEntry.key.in_(chunk)
            )
        )
        found.update((key, state) for key, state in rows)
    return found


def settle(
    session: Session,
    source_id: int,
    run_id: int | None,
    *,
    done: Iterable[Entry] = (),
    added: Iterable[Entry] = (),
) -> None:
    """Mark ``done`` entries done (inserting them if their parent's batch is not stored yet) and add ``added``
    entries as pending unless already known. Idempotent."""
    done = list({e.key: e for e in done}.values())
    added = [e for e in {e.key: e for e in added}.values()]
    existing = _existing(session, source_id, [e.key for e in done] + [e.key for e in added])
    mark = [e.key for e in done if existing.get(e.key) == "pending"]
    for start in range(0, len(mark), _CHUNK):
        session.execute(
            update(FrontierEntry)
            .where(FrontierEntry.source_id == source_id, FrontierEntry.key.in_(mark[start : start + _CHUNK]))
            .values(state="done", done_run_id=run_id)
        )
    new_done = {e.key for e in done if e.key not in existing}
    for entry in done:
        if entry.key in new_done:
            session.add(_row(entry, source_id, run_id, state="done"))
    for entry in added:
        if entry.key not in existing and entry.key not in new_done:
            session.add(_row(entry, source_id, run_id, state="pending"))
    session.flush()


def _row(entry: Entry, source_id: int, run_id: int | None, *, state: str) -> FrontierEntry:
    return FrontierEntry(
        source_id=source_id,
        key=entry.key,
        url=entry.url[:2048],
        depth=entry.depth,
        hops=entry.hops,
        referer=entry.referer[:2048] if entry.referer else None,
        state=state,
        added_run_id=run_id,
        done_run_id=run_id if state == "done" else None,
    )
