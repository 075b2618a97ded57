"""Crash safety: a crawl killed with SIGKILL in the middle resumes on the next run from the crawl frontier
kept in the database: the union of the two runs' pages equals a clean crawl, nothing stored by the killed
run is fetched again, no hit is stored twice, and the killed run is recorded as ``interrupted``. The same
holds for a crawl stopped at its time limit; runs whose process vanished are found and marked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from crawler.config import Config, load_config
from crawler.runner import RunSummary, SourceBusy, mark_gone_runs_interrupted, run_source, this_host
from replayweb import ReplayWeb
from storage import repository
from storage.models import CrawlRun, FrontierEntry, Hit, Page, utcnow
from tests.conftest import database_url_for
from tests.crawlweb import SLOW_PATH, crawl_settings, open_db, page_count, source_entry, wait_for, write_web

pytestmark = pytest.mark.database


def make_config(folder: Path, proxy_url: str, *, timeout: float = 10) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "database": {"url": database_url_for(folder / "db.sqlite")},
        "sources": [source_entry()],
        **crawl_settings(proxy_url),
    }
    body["network"]["timeout_seconds"] = timeout
    (folder / "config.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return load_config(folder / "config.yaml")


def pages_by_run(sessions: Any) -> dict[str, tuple[int | None, int | None]]:
    with sessions() as s:
        return {p.canonical_url: (p.first_run_id, p.last_run_id) for p in s.scalars(select(Page))}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ReplayWeb(write_web(tmp_path_factory.mktemp("web"), slow_delay=4.0)) as server:
        yield server


@pytest.fixture(scope="module")
def clean(web: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A crawl of the whole web that nobody interrupts: what every resumed crawl must add up to."""
    config = make_config(tmp_path_factory.mktemp("clean"), web.proxy_url)
    sessions = open_db(config)
    summary = run_source(config, config.sources[0], sessions, show_progress=False)
    assert summary.status == "finished", summary
    with sessions() as s:
        hits = s.scalar(select(func.count(Hit.id)))
    pages = set(pages_by_run(sessions))
    assert len(pages) == page_count()
    return {"pages": pages, "hits": hits}


def start_in_thread(config: Config, sessions: Any, **kwargs: Any) -> tuple[threading.Thread, list[RunSummary]]:
    result: list[RunSummary] = []

    def target() -> None:
        result.append(run_source(config, config.sources[0], sessions, show_progress=False, **kwargs))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_sigkilled_crawl_resumes_with_nothing_lost_or_fetched_twice(
    web: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url)
    sessions = open_db(config)
    thread, result = start_in_thread(config, sessions)

    def some_pages_stored() -> bool:
        with sessions() as s:
            run = s.scalar(select(CrawlRun))
            stored = s.scalar(select(func.count(Page.id)))
            return bool(run and run.pid and stored and stored >= 4)

    wait_for(some_pages_stored, 60, "the first pages of the crawl to be stored")
    with sessions() as s:
        run = s.scalars(select(CrawlRun)).one()
        first_run_id, pid = run.id, run.pid
        assert run.host == this_host()
    os.kill(pid, signal.SIGKILL)  # mid-crawl: the slow list page is still being fetched
    thread.join(30)
    assert not thread.is_alive()
    killed = result[0]
    assert killed.status == "interrupted", killed
    assert "signal 9" in (killed.message or "")
    first = pages_by_run(sessions)
    assert 4 <= len(first) < page_count()
    with sessions() as s:
        states = dict(s.execute(select(FrontierEntry.state, func.count()).group_by(FrontierEntry.state)).all())
    assert states.get("pending", 0) > 0 and states.get("done", 0) >= len(first)

    web.clear_log()
    resumed = run_source(config, config.sources[0], sessions, show_progress=False)
    assert resumed.status == "finished", resumed
    requested_again = {url for _method, url, _status in web.requests_log}

    after = pages_by_run(sessions)
    assert set(after) == clean["pages"]  # nothing lost
    stored_by_first = {url for url, (_f, last) in after.items() if last == first_run_id}
    assert stored_by_first == set(first)  # the resumed run fetched none of them again ...
    assert not stored_by_first & requested_again  # ... not even as a request
    assert {last for _f, last in after.values()} == {first_run_id, resumed.run_id}
    with sessions() as s:
        assert s.scalar(select(func.count(Hit.id))) == clean["hits"]
        assert s.scalar(select(func.count(func.distinct(Hit.page_id)))) == clean["hits"]
        runs = {r.id: r.status for r in s.scalars(select(CrawlRun))}
        assert runs == {first_run_id: "interrupted", resumed.run_id: "finished"}
        assert s.scalar(select(func.count(FrontierEntry.id))) == 0  # the cycle is complete

    # the next run is a fresh cycle from the start URL again
    again = run_source(config, config.sources[0], sessions, show_progress=False)
    assert again.status == "finished" and again.pages_stored == page_count() and again.hits_new == 0


def test_crawl_over_its_time_limit_is_stopped_with_its_pages_kept(
    clean: dict[str, Any], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the same web, but one list page answers only after a minute: the crawl cannot end in its time limit
    with ReplayWeb(write_web(tmp_path_factory.mktemp("hanging"), slow_delay=60)) as hanging:
        config = make_config(tmp_path, hanging.proxy_url, timeout=120)
        sessions = open_db(config)
        started = time.monotonic()
        stopped = run_source(config, config.sources[0], sessions, show_progress=False, time_limit=20.0)
        assert time.monotonic() - started < 20.0 + config.runs.stop_grace_seconds + 5
    assert stopped.status == "interrupted", stopped
    assert "time limit of 20 s" in (stopped.message or "")
    slow_url = f"http://www.hz-kuaiyue-gh.com{SLOW_PATH}"
    # every page but the hanging one (and the pages only it links to) was stored before the stop
    expected = {url for url in clean["pages"] if url != slow_url and "/detail-4-" not in url}
    assert set(pages_by_run(sessions)) == expected
    with sessions() as s:
        pending = set(s.scalars(select(FrontierEntry.url).where(FrontierEntry.state == "pending")))
    assert pending == {slow_url}  # what the next run resumes


def test_stop_event_checkpoints_a_running_crawl(web: Any, clean: dict[str, Any], tmp_path: Path) -> None:
    config = make_config(tmp_path, web.proxy_url)
    sessions = open_db(config)
    stop = threading.Event()
    thread, result = start_in_thread(config, sessions, stop=stop)
    wait_for(lambda: bool(pages_by_run(sessions)), 60, "a stored page")
    stop.set()
    thread.join(30)
    assert result[0].status == "interrupted"
    assert "shutting down" in (result[0].message or "")
    resumed = run_source(config, config.sources[0], sessions, show_progress=False)
    assert resumed.status == "finished"
    assert set(pages_by_run(sessions)) == clean["pages"]


def test_runs_whose_process_is_gone_are_marked_interrupted(sessions: Any, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sessions.begin() as s:
        source = repository.ensure_source(s, "kuaiyue", "site")
        runs = [repository.start_run(s, source) for _ in range(5)]
        runs[0].pid, runs[0].host = dead.pid, this_host()  # its process ended
        runs[1].pid, runs[1].host = os.getpid(), this_host()  # pid alive but not a crawl of this run
        runs[2].pid, runs[2].host = 12345, "another-server"  # cannot be checked from here
        runs[3].pid, runs[3].host = None, this_host()  # parent died before the child started
        runs[3].started_at = utcnow() - timedelta(hours=1)
        ids = [r.id for r in runs]
    live = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", f"/x/run-{ids[4]:06d}.json"]
    )  # looks like the crawl process of run 5
    try:
        with sessions.begin() as s:
            s.get_one(CrawlRun, ids[4]).pid = live.pid
            s.get_one(CrawlRun, ids[4]).host = this_host()
        with sessions.begin() as s:
            gone = {r.id for r in mark_gone_runs_interrupted(s)}
        assert gone == {ids[0], ids[1], ids[3]}
        with sessions() as s:
            statuses = [s.get_one(CrawlRun, i).status for i in ids]
            assert statuses == ["interrupted", "interrupted", "running", "interrupted", "running"]
            assert "ended without recording its end" in (s.get_one(CrawlRun, ids[0]).message or "")
    finally:
        live.kill()
        live.wait()


def test_a_source_crawled_by_a_live_process_is_not_crawled_twice(sessions: Any, write_config: Any) -> None:
    config = write_config({"sources": [source_entry()]})
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "/x/run-000001.json"])
    try:
        with sessions.begin() as s:
            run = repository.start_run(s, repository.ensure_source(s, "kuaiyue", "site"))
            run.pid, run.host = live.pid, this_host()
        with pytest.raises(SourceBusy, match="正在抓取"):
            run_source(config, config.sources[0], sessions, show_progress=False)
    finally:
        live.kill()
        live.wait()


def test_ctrl_c_in_a_terminal_interrupts_the_crawl_command_and_the_next_crawl_resumes(
    web: Any, clean: dict[str, Any], tmp_path: Path
) -> None:
    config = make_config(tmp_path, web.proxy_url)
    sessions = open_db(config)
    repo = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--config", str(tmp_path / "config.yaml")]
    process = subprocess.Popen(
        command, cwd=repo, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for(lambda: len(pages_by_run(sessions)) >= 3, 60, "the first stored pages")
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground process group
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode != 0
    with sessions() as s:
        [run] = s.scalars(select(CrawlRun)).all()
        assert run.status == "interrupted", (run.status, run.message, output)
    resumed = run_source(config, config.sources[0], sessions, show_progress=False)
    assert resumed.status == "finished"
    assert set(pages_by_run(sessions)) == clean["pages"]
