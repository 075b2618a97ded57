"""End to end: crawl the replay web through its proxy with the demo sources, each source in its own child
process, and check the stored pages, hits, contacts and failures against the ground truth written beside
the recorded pages. Then crawl again: nothing is duplicated and last_seen moves. All of it twice: with the
crawl frontier in the database, and shared on Redis by the crawl and a worker (crawler/sharedfrontier.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from crawler.config import Config, load_config, load_overlay, with_changes
from crawler.runner import RunSummary, run_source
from crawler.worker import run_worker
from replayweb import ReplayWeb, demo_sources_path, load_ground_truth
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Contact, CrawlRun, FetchFailure, Hit, Page, SerpResult
from tests.conftest import TEST_DB, new_database_url
from tests.servers import RedisServer

pytestmark = pytest.mark.database  # the module's crawl keeps its own database (conftest.new_database_url)

FAILURE_REASONS = {
    "redirect_loop": "redirect_loop",
    "http_404": "http_404",
    "http_500": "http_500",
    "timeout": "timeout",
    "too_large": "too_large",
    "binary": "binary",
    "unknown_host": "dns_error",
}


def crawl_config(tmp: Path, proxy: str, database_url: str = "sqlite:///e2e.sqlite") -> Config:
    path = tmp / "config.yaml"
    path.write_text(
        yaml.safe_dump({"database": {"url": database_url}, "network": {"max_page_bytes": 5 * 1024 * 1024}}),
        encoding="utf-8",
    )
    overlay = load_overlay(demo_sources_path())
    network = {"proxy": proxy, "timeout_seconds": 2.0, "retries": 0, "download_delay_seconds": 0.0}
    return with_changes(load_config(path), "e2e", **overlay, network=network)


def crawl_all(config: Config, sessions: Any) -> list[RunSummary]:
    return [run_source(config, source, sessions, show_progress=False) for source in config.sources]


# the PostgreSQL pass crawls with the database frontier only: PostgreSQL with Redis is covered by
# tests/test_shared_frontier.py, and the pass stays short
@pytest.fixture(scope="module", params=["database", "redis"] if TEST_DB == "sqlite" else ["database"])
def crawled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The crawls of every test here, twice: with each crawl's frontier in the database (one process per
    source), and with the site sources' frontier shared on Redis by the crawl and a ``touthunt worker``."""
    tmp = tmp_path_factory.mktemp("e2e")
    redis = RedisServer(appendonly=True).start() if request.param == "redis" else None
    stop = threading.Event()
    try:
        with ReplayWeb() as web:
            config = crawl_config(tmp, web.proxy_url, new_database_url("e2e.sqlite"))
            if redis is not None:
                config = with_changes(config, "e2e", frontier={"url": redis.url, "heartbeat_seconds": 0.5})
                threading.Thread(target=run_worker, args=(config,), kwargs={"stop": stop}, daemon=True).start()
            engine = make_engine(config.database_url)
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            first = crawl_all(config, sessions)
            requests = list(web.requests_log)
            with sessions() as s:
                before = {p.canonical_url: p.last_seen for p in s.scalars(select(Page))}
            second = crawl_all(config, sessions)
    finally:
        stop.set()
        if redis is not None:
            redis.cleanup()
    yield {"sessions": sessions, "first": first, "second": second, "requests": requests, "before": before}
    engine.dispose()


@pytest.fixture(scope="module")
def truth() -> list[Any]:
    return load_ground_truth()


def stored_pages(sessions: Any) -> dict[str, Page]:
    """Pages by every URL they answer to (requested and final)."""
    with sessions() as s:
        pages = s.scalars(select(Page)).all()
        for page in pages:
            _ = page.hit, page.contacts
    by_url: dict[str, Page] = {}
    for page in pages:
        by_url[page.url] = page
        by_url.setdefault(page.final_url, page)
    return by_url


def test_every_run_finished_with_counts(crawled: Any) -> None:
    for summary in crawled["first"]:
        assert summary.status == "finished", summary
        assert summary.pages_stored > 0
        assert summary.pages_fetched >= summary.pages_stored
    forum = next(s for s in crawled["first"] if s.source == "jiankang-luntan")
    assert forum.errors == sum(forum.error_reasons.values()) >= 7


def engine_pages(sessions: Any) -> set[str]:
    """Search engines' result pages and jump pages (a page that only refreshes to a result's target) are
    recorded through the search results they showed and resolved, not as pages."""
    with sessions() as s:
        serps = set(s.scalars(select(SerpResult.serp_url)))
        jumps = set(s.scalars(select(SerpResult.redirect_url).where(SerpResult.resolution == "redirect")))
        runs = s.scalars(select(CrawlRun)).all()
        no_results = {url for run in runs for url in (run.health or {}).get("serp_no_results_urls", [])}
    return serps | jumps | no_results


def test_reached_pages_are_stored_and_unreached_are_not_fetched(crawled: Any, truth: list[Any]) -> None:
    pages = stored_pages(crawled["sessions"])
    jumps = engine_pages(crawled["sessions"])
    requested = {p.url for p in pages.values()}
    # a redirect's target is fetched as part of its source URL, not as a URL of its own
    redirect_targets = {p.final_url for p in pages.values() if p.final_url != p.url}
    fetched = {url for _method, url, _status in crawled["requests"]} - redirect_targets
    for entry in truth:
        if entry.failure:
            continue
        if entry.reached:
            assert entry.url in pages or entry.url in jumps, f"{entry.url} ({entry.label}) should have been crawled"
        else:
            assert entry.url not in requested, f"{entry.url} should not have been crawled"
            assert entry.url not in fetched, f"{entry.url} was requested although it is out of reach"


def test_hits_and_categories_match_ground_truth(crawled: Any, truth: list[Any]) -> None:
    pages = stored_pages(crawled["sessions"])
    wrong = []
    for entry in truth:
        if entry.failure or not entry.reached or entry.url not in pages:  # (search engine pages are no pages)
            continue
        page = pages[entry.url]
        got = (page.hit is not None, page.hit.category if page.hit else None)
        want = (entry.hit, entry.category if entry.hit else None)
        if got != want:
            wrong.append(f"{entry.url} [{entry.label}]: got {got}, want {want} (score {page.hit and page.hit.score})")
    assert not wrong, "\n".join(wrong)


def test_contacts_match_ground_truth(crawled: Any, truth: list[Any]) -> None:
    pages = stored_pages(crawled["sessions"])
    wrong = []
    for entry in truth:
        if entry.failure or not entry.reached or entry.url not in pages:
            continue
        got = {
            kind: sorted(c.value for c in pages[entry.url].contacts if c.kind == kind)
            for kind in ("mobile", "wechat", "qq")
        }
        want = {kind: sorted(values) for kind, values in entry.contacts.as_dict().items()}
        if got != want:
            wrong.append(f"{entry.url}: got {got}, want {want}")
    assert not wrong, "\n".join(wrong)


def test_broken_routes_fail_with_their_reason(crawled: Any, truth: list[Any]) -> None:
    with crawled["sessions"]() as s:
        failures = {(f.url, f.reason) for f in s.scalars(select(FetchFailure))}
    for entry in truth:
        if entry.failure:
            assert (entry.url, FAILURE_REASONS[entry.failure]) in failures, f"{entry.url}: {sorted(failures)}"


def test_robots_disallowed_page_is_never_requested(crawled: Any, truth: list[Any]) -> None:
    fetched = {url for _method, url, _status in crawled["requests"]}
    assert any(url.endswith("/robots.txt") for url in fetched)
    with crawled["sessions"]() as s:
        blocked = s.scalars(select(FetchFailure.url).where(FetchFailure.reason == "robots_disallowed")).all()
    assert blocked and not set(blocked) & fetched


def test_gbk_pages_are_decoded(crawled: Any) -> None:
    with crawled["sessions"]() as s:
        encodings = dict(s.execute(select(Page.domain, Page.encoding)).all())
        texts = {p.domain: p.text for p in s.scalars(select(Page))}
    for host in ("www.zhuanjiahao365.cn", "www.mingyihao88.com", "www.hz-daiguahao.net"):
        assert encodings[host] == "gb18030", host
        assert "号" in texts[host] and "\ufffd" not in texts[host], host


def test_second_crawl_duplicates_nothing_and_updates_last_seen(crawled: Any) -> None:
    sessions = crawled["sessions"]
    with sessions() as s:
        pages = s.scalars(select(Page)).all()
        assert len(pages) == len(crawled["before"])
        assert all(p.last_seen > crawled["before"][p.canonical_url] for p in pages)
        assert s.scalar(select(func.count(Hit.id))) == s.scalar(select(func.count(func.distinct(Hit.page_id))))
        assert s.scalar(select(func.count(Contact.id))) == s.scalar(
            select(func.count()).select_from(select(Contact.page_id, Contact.kind, Contact.value).distinct().subquery())
        )
        runs = s.scalars(select(CrawlRun)).all()
        assert len(runs) == 2 * len(crawled["first"])
    assert sum(s.hits_new for s in crawled["second"]) == 0
    assert sum(s.pages_stored for s in crawled["second"]) == sum(s.pages_stored for s in crawled["first"])


def test_unreachable_proxy_fails_each_url_with_a_reason(tmp_path: Path, database_url: str) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    config = crawl_config(tmp_path, f"http://127.0.0.1:{dead_port}", database_url)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    source = config.sources[0]
    summary = run_source(config, source, sessions, show_progress=False)
    assert summary.status == "finished"
    assert summary.pages_stored == 0
    assert summary.error_reasons == {"connection_refused": len(source.start_urls)}
    with sessions() as s:
        assert [f.url for f in s.scalars(select(FetchFailure))] == list(source.start_urls)
    engine.dispose()
