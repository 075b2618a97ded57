"""Shared fixtures: no test reaches a real network (proxy variables cleared), every test gets its own
temporary SQLite database and config."""

from __future__ import annotations

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

PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def write_config(tmp_path: Path) -> Iterator[Any]:
    """Write a config.yaml into a temp folder (database and var inside it) and load it."""

    def _write(data: dict[str, Any] | None = None, name: str = "config.yaml") -> Config:
        body = {"database": {"url": "sqlite:///var/test.sqlite"}, **(data or {})}
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
