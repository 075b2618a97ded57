"""The crawl frontier shared on Redis (crawler/sharedfrontier.py, ``touthunt worker``), against a real
redis-server started by the test and the recorded web of tests/crawlweb.py:

* an owner and two workers store exactly the pages and hits of a crawl by one process, fetch no URL twice,
  and the run is recorded once, with every worker's figures;
* faults: a worker killed with SIGKILL, a worker stopped with SIGTERM, Redis restarting, the database refusing
  work for a few seconds: the crawl still ends with every page stored and nothing fetched twice (but the
  requests a killed worker held and had not stored);
* the lease bookkeeping itself, and the configuration errors a user can make.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crawler.cli import main
from crawler.config import Config, load_config
from crawler.errors import ConfigError
from crawler.runner import RunSummary, run_source
from crawler.sharedfrontier import Fleet, Keys, combined_stats, connect
from crawler.worker import WorkerReport, run_worker
from replayweb import ReplayWeb
from review.app import create_app
from storage.models import CrawlRun, Hit, Page
from tests.conftest import database_unavailable, database_url_for
from tests.crawlweb import crawl_settings, open_db, page_count, source_entry, wait_for, write_web
from tests.review_seed import ANALYST, login, seed

ROBOTS = "/robots.txt"  # every crawl process asks for it once: not a page, not a duplicate fetch


def make_config(folder: Path, proxy_url: str, redis_url: str | None, **frontier: Any) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {
        "database": {"url": database_url_for(folder / "db.sqlite"), "busy_timeout_seconds": 0.5},
        "sources": [source_entry()],
        **crawl_settings(proxy_url),
    }
    if redis_url:
        body["frontier"] = {"url": redis_url, "heartbeat_seconds": 0.5, "worker_timeout_seconds": 4, **frontier}
    (folder / "config.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return load_config(folder / "config.yaml")


def stored(sessions: Any) -> dict[str, int | None]:
    with sessions() as s:
        return {p.canonical_url: p.last_run_id for p in s.scalars(select(Page))}


def hit_pages(sessions: Any) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(Page.canonical_url).join(Hit, Hit.page_id == Page.id)))


def fetched_twice(web: Any) -> dict[str, int]:
    counts = Counter(url for _method, url, _status in web.requests_log if not url.endswith(ROBOTS))
    return {url: n for url, n in counts.items() if n > 1}


def start_workers(config: Config, n: int) -> tuple[threading.Event, list[threading.Thread], list[WorkerReport]]:
    stop, reports = threading.Event(), []

    def work() -> None:
        reports.append(run_worker(config, stop=stop, max_runs=1, poll_seconds=0.1))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(n)]
    for thread in threads:
        thread.start()
    return stop, threads, reports


def crawl_in_thread(config: Config, sessions: Any) -> tuple[threading.Thread, list[RunSummary]]:
    result: list[RunSummary] = []
    thread = threading.Thread(
        target=lambda: result.append(run_source(config, config.sources[0], sessions, show_progress=False)),
        daemon=True,
    )
    thread.start()
    return thread, result


def crawl_with_a_fault(
    config: Config, sessions: Any, web: Any, *, when: Any, fault: Any
) -> tuple[RunSummary, WorkerReport]:
    """A crawl by the owner and one worker; ``fault()`` strikes once ``when()`` holds. The run's summary and the
    worker's report, once both ended."""
    stop, threads, reports = start_workers(config, 1)
    web.clear_log()
    crawl, result = crawl_in_thread(config, sessions)
    wait_for(when, 60, "the moment of the fault")
    fault()
    crawl.join(120)
    for thread in threads:
        thread.join(30)
    stop.set()
    return result[0], reports[0]


def first_pages_stored(sessions: Any) -> Any:
    return lambda: len(stored(sessions)) >= 3


def redis_keys(url: str) -> list[bytes]:
    return redis.Redis.from_url(url).keys("*")


def other_workers(fleet_url: str, owner_pid: int | None = None) -> list[str]:
    members = {w.decode() for w in redis.Redis.from_url(fleet_url).smembers("touthunt:kuaiyue:workers")}
    return sorted(w for w in members if owner_pid is None or w.split(":")[1] != str(owner_pid))


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ReplayWeb(write_web(tmp_path_factory.mktemp("web"), slow_delay=2.0)) as server:
        yield server


@pytest.fixture(scope="module")
def alone(web: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One process, the frontier in the database: what every shared crawl must add up to."""
    config = make_config(tmp_path_factory.mktemp("alone"), web.proxy_url, None)
    sessions = open_db(config)
    summary = run_source(config, config.sources[0], sessions, show_progress=False)
    assert summary.status == "finished", summary
    pages = set(stored(sessions))
    assert len(pages) == page_count()
    return {"pages": pages, "hits": hit_pages(sessions)}


@pytest.mark.database
def test_owner_and_two_workers_store_what_one_process_stores_and_record_the_run_once(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url, redis_server.url)
    sessions = open_db(config)
    stop, threads, reports = start_workers(config, 2)
    web.clear_log()
    summary = run_source(config, config.sources[0], sessions, show_progress=False)
    for thread in threads:
        thread.join(60)
    stop.set()

    assert summary.status == "finished", summary
    assert set(stored(sessions)) == alone["pages"]
    assert hit_pages(sessions) == alone["hits"]
    assert fetched_twice(web) == {}
    assert summary.pages_fetched == page_count() and summary.pages_stored == page_count()
    with sessions() as s:
        runs = s.scalars(select(CrawlRun)).all()
        assert [(r.id, r.status) for r in runs] == [(summary.run_id, "finished")]  # recorded once
        assert runs[0].health["workers"] == 3
    assert sorted((source, run_id, code) for report in reports for source, run_id, code in report.joined) == [
        ("kuaiyue", summary.run_id, 0),
        ("kuaiyue", summary.run_id, 0),
    ]
    assert redis_keys(redis_server.url) == []  # the cycle is over: the next run starts from the start URLs

    again = run_source(config, config.sources[0], sessions, show_progress=False)  # alone now: still complete
    assert again.status == "finished" and again.pages_stored == page_count() and again.hits_new == 0


def test_a_worker_killed_with_sigkill_loses_nothing(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url, redis_server.url)
    sessions = open_db(config)
    fleet_keys = Keys("touthunt", "kuaiyue")
    server = redis.Redis.from_url(redis_server.url)
    at_kill: dict[str, set[str]] = {}

    def worker_holds_requests() -> bool:
        with sessions() as s:
            run = s.scalar(select(CrawlRun))
        others = other_workers(redis_server.url, run.pid if run else None) if run and run.pid else []
        return bool(others) and server.hlen(fleet_keys.leases(others[0])) > 0 and len(stored(sessions)) >= 3

    def kill_the_worker() -> None:
        with sessions() as s:
            victim = other_workers(redis_server.url, s.scalar(select(CrawlRun.pid)))[0]
        os.kill(int(victim.split(":")[1]), signal.SIGKILL)
        at_kill["requested"] = {url for _m, url, _s in web.requests_log}
        at_kill["stored"] = set(stored(sessions))

    summary, report = crawl_with_a_fault(config, sessions, web, when=worker_holds_requests, fault=kill_the_worker)
    assert summary.status == "finished", summary
    assert set(stored(sessions)) == alone["pages"]  # nothing lost
    assert hit_pages(sessions) == alone["hits"]
    assert report.joined[0][2] == -signal.SIGKILL
    # fetched again: only requests the killed worker had taken and not stored
    assert set(fetched_twice(web)) <= at_kill["requested"] - at_kill["stored"]
    assert redis_keys(redis_server.url) == []


def test_a_worker_stopped_with_sigterm_gives_its_requests_back_at_once(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    # a worker taken for dead only after 10 minutes: the crawl ends in time only if the stopped worker gave back
    config = make_config(tmp_path, web.proxy_url, redis_server.url, worker_timeout_seconds=600)
    sessions = open_db(config)
    worker = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "worker", "--config", str(tmp_path / "config.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        crawl, result = crawl_in_thread(config, sessions)
        server = redis.Redis.from_url(redis_server.url)

        def worker_holds_requests() -> bool:
            leases = Keys("touthunt", "kuaiyue").leases
            return any(server.hlen(leases(w)) for w in other_workers(redis_server.url) if not _is_owner(sessions, w))

        wait_for(worker_holds_requests, 60, "the worker's crawl process to hold requests")
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
        assert worker.returncode == 0, output
        assert "已停止" in output
        crawl.join(90)
    finally:
        if worker.poll() is None:
            worker.kill()
    summary = result[0]
    assert summary.status == "finished", summary
    assert set(stored(sessions)) == alone["pages"]
    assert redis_keys(redis_server.url) == []


def _is_owner(sessions: Any, worker: str) -> bool:
    with sessions() as s:
        return s.scalar(select(CrawlRun.pid)) == int(worker.split(":")[1])


def test_redis_restarting_during_the_crawl_loses_nothing(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url, redis_server.url)
    sessions = open_db(config)
    summary, _report = crawl_with_a_fault(
        config, sessions, web, when=first_pages_stored(sessions), fault=redis_server.restart
    )
    assert summary.status == "finished", summary
    assert set(stored(sessions)) == alone["pages"]
    assert hit_pages(sessions) == alone["hits"]
    assert fetched_twice(web) == {}


@pytest.mark.database
def test_the_database_refusing_work_for_seconds_loses_nothing(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url, redis_server.url)
    sessions = open_db(config)

    def refuse_work_for_four_seconds() -> None:
        sessions.kw["bind"].dispose()  # this test's own connections must not keep the server from stopping
        with database_unavailable(config.database_url):
            time.sleep(4)

    summary, _report = crawl_with_a_fault(
        config, sessions, web, when=first_pages_stored(sessions), fault=refuse_work_for_four_seconds
    )
    assert summary.status == "finished", summary
    assert "store_error" not in summary.error_reasons
    assert set(stored(sessions)) == alone["pages"]
    assert hit_pages(sessions) == alone["hits"]
    assert fetched_twice(web) == {}
    with sessions() as s:
        assert s.scalar(select(func.count(CrawlRun.id))) == 1


def test_a_stopped_shared_crawl_resumes_from_the_queue_on_its_next_run(
    web: Any, alone: dict[str, Any], redis_server: Any, tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url, redis_server.url)
    sessions = open_db(config)
    web.clear_log()
    stop = threading.Event()
    result: list[RunSummary] = []
    thread = threading.Thread(
        target=lambda: result.append(run_source(config, config.sources[0], sessions, show_progress=False, stop=stop))
    )
    thread.start()
    wait_for(first_pages_stored(sessions), 60, "the first pages")
    stop.set()  # touthunt serve shutting down
    thread.join(60)
    assert result[0].status == "interrupted"
    fleet = Fleet(connect(redis_server.url), Keys("touthunt", "kuaiyue"), "test")
    assert fleet.queued() > 0 and fleet.leased() == 0 and fleet.current_run() is None  # all back in the queue
    first = stored(sessions)
    requested_first = {url for _m, url, _s in web.requests_log}

    resumed = run_source(config, config.sources[0], sessions, show_progress=False)
    assert resumed.status == "finished", resumed
    after = stored(sessions)
    assert set(after) == alone["pages"]
    assert {url for url, run in after.items() if run == result[0].run_id} == set(first)  # not fetched again
    assert set(fetched_twice(web)) <= requested_first - set(first)  # only what the stop cut off
    assert redis_keys(redis_server.url) == []


# the bookkeeping on its own -----------------------------------------------------------------------------


def test_leases_are_given_back_reaped_or_settled(redis_server: Any) -> None:
    server = connect(redis_server.url)
    keys = Keys("t", "src")
    a, b = Fleet(server, keys, "host:1:a"), Fleet(server, keys, "host:2:b")
    a.join(30)
    b.join(30)
    for i, data in enumerate([b"r1", b"r2", b"r3"]):
        a.push(data, -i)
    first, second = a.take(), a.take()
    assert first is not None and second is not None
    assert {first[1], second[1]} == {b"r3", b"r2"}  # the highest priority (lowest score) first
    assert a.queued() == 1 and b.leased() == 2

    assert b.reap() == 0  # a is alive: its requests stay leased
    server.delete(keys.alive(a.worker))  # a's heartbeat expired (killed)
    assert b.reap() == 2 and b.queued() == 3 and b.leased() == 0
    assert b.others() == set()  # a left the run

    taken = b.take()
    assert taken is not None
    epoch = b.epoch()
    b.settle([taken[0]])
    assert b.leased() == 0 and b.epoch() == epoch + 1
    b.take()
    assert b.give_back() == 1 and b.queued() == 2


def test_reports_are_summed_and_the_run_is_withdrawn_once(redis_server: Any) -> None:
    fleet = Fleet(connect(redis_server.url), Keys("t", "src"), "host:1:a")
    fleet.announce(7)
    assert fleet.current_run() == 7
    fleet.report(7, {"touthunt/pages_fetched": 3, "touthunt/source_state": "ok"})
    fleet.server.hset(fleet.keys.stats(7), "host:2:b", '{"touthunt/pages_fetched": 4, "touthunt/source_state": "x"}')
    total = combined_stats(fleet.reported(7))
    assert total["touthunt/pages_fetched"] == 7 and total["touthunt/source_state"] == "ok"
    assert fleet.withdraw(8) is False and fleet.withdraw(7) is True and fleet.current_run() is None


def test_frontier_configuration_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"frontier": {"url": "http://127.0.0.1:6379"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"frontier\.url"):
        load_config(path)
    path.write_text(yaml.safe_dump({"frontier": {"url_env": "TOUTHUNT_TEST_NO_SUCH_VAR"}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="TOUTHUNT_TEST_NO_SUCH_VAR"):
        _ = load_config(path).frontier_url
    path.write_text(yaml.safe_dump({"sources": [source_entry()]}), encoding="utf-8")
    outcome = CliRunner().invoke(main, ["worker", "--config", str(path)])
    assert outcome.exit_code == 2 and "frontier.url" in outcome.output


def test_status_shows_the_shared_crawl(redis_server: Any, tmp_path: Path) -> None:
    from crawler.status import render_status, status_data

    config = make_config(tmp_path, "http://127.0.0.1:9", redis_server.url)
    sessions = open_db(config)
    fleet = Fleet(connect(redis_server.url), Keys("touthunt", "kuaiyue"), "host:1:a")
    fleet.announce(12)
    fleet.join(30)
    fleet.push(b"r1", 0)
    fleet.push(b"r2", 0)
    fleet.take()
    with sessions() as session:
        data = status_data(config, session)
    assert data["sources"][0]["shared_frontier"] == {"run": 12, "queued": 1, "leased": 1, "workers": ["host:1:a"]}
    assert "共享队列：运行 #12 进行中，排队 1 个，处理中 1 个，在线工作进程 1 个" in render_status(data)
    client = TestClient(create_app(config, sessions))
    seed(config, sessions)
    assert login(client, *ANALYST).status_code == 303
    page = client.get("/status").text
    assert "共享队列：运行 #12 进行中，排队 1 个，处理中 1 个，在线工作进程 1 个（host:1:a）" in page

    redis_server.stop()
    with sessions() as session:
        data = status_data(config, session)
    assert "Redis unreachable" in data["sources"][0]["shared_frontier"]["error"]
    assert "无法连接" in render_status(data)
