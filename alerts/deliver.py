"""Deliver alerts over every enabled channel and record every attempt in ``alert_deliveries``.

Each channel works in its own thread, so a channel that refuses or hangs (each call has its time limit)
never holds the others up. An alert whose ``dedupe_key`` was sent over a channel is never sent there again;
a failed one is tried again on the next check, up to ``alerts.max_attempts`` attempts per channel."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channel, ChannelError
from alerts.message import Alert
from storage.models import AlertDelivery, utcnow
from storage.retry import with_retry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    dedupe_key: str
    channel: str
    status: str  # sent | failed | skipped (already sent, or attempts used up)
    error: str = ""


def _history(
    sessions: sessionmaker[Session], keys: list[str]
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], int]]:
    """(keys sent per channel, failed attempts per key and channel)."""
    sent: set[tuple[str, str]] = set()
    failed: dict[tuple[str, str], int] = {}

    def load() -> None:
        sent.clear()
        failed.clear()
        with sessions() as session:
            rows = session.execute(
                select(AlertDelivery.dedupe_key, AlertDelivery.channel, AlertDelivery.status, func.count())
                .where(AlertDelivery.dedupe_key.in_(keys))
                .group_by(AlertDelivery.dedupe_key, AlertDelivery.channel, AlertDelivery.status)
            ).all()
        for key, channel, status, count in rows:
            if status == "sent":
                sent.add((key, channel))
            else:
                failed[(key, channel)] = int(count)

    with_retry(load, what="alert history")
    return sent, failed


def _record(sessions: sessionmaker[Session], alert: Alert, channel: Channel, status: str, error: str) -> None:
    def write() -> None:
        with sessions.begin() as session:
            session.add(
                AlertDelivery(
                    kind=alert.kind,
                    channel=channel.name,
                    target=channel.target[:255],
                    status=status,
                    error=error[:2000],
                    attempted_at=utcnow(),
                    dedupe_key=alert.dedupe_key[:255],
                    title=alert.heading[:500],
                )
            )

    with_retry(write, what=f"recording the {channel.name} delivery of {alert.dedupe_key}")


def _run_channel(
    sessions: sessionmaker[Session],
    channel: Channel,
    alerts: Sequence[Alert],
    sent: set[tuple[str, str]],
    failed: dict[tuple[str, str], int],
    max_attempts: int,
) -> list[Outcome]:
    outcomes = []
    for alert in alerts:
        key = (alert.dedupe_key, channel.name)
        if key in sent or failed.get(key, 0) >= max_attempts:
            outcomes.append(Outcome(alert.dedupe_key, channel.name, "skipped"))
            continue
        try:
            channel.send(alert)
        except ChannelError as exc:
            error = str(exc)
        except Exception as exc:  # a bug in one channel must not stop the others or the rest of its queue
            log.exception("channel %s crashed on %s", channel.name, alert.dedupe_key)
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = ""
        status = "failed" if error else "sent"
        if error:
            log.warning("alert %s not delivered over %s: %s", alert.dedupe_key, channel.name, error)
        else:
            log.info("alert %s delivered over %s to %s", alert.dedupe_key, channel.name, channel.target)
        _record(sessions, alert, channel, status, error)
        outcomes.append(Outcome(alert.dedupe_key, channel.name, status, error))
    return outcomes


def deliver(
    sessions: sessionmaker[Session], channels: Sequence[Channel], alerts: Sequence[Alert], *, max_attempts: int
) -> list[Outcome]:
    """Send each alert over each channel (unless sent before); returns what happened, channel by channel."""
    unique = list({a.dedupe_key: a for a in alerts}.values())
    if not unique or not channels:
        if unique:
            log.info("%d alerts and no enabled channel: %s", len(unique), ", ".join(a.dedupe_key for a in unique))
        return []
    sent, failed = _history(sessions, [a.dedupe_key for a in unique])
    with ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="alert") as pool:
        futures = [
            pool.submit(_run_channel, sessions, channel, unique, sent, failed, max_attempts) for channel in channels
        ]
        return [outcome for future in futures for outcome in future.result()]
