"""Shared fixtures: no test reaches a real network (proxy variables cleared), every test gets its own
temporary database and config.

The database is SQLite unless ``TOUTHUNT_TEST_DATABASE=postgresql``: then one throw-away PostgreSQL cluster is
started for the session (``tests/servers.py``), every test gets a fresh database in it, copied from a template
that was migrated once, and only the tests that use a database fixture run. ``make test`` runs both passes.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy.utils.reactor import install_reactor

from crawler.config import Config, load_config

# The crawl processes run Twisted's asyncio reactor (crawler/settings.py); tests that build crawlers in this
# process get the same one, whichever test happens to touch Twisted first.
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

TEST_DB = os.environ.get("TOUTHUNT_TEST_DATABASE", "sqlite")
if TEST_DB not in ("sqlite", "postgresql"):
    raise RuntimeError(f"TOUTHUNT_TEST_DATABASE: {TEST_DB!r} is not sqlite or postgresql")

# Fixtures that put a test on the database under test; with TOUTHUNT_TEST_DATABASE=postgresql only the tests
# using one of them are run (the others do not touch a database and already ran on SQLite).
DATABASE_FIXTURES = frozenset({"database_url", "write_config", "sessions"})
DATABASE_MARK = "database"  # modules that call database_url_for themselves say so: pytestmark = pytest.mark.database


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DB == "postgresql":
        # Many tests open an engine per test and leave its pooled connections to the garbage collector; psycopg
        # warns when it closes them there (sqlite3 does not). The connections are closed either way.
        config.addinivalue_line(
            "filterwarnings",
            "ignore:Exception ignored in. <function BaseConnection.__del__:pytest.PytestUnraisableExceptionWarning",
        )
        config.addinivalue_line("filterwarnings", "ignore:.*was deleted while still open:ResourceWarning")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DB == "sqlite":
        return
    kept = [
        item
        for item in items
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(DATABASE_MARK)
    ]
    deselected = [item for item in items if item not in kept]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


_TEMPLATE = "touthunt_template"
_database_numbers = itertools.count(1)
_postgres: Any = None  # the session's PostgreSQL server, started on first use
_databases: dict[str, str] = {}  # a test's SQLite file path -> the PostgreSQL database standing in for it


def _postgres_server() -> Any:
    """The session's PostgreSQL cluster, with a template database at the newest schema (started once)."""
    global _postgres
    if _postgres is None:
        from storage.db import make_engine, upgrade
        from tests.servers import PostgresServer

        server = PostgresServer().start()
        try:
            engine = make_engine(server.create_database(_TEMPLATE))
            upgrade(engine)
            engine.dispose()
        except BaseException:
            server.stop()
            raise
        _postgres = server
    return _postgres


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres() -> Iterator[None]:
    yield
    if _postgres is not None:
        # connections the tests left to the garbage collector are closed now, while the warning filters of
        # pytest_configure still apply (after the session pytest reports them as errors)
        gc.collect()
        _postgres.stop()


def _new_postgres_database() -> str:
    """A new PostgreSQL database at the newest schema (a copy of the template), as a URL."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    return _postgres_server().create_database(name, template=_TEMPLATE)


def database_url_for(sqlite_file: Path | str) -> str:
    """The database a test would keep in ``sqlite_file``: that SQLite file, or (TOUTHUNT_TEST_DATABASE=postgresql)
    a fresh PostgreSQL database at the newest schema, the same one for the same file within the session."""
    if TEST_DB == "sqlite":
        return f"sqlite:///{sqlite_file}"
    key = str(Path(sqlite_file).resolve())
    if key not in _databases:
        _databases[key] = _new_postgres_database()
    return _databases[key]


def new_database_url(sqlite_path: str = "var/test.sqlite") -> str:
    """A fresh database for a test or fixture of any scope: a SQLite file relative to the config's folder, or a
    new PostgreSQL database."""
    if TEST_DB == "sqlite":
        return f"sqlite:///{sqlite_path}"
    return _new_postgres_database()


@contextlib.contextmanager
def database_unavailable(url: str) -> Iterator[None]:
    """The database under test refuses work for as long as the block runs: PostgreSQL is shut down (clients are
    refused), a SQLite file is held under an exclusive lock (writers time out with "database is locked")."""
    if TEST_DB == "postgresql":
        server = _postgres_server()
        server.pause()
        try:
            yield
        finally:
            server.resume()
        return
    import sqlite3

    from sqlalchemy.engine import make_url

    holder = sqlite3.connect(make_url(url).database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def redis_server() -> Iterator[Any]:
    """A redis-server of this test's own on a loopback port, persisting to its append-only file (so it can be
    restarted without losing the queue, as a production Redis for the shared frontier must be configured)."""
    from tests.servers import RedisServer

    server = RedisServer(appendonly=True).start()
    yield server
    server.cleanup()


@pytest.fixture
def database_url() -> str:
    """This test's own database URL (`new_database_url`)."""
    return new_database_url()


@pytest.fixture
def write_config(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """Write a config.yaml into a temp folder (database and var inside it) and load it."""

    def _write(data: dict[str, Any] | None = None, name: str = "config.yaml") -> Config:
        body = {"database": {"url": database_url}, **(data or {})}
        path = tmp_path / name
        path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
        return load_config(path)

    yield _write


@pytest.fixture
def sessions(write_config: Any) -> Any:
    from storage.db import make_engine, make_sessionmaker, upgrade

    config = write_config()
    engine = make_engine(config.database_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()
