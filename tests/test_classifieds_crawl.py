"""End to end: the ``classifieds`` source kind on the replay web's 瀚州便民网, configured by selectors only
(CSS and XPath give the same crawl). Pagination is bounded by max_pages, a next link back to a list page
already read is a counted loop, calendar pages are bounded by max_calendar_pages, a login wall is recorded
as the run's state, and stale selectors make the run a parser failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.config import Config, load_config, with_changes
from crawler.runner import RunSummary, run_source
from replayweb import ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import CrawlRun, Page
from tests.conftest import database_url_for

pytestmark = pytest.mark.database

SITE = "http://www.hzbianmin.com"
CSS = {
    "selector_type": "css",
    "list_item_selector": "ul#infolist > li.info-item",
    "detail_link_selector": "a.t::attr(href)",
    "next_page_selector": "div.pager a.next::attr(href)",
    "max_pages": 3,
    "max_calendar_pages": 2,
}
XPATH = {
    "selector_type": "xpath",
    "list_item_selector": "//ul[@id='infolist']/li[contains(@class, 'info-item')]",
    "detail_link_selector": ".//a[@class='t']",  # elements: their href is taken
    "next_page_selector": "//div[@class='pager']/a[@class='next']",
    "max_pages": 3,
    "max_calendar_pages": 2,
}


def config_for(tmp: Path, proxy: str, start: str, classifieds: dict[str, Any], name: str = "bianmin") -> Config:
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": database_url_for(tmp / "cl.sqlite")}}), encoding="utf-8")
    source = {
        "name": name,
        "kind": "classifieds",
        "start_urls": [SITE + start],
        "max_depth": 6,
        "follow_external_hops": 1,
        "classifieds": classifieds,
    }
    network = {"proxy": proxy, "timeout_seconds": 2.0, "retries": 0, "download_delay_seconds": 0.0}
    return with_changes(load_config(path), "classifieds-test", sources=[source], network=network)


def crawl(tmp: Path, web: ReplayWeb, start: str, classifieds: dict[str, Any]) -> tuple[RunSummary, Any]:
    config = config_for(tmp, web.proxy_url, start, classifieds)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    web.clear_log()
    summary = run_source(config, config.sources[0], sessions, show_progress=False)
    return summary, sessions


@pytest.fixture(scope="module")
def web() -> Any:
    with ReplayWeb() as replay:
        yield replay


def stored(sessions: Any) -> dict[str, Page]:
    with sessions() as s:
        pages = {p.url: p for p in s.scalars(select(Page))}
        for page in pages.values():
            _ = page.hit
    return pages


@pytest.mark.parametrize("selectors", [CSS, XPATH], ids=["css", "xpath"])
def test_list_and_detail_pages_with_bounded_pagination_and_calendar(
    tmp_path: Path, web: ReplayWeb, selectors: dict[str, Any]
) -> None:
    summary, sessions = crawl(tmp_path, web, "/jiankang/", selectors)
    assert summary.status == "finished" and summary.errors == 0
    pages = stored(sessions)
    lists = {u for u in pages if "/jiankang/" in u and not u.endswith("x.html")}
    assert lists == {f"{SITE}/jiankang/", f"{SITE}/jiankang/pn2/", f"{SITE}/jiankang/pn3/"}
    details = {u.rsplit("/", 1)[1] for u in pages if u.endswith("x.html")}
    assert details == {f"7130{i}x.html" for i in range(1, 7)}  # 71307 is only on page 4
    hits = {u.rsplit("/", 1)[1] for u, p in pages.items() if p.hit is not None and "hzbianmin" in u}
    assert hits == {"71301x.html", "71303x.html", "71305x.html"}
    assert pages[f"{SITE}/jiankang/71301x.html"].depth == 1
    assert "http://www.hzguahao-vip.com/fuwu.html" in pages  # the ad's link to the scalper's own site
    days = sorted(u for u in pages if "/rili/" in u)
    assert days == [f"{SITE}/rili/2026-11-21.html", f"{SITE}/rili/2026-11-22.html"]
    requested = {url for _m, url, _s in web.requests_log}
    assert f"{SITE}/jiankang/pn4/" not in requested and f"{SITE}/rili/2026-11-20.html" not in requested
    with sessions() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert run.source_state == "ok" and run.robots_obeyed is True
        assert run.health == {
            "classifieds_list_pages": 3,
            "classifieds_listings": 6,
            "classifieds_pages_beyond_limit": 1,
            "classifieds_calendar_links_skipped": 1,
        }


def test_a_next_link_back_to_a_page_already_read_is_a_counted_loop(tmp_path: Path, web: ReplayWeb) -> None:
    summary, sessions = crawl(tmp_path, web, "/jiankang/pn3/", {**CSS, "max_pages": 10})
    assert summary.status == "finished"
    pages = stored(sessions)
    assert {f"{SITE}/jiankang/pn4/", f"{SITE}/jiankang/", f"{SITE}/jiankang/pn2/"} <= set(pages)
    with sessions() as s:
        assert s.get_one(CrawlRun, summary.run_id).health["classifieds_pagination_loops"] == 1


def test_login_wall_is_the_runs_state(tmp_path: Path, web: ReplayWeb) -> None:
    summary, sessions = crawl(tmp_path, web, "/vip/", CSS)
    with sessions() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert (run.source_state, run.blocked) == ("login_wall", 1)
        assert run.health == {"blocked_login_wall": 1, "classifieds_list_pages": 1}


def test_stale_selectors_are_a_parser_failure(tmp_path: Path, web: ReplayWeb) -> None:
    summary, sessions = crawl(tmp_path, web, "/jiankang/", {**CSS, "list_item_selector": "div.list-v2 > article"})
    with sessions() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert run.source_state == "parser_failure"
    assert [u for u in stored(sessions)] == [f"{SITE}/jiankang/"]
