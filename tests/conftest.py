"""Shared fixtures: no test reaches a real network (proxy variables cleared), every test gets its own
temporary database and config.

The database is SQLite unless ``TOUTHUNT_TEST_DATABASE=postgresql``: then one throw-away PostgreSQL cluster is
started for the session (``tests/servers.py``) and every test gets a fresh database in it, copied from a
template that was migrated once. ``make test`` runs the suite both ways.
"""

from __future__ import annotations

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

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


_TEMPLATE = "touthunt_template"
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One PostgreSQL cluster for the session, with a template database at the newest schema."""
    from storage.db import make_engine, upgrade
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    try:
        engine = make_engine(server.create_database(_TEMPLATE))
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


def new_database_url(request: pytest.FixtureRequest, sqlite_path: str = "var/test.sqlite") -> str:
    """A fresh database at the newest schema with no rows: a SQLite file relative to the config's folder, or
    a new PostgreSQL database (see the module docstring). Usable from fixtures of any scope."""
    if TEST_DB == "sqlite":
        return f"sqlite:///{sqlite_path}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{os.getpid()}_{next(_database_numbers)}", template=_TEMPLATE)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """This test's own database URL (`new_database_url`)."""
    return new_database_url(request)


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
