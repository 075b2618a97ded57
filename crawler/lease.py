"""One scheduler per database: a lease row (``scheduler_leases``) that ``touthunt serve`` takes on start and
renews by heartbeat every third of ``scheduler.lease_seconds``.

A second ``touthunt serve`` on the same database finds a live lease and refuses to start, naming the holder.
A lease whose holder stopped renewing expires; one held by a process on this machine that no longer exists
is taken over at once (a crash or SIGKILL needs no waiting). Every change is a compare-and-swap on the
holder's random token, so two starting schedulers can never both win. Works on SQLite and server databases
alike (no file locks)."""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crawler.errors import TouthuntError
from crawler.hitlist import CHINA
from crawler.runner import this_host
from storage.models import SchedulerLease, utcnow

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


class LeaseHeld(TouthuntError):
    """Another live scheduler holds the database."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _local(value: datetime) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _utc(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def held_message(row: SchedulerLease) -> str:
    return (
        f"另一个调度器正在使用此数据库：主机 {row.host} 上的进程 {row.pid}，自 {_local(row.acquired_at)} 起运行，"
        f"最近心跳 {_local(row.heartbeat_at)}，租约到期 {_local(row.expires_at)}。请先停止它再启动。\n"
        f"Another scheduler holds this database: process {row.pid} on host {row.host}, running since "
        f"{_utc(row.acquired_at)}, last heartbeat {_utc(row.heartbeat_at)}, lease expires {_utc(row.expires_at)}. "
        "Stop it first."
    )


class Lease:
    def __init__(self, sessions: sessionmaker[Session], seconds: float, name: str = LEASE_NAME) -> None:
        self.sessions = sessions
        self.seconds = seconds
        self.name = name
        self.token = uuid.uuid4().hex
        self.host = this_host()
        self.pid = os.getpid()

    def _takeable(self, row: SchedulerLease, now: datetime) -> str | None:
        """Why a held lease may be taken over (None: it may not)."""
        if row.token == self.token:
            return "ours"
        if row.expires_at <= now:
            return "expired"
        if row.host == self.host and (row.pid == self.pid or not _pid_alive(row.pid)):
            return f"its process {row.pid} on this host is gone"
        return None

    def acquire(self) -> None:
        """Take the lease or raise :class:`LeaseHeld` naming its holder."""
        now = utcnow()
        expires = now + timedelta(seconds=self.seconds)
        try:
            with self.sessions.begin() as session:
                row = session.get(SchedulerLease, self.name)
                if row is None:
                    session.add(
                        SchedulerLease(
                            name=self.name, token=self.token, host=self.host, pid=self.pid, acquired_at=now,
                            heartbeat_at=now, expires_at=expires,
                        )
                    )  # fmt: skip
                    session.flush()
                    log.info("scheduler lease taken (host %s, pid %s)", self.host, self.pid)
                    return
                why = self._takeable(row, now)
                if why is None:
                    raise LeaseHeld(held_message(row))
                taken = session.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.name == self.name, SchedulerLease.token == row.token)
                    .values(
                        token=self.token,
                        host=self.host,
                        pid=self.pid,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=expires,
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    raise LeaseHeld("另一个调度器刚刚启动 (another scheduler started at the same moment)")
                log.warning("scheduler lease taken over from %s pid %s: %s", row.host, row.pid, why)
        except IntegrityError:
            raise LeaseHeld("另一个调度器刚刚启动 (another scheduler started at the same moment)") from None

    def renew(self) -> bool:
        """Heartbeat; False when the lease is no longer ours (another scheduler took it over)."""
        now = utcnow()
        with self.sessions.begin() as session:
            result = session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.token == self.token)
                .values(heartbeat_at=now, expires_at=now + timedelta(seconds=self.seconds))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    def release(self) -> None:
        with self.sessions.begin() as session:
            result = session.execute(
                delete(SchedulerLease).where(SchedulerLease.name == self.name, SchedulerLease.token == self.token)
            )
        if result.rowcount:  # type: ignore[attr-defined]
            log.info("scheduler lease released")


def current_holder(session: Session, name: str = LEASE_NAME) -> SchedulerLease | None:
    """The lease row if it is live (not expired), for ``touthunt status``."""
    row = session.get(SchedulerLease, name)
    return row if row is not None and row.expires_at > utcnow() else None
