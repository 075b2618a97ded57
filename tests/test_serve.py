"""touthunt serve: a real APScheduler with its job store in the test database and fast triggers runs the
crawls of the test web, the digest and the health checks next to a tiny ASGI app served by uvicorn in the
same process, and stops both cleanly; a second serve on the same database is refused; SIGTERM stops a
serve process in the middle of a crawl (checkpointed, not lost); a run missed while serve was down is run
or reported; config edits are applied, invalid ones reported with the last good config kept; jobs are
replaced, not duplicated, when the configuration changes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select, text

from crawler import jobs
from crawler.config import Config, load_config
from crawler.lease import Lease, LeaseHeld
from crawler.schedule import JOBS_TABLE, build_scheduler, cron_triggers, sync_jobs
from crawler.serve import ServeOptions, serve
from crawler.status import status_data
from replayweb import ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import AlertDelivery, CrawlRun, SchedulerLease, utcnow
from tests import tinyapp
from tests.conftest import database_url_for
from tests.crawlweb import crawl_settings, source_entry, wait_for, write_web
from tests.receivers import Webhook, free_port

pytestmark = pytest.mark.database

REPO = Path(__file__).resolve().parents[1]


def write_config(folder: Path, body: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(
        yaml.safe_dump({"database": {"url": database_url_for(folder / "db.sqlite")}, **body}, allow_unicode=True),
        "utf-8",
    )
    return path


def open_db(config: Config) -> Any:
    engine = make_engine(config.database_url)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def fast(seconds: dict[str, float]) -> Any:
    """A trigger factory for tests: job id -> interval in seconds; other jobs keep their cron schedule."""

    def trigger_for(job_id: str, cron: str, timezone: str) -> Any:
        if job_id in seconds:
            return IntervalTrigger(seconds=seconds[job_id], timezone=timezone)
        return cron_triggers(job_id, cron, timezone)

    return trigger_for


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ReplayWeb(write_web(tmp_path_factory.mktemp("web"), delay=0.1, slow_delay=1.0)) as server:
        yield server


def get(url: str) -> str:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as response:
        return response.read().decode()


def port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_serve_runs_the_scheduler_and_the_web_app_and_stops_both(web: Any, tmp_path: Path) -> None:
    port = free_port()
    with Webhook() as robot:
        path = write_config(
            tmp_path,
            {
                "sources": [source_entry()],
                **crawl_settings(web.proxy_url),
                "web": {"host": "127.0.0.1", "port": port, "base_url": "http://hz-monitor.example:8000"},
                "referrals": {"institute_code": "HZWJS"},
                "scheduler": {"health_check_seconds": 1, "config_check_seconds": 1},
                "alerts": {"urgent_score": 80, "wecom": {"enabled": True, "url_env": "ROBOT"}},
            },
        )
        config = load_config(path)
        stop, ready = threading.Event(), threading.Event()
        options = ServeOptions(
            web_app_factory=tinyapp.create_app,
            trigger_for=fast({"crawl:kuaiyue": 1.0}),
            install_signals=False,
            stop=stop,
            ready=ready,
            environ={"ROBOT": f"{robot.url}/cgi-bin/webhook/send?key=k"},
        )
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(serve(config, path, options)), daemon=True)
        thread.start()
        try:
            assert ready.wait(60), "serve did not start"
            assert get(f"http://127.0.0.1:{port}/") == "touthunt web HZWJS"
            engine, sessions = open_db(config)

            def finished_runs() -> int:
                with sessions() as s:
                    return s.scalar(select(func.count()).where(CrawlRun.status == "finished")) or 0

            wait_for(finished_runs, 90, "a scheduled crawl to finish")

            def messages() -> list[str]:
                return [body["markdown"]["content"] for _p, _q, body in robot.received]

            wait_for(lambda: any("紧急" in m for m in messages()), 30, "an urgent-hit alert")
            urgent = next(m for m in messages() if "紧急" in m)
            assert "(http://hz-monitor.example:8000/hits/" in urgent
            jobs.context().scheduler.modify_job("job:digest", next_run_time=utcnow())  # the digest's time comes
            wait_for(lambda: any("每日简报" in m for m in messages()), 30, "the digest")
            digest = next(m for m in messages() if "每日简报" in m)
            assert "按类别：号贩子/代挂号 8" in digest and "按来源：kuaiyue 8" in digest
            assert "覆盖情况：1 个来源全部正常" in digest

            def running_run() -> bool:  # the next crawl started: stop serve in the middle of it
                with sessions() as s:
                    return bool(s.scalar(select(CrawlRun.pid).where(CrawlRun.status == "running")))

            wait_for(running_run, 60, "the next crawl")
            stopped_at = time.monotonic()
        finally:
            stop.set()
            thread.join(60)
        assert not thread.is_alive() and result == [0]
        assert time.monotonic() - stopped_at < config.runs.stop_grace_seconds + 10
    assert port_closed(port)
    assert tinyapp.EVENTS[-2:] == ["startup", "shutdown"]
    with sessions() as s:
        statuses = s.scalars(select(CrawlRun.status).order_by(CrawlRun.id)).all()
        assert "running" not in statuses and statuses[-1] in ("interrupted", "finished")
        assert s.scalar(select(func.count()).select_from(SchedulerLease)) == 0
        job_ids = set(s.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert job_ids == {"crawl:kuaiyue", "job:digest", "job:evidence", "job:recheck"}
        shown = status_data(config, s)  # touthunt status reads the next runs the scheduler keeps
        assert shown["sources"][0]["next_run_from"] == "scheduler" and not shown["scheduler"]["running"]
        assert shown["sources"][0]["recent_statuses"][0] in ("interrupted", "finished")
        sent = s.scalars(select(AlertDelivery.dedupe_key).where(AlertDelivery.status == "sent")).all()
        assert len(sent) == len(set(sent))  # every alert once, though the checks ran many times
    assert jobs._context is None
    engine.dispose()


def _serve_process(path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "serve", "--config", str(path), *extra],
        cwd=REPO,
        env={**env, "ROBOT": env.get("ROBOT", "")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _lease(sessions: Any) -> SchedulerLease | None:
    with sessions() as s:
        return s.get(SchedulerLease, "scheduler")


def test_a_second_serve_on_the_same_database_is_refused(tmp_path: Path) -> None:
    port = free_port()
    path = write_config(tmp_path, {"web": {"port": port}, "scheduler": {"lease_seconds": 30}})
    config = load_config(path)
    engine, sessions = open_db(config)
    first = _serve_process(path, "--web-app", "tests.tinyapp:create_app")
    try:
        holder = wait_for(lambda: _lease(sessions), 60, "the first serve's lease")
        assert holder.pid == first.pid
        wait_for(lambda: not port_closed(port), 30, "the first serve's web app")
        second = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "serve", "--config", str(path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1
        assert "另一个调度器正在使用此数据库" in second.stderr
        assert (
            f"process {first.pid} on host" in second.stderr and "Another scheduler holds this database" in second.stderr
        )
        assert "Traceback" not in second.stderr
        first.send_signal(signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
        output, _ = first.communicate(timeout=60)
        assert first.returncode == 0, output
        assert "touthunt serve 已启动" in output and "touthunt serve 已停止。" in output
        assert "Traceback" not in output
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert _lease(sessions) is None
    assert port_closed(port)
    engine.dispose()


def test_a_dead_holders_lease_is_taken_over_and_a_live_ones_is_not(sessions: Any) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = utcnow()
    with sessions.begin() as s:
        s.add(
            SchedulerLease(
                name="scheduler",
                token="old",
                host=Lease(sessions, 60).host,
                pid=dead.pid,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + timedelta(minutes=5),
            )
        )
    lease = Lease(sessions, 60)
    lease.acquire()  # its holder's process is gone: taken over without waiting for expiry
    assert _lease(sessions).token == lease.token
    with sessions.begin() as s:
        row = s.get_one(SchedulerLease, "scheduler")
        row.host, row.token = "other-server", "theirs"
    with pytest.raises(LeaseHeld, match="other-server"):
        Lease(sessions, 60).acquire()
    assert not lease.renew()  # the heartbeat notices the lease is no longer ours
    with sessions.begin() as s:
        s.get_one(SchedulerLease, "scheduler").expires_at = utcnow() - timedelta(seconds=1)
    Lease(sessions, 60).acquire()  # expired: taken over


def test_sigterm_checkpoints_a_running_crawl_and_missed_runs_are_run_or_reported(web: Any, tmp_path: Path) -> None:
    with Webhook() as robot:
        path = write_config(
            tmp_path,
            {
                "sources": [source_entry("kuaiyue"), source_entry("late")],
                **crawl_settings(web.proxy_url),
                "scheduler": {"misfire_grace_seconds": 600},
                "alerts": {"dingtalk": {"enabled": True, "url_env": "ROBOT"}},
            },
        )
        config = load_config(path)
        engine, sessions = open_db(config)
        # serve ran before and was down: kuaiyue was due a minute ago (within the grace: it runs at start),
        # late was due two hours ago (beyond the grace: skipped and reported)
        scheduler = build_scheduler(config, engine)
        scheduler.start(paused=True)
        sync_jobs(scheduler, config)
        scheduler.shutdown()
        store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        store.start(scheduler, "default")
        for job_id, due in (("crawl:kuaiyue", timedelta(minutes=1)), ("crawl:late", timedelta(hours=2))):
            job = store.lookup_job(job_id)
            job.next_run_time = utcnow() - due
            store.update_job(job)
        os.environ["ROBOT"] = f"{robot.url}/robot/send?access_token=t"
        try:
            process = _serve_process(path)
        finally:
            del os.environ["ROBOT"]
        try:

            def stored_pages() -> bool:
                with sessions() as s:
                    run = s.scalar(select(CrawlRun).where(CrawlRun.status == "running"))
                    return bool(run and run.pid and s.execute(text("SELECT count(*) FROM pages")).scalar())

            wait_for(stored_pages, 90, "the due crawl to store its first pages")
            wait_for(lambda: robot.received, 30, "the missed-run alert")
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, output
    [(_path, _query, body)] = robot.received
    assert "crawl:late 错过了运行时间" in body["markdown"]["title"]
    with sessions() as s:
        runs = s.execute(
            text("SELECT s.name, r.status, r.message FROM crawl_runs r JOIN sources s ON s.id = r.source_id")
        ).all()
        pending = s.execute(text("SELECT count(*) FROM crawl_frontier WHERE state = 'pending'")).scalar()
    assert [(name, status) for name, status, _m in runs] == [("kuaiyue", "interrupted")]
    assert "shutting down" in runs[0][2]
    assert pending > 0  # the next run resumes them
    assert _lease(sessions) is None
    engine.dispose()


def test_config_edits_are_applied_and_invalid_ones_reported(tmp_path: Path) -> None:
    with Webhook() as robot:
        body = {
            "sources": [source_entry("a"), source_entry("b")],
            "scheduler": {"config_check_seconds": 0.3},
            "alerts": {"wecom": {"enabled": True, "url_env": "ROBOT"}},
        }
        path = write_config(tmp_path, body)
        config = load_config(path)
        stop, ready = threading.Event(), threading.Event()
        options = ServeOptions(install_signals=False, stop=stop, ready=ready, environ={"ROBOT": robot.url})
        thread = threading.Thread(target=serve, args=(config, path, options), daemon=True)
        thread.start()
        try:
            assert ready.wait(60)
            ctx = jobs.context()
            scheduler = ctx.scheduler
            assert {j.id for j in scheduler.get_jobs(jobstore="default")} == {
                "crawl:a",
                "crawl:b",
                "job:digest",
                "job:evidence",
                "job:recheck",
            }
            before = scheduler.get_job("crawl:a").next_run_time
            before_trigger = scheduler.get_job("crawl:a").trigger

            path.write_text(path.read_text("utf-8").replace("max_depth: 2", "max_depth: -1", 1), "utf-8")
            wait_for(lambda: robot.received, 10, "the invalid-config alert")
            content = robot.received[0][2]["markdown"]["content"]
            assert "配置文件修改后无效" in content and "max\\_depth" in content
            assert ctx.config is config  # the last good configuration stays in force

            body["sources"] = [source_entry("a", schedule="30 7 * * 1-5"), source_entry("c")]
            body["scheduler"]["misfire_grace_seconds"] = 10  # applies after a restart only
            write_config(tmp_path, body)
            wanted = {"crawl:a", "crawl:c", "job:digest", "job:evidence", "job:recheck"}
            job_ids = lambda: {j.id for j in scheduler.get_jobs(jobstore="default")}  # noqa: E731
            wait_for(lambda: job_ids() == wanted, 10, "the jobs of the edited configuration")
            wait_for(
                lambda: str(scheduler.get_job("crawl:a").trigger) != str(before_trigger), 10, "crawl:a rescheduled"
            )
            job_a = scheduler.get_job("crawl:a")
            assert str(job_a.trigger) == str(
                CronTrigger(minute="30", hour="7", day="*", month="*", day_of_week="mon,tue,wed,thu,fri")
            )
            assert job_a.next_run_time != before
            assert ctx.config.scheduler.misfire_grace_seconds == config.scheduler.misfire_grace_seconds
            assert len(robot.received) == 1  # the invalid file was reported once
        finally:
            stop.set()
            thread.join(60)


def test_jobs_are_replaced_not_duplicated_and_survive_restarts(write_config: Any) -> None:
    config = write_config({"sources": [source_entry("a"), source_entry("b", schedule="15 */6 * * *")]})
    engine = make_engine(config.database_url)
    upgrade(engine)
    scheduler = build_scheduler(config, engine)
    scheduler.start(paused=True)
    first = sync_jobs(scheduler, config)
    assert sorted(first.added) == ["crawl:a", "crawl:b", "job:digest", "job:evidence", "job:recheck"]
    next_b = scheduler.get_job("crawl:b").next_run_time
    scheduler.shutdown()

    changed = write_config(
        {"sources": [source_entry("b", schedule="15 */6 * * *"), source_entry("a", schedule="0 5 * * *")]}
    )
    scheduler = build_scheduler(changed, engine)
    scheduler.start(paused=True)
    result = sync_jobs(scheduler, changed)
    assert (result.added, result.replaced, sorted(result.kept), result.removed) == (
        [],
        ["crawl:a"],
        ["crawl:b", "job:digest", "job:evidence", "job:recheck"],
        [],
    )
    assert scheduler.get_job("crawl:b").next_run_time == next_b  # unchanged jobs keep their next run
    assert len(scheduler.get_jobs()) == 5
    scheduler.shutdown()

    fewer = write_config(
        {"sources": [source_entry("a", schedule="0 5 * * *"), {**source_entry("b"), "enabled": False}]}
    )
    scheduler = build_scheduler(fewer, engine)
    scheduler.start(paused=True)
    assert sync_jobs(scheduler, fewer).removed == ["crawl:b"]
    scheduler.shutdown()
    with engine.connect() as c:
        assert sorted(c.execute(text("SELECT id FROM apscheduler_jobs")).scalars()) == [
            "crawl:a", "job:digest", "job:evidence", "job:recheck"
        ]  # fmt: skip
    engine.dispose()


def test_job_kinds_must_be_module_level_functions() -> None:
    def nested() -> None:
        pass

    with pytest.raises(ValueError, match="module-level"):
        jobs.register_job_kind(jobs.JobKind("x", nested, lambda c: None, "x"))
    assert "digest" in jobs.JOB_KINDS and jobs.JOB_KINDS["digest"].func is jobs.digest_job


def test_serve_stops_when_another_process_takes_its_lease(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"scheduler": {"lease_seconds": 5}})
    config = load_config(path)
    engine, sessions = open_db(config)
    stop, ready = threading.Event(), threading.Event()
    result: list[int] = []
    options = ServeOptions(install_signals=False, stop=stop, ready=ready)
    thread = threading.Thread(target=lambda: result.append(serve(config, path, options)), daemon=True)
    thread.start()
    try:
        assert ready.wait(60)
        with sessions.begin() as s:  # e.g. an operator started a second serve after the lease had expired
            s.get_one(SchedulerLease, "scheduler").token = "someone-else"
        thread.join(10)
        assert not thread.is_alive(), "serve kept running without its lease"
    finally:
        stop.set()
        thread.join(30)
    assert result == [1]
    assert _lease(sessions).token == "someone-else"  # the other holder's lease is left alone
    engine.dispose()
