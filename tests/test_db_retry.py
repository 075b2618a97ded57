"""Database locked or briefly unavailable: the scheduler's database work is retried with growing waits and
each retry logged; when the database stays away the error names the operation."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.errors import StorageError
from storage import repository
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Source
from storage.retry import with_retry


def test_a_write_waits_out_a_lock_held_longer_than_the_busy_timeout(tmp_path: Path, caplog: Any) -> None:
    path = tmp_path / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_seconds=0.2)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:  # e.g. a backup or a long batch in another process
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(5)
    threading.Timer(1.0, release.set).start()

    def write() -> None:
        with sessions.begin() as session:
            repository.ensure_source(session, "forum", "site")

    caplog.set_level(logging.WARNING, logger="storage.retry")
    started = time.monotonic()
    with_retry(write, what="recording a source", first_delay=0.2)
    holder.join()
    assert time.monotonic() - started >= 0.9
    with sessions() as session:
        assert session.scalar(select(Source.name)) == "forum"
    messages = [r.getMessage() for r in caplog.records]
    assert messages and all("recording a source: database unavailable (database is locked)" in m for m in messages)
    assert "attempt 1 of 5, retrying in 0.2 s" in messages[0]
    if len(messages) > 1:
        assert "retrying in 0.4 s" in messages[1]
    engine.dispose()


def test_a_database_that_comes_back_is_used_and_one_that_does_not_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "mount"
    folder.mkdir()
    url = f"sqlite:///{folder}/db.sqlite"
    engine = make_engine(url, busy_timeout_seconds=0.2)
    folder.rmdir()  # the volume holding the database is not there yet
    threading.Timer(0.8, folder.mkdir).start()
    with_retry(lambda: upgrade(engine), what="database upgrade", first_delay=0.3)
    assert (folder / "db.sqlite").exists()
    engine.dispose()

    gone = make_engine(f"sqlite:///{tmp_path}/never/db.sqlite")
    (tmp_path / "never").rmdir()
    sleeps: list[float] = []
    with pytest.raises(StorageError, match="reading runs: database still unavailable after 4 attempts"):
        with_retry(lambda: gone.connect().close(), what="reading runs", attempts=4, sleep=sleeps.append)
    assert sleeps == [0.5, 1.0, 2.0]
    gone.dispose()
