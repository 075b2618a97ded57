"""``touthunt serve``: the one long-running process of an unattended installation.

It migrates the database, takes the scheduler lease (a second serve on the same database is refused with a
message naming the holder), marks runs whose process is gone as interrupted, starts the scheduler (jobs from
the configuration, see ``crawler/schedule.py``) and, when given a web-app factory, the analysts' web app under
uvicorn in the same process. It then waits for SIGTERM or SIGINT and stops in order: running crawls are
asked to stop (they store what they hold and their frontier keeps the rest; ``runs.stop_grace_seconds``
later they are killed), the scheduler waits for its jobs, the web app finishes its requests, the lease is
released.

While running it renews the lease, re-reads config.yaml every ``scheduler.config_check_seconds`` (a valid
change re-synchronises the jobs; an invalid one is reported and the last good configuration stays in force),
runs the health checks every ``scheduler.health_check_seconds`` and reports jobs the scheduler had to skip.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import channels_from_config
from alerts.checks import config_invalid_alert, missed_job_alert
from crawler import jobs
from crawler.config import Config, load_config
from crawler.errors import ConfigError, TouthuntError
from crawler.lease import Lease
from crawler.runner import mark_gone_runs_interrupted
from crawler.schedule import TriggerFactory, build_scheduler, cron_triggers, sync_jobs
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.retry import with_retry

log = logging.getLogger(__name__)

WebAppFactory = Callable[[Config], Any]  # config -> an ASGI application


def load_factory(spec: str) -> WebAppFactory:
    """``module:function`` -> the function (``touthunt serve --web-app``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"--web-app: {spec!r} is not MODULE:FUNCTION")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"--web-app: cannot load {spec!r}: {exc}") from None
    return factory  # type: ignore[no-any-return]


@dataclass
class ServeOptions:
    """What tests and the command line may change; production uses the defaults."""

    web_app_factory: WebAppFactory | None = None
    trigger_for: TriggerFactory = cron_triggers
    install_signals: bool = True
    stop: threading.Event | None = None  # set it to stop serve (tests; signals set it too)
    ready: threading.Event | None = None  # set once the scheduler (and web app) run
    environ: dict[str, str] | None = None  # where channel secrets are read (default: os.environ)


def _fingerprint(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def reload_config_job() -> None:
    """Re-read config.yaml when it changed: a valid one re-synchronises the jobs, an invalid one is reported
    (once per file content) and the last good configuration stays in force."""
    ctx = jobs.context()
    fingerprint = _fingerprint(ctx.config_path)
    if fingerprint == ctx.config_fingerprint:
        return
    ctx.config_fingerprint = fingerprint
    try:
        new = load_config(ctx.config_path)
    except ConfigError as exc:
        log.error("config.yaml changed but is invalid; keeping the last good configuration: %s", exc)
        jobs.send([config_invalid_alert(str(ctx.config_path), str(exc), fingerprint)])
        return
    old = ctx.config
    if new.database_url != old.database_url or new.web != old.web or new.scheduler != old.scheduler:
        log.warning("config.yaml: database, web and scheduler settings take effect after a restart of touthunt serve")
        new = new.model_copy(update={"database": old.database, "web": old.web, "scheduler": old.scheduler})
    with ctx.lock:
        ctx.config = new
        ctx.channels = channels_from_config(new, ctx.environ)
    log.info("config.yaml reloaded")
    sync_jobs(ctx.scheduler, new, ctx.trigger_for)


class _Server:
    """The running parts of serve, stopped in order."""

    def __init__(self, config: Config, config_path: Path, options: ServeOptions) -> None:
        self.config = config
        self.config_path = config_path
        self.options = options
        self.stop = options.stop or threading.Event()
        self.failure: str | None = None
        self.engine = make_engine(config.database_url, busy_timeout_seconds=config.database.busy_timeout_seconds)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.lease = Lease(self.sessions, config.scheduler.lease_seconds)
        self.scheduler: Any = None
        self.web: Any = None
        self.web_thread: threading.Thread | None = None
        self.heartbeat_thread: threading.Thread | None = None
        self.closed = False

    # start -------------------------------------------------------------------------------------------

    def start(self) -> None:
        with_retry(lambda: upgrade(self.engine), what="database upgrade")
        with_retry(self.lease.acquire, what="taking the scheduler lease")
        try:
            self._start_rest()
        except BaseException:
            self.shutdown()
            raise

    def _start_rest(self) -> None:
        def reconcile() -> None:
            with self.sessions.begin() as session:
                mark_gone_runs_interrupted(session)

        with_retry(reconcile, what="finding interrupted runs")
        environ = dict(os.environ if self.options.environ is None else self.options.environ)
        ctx = jobs.Context(
            config=self.config,
            config_path=self.config_path,
            sessions=self.sessions,
            channels=channels_from_config(self.config, environ),
            stop=self.stop,
            config_fingerprint=_fingerprint(self.config_path),
            trigger_for=self.options.trigger_for,
            environ=environ,
        )
        jobs.set_context(ctx)
        self.scheduler = scheduler = build_scheduler(self.config, self.engine)
        ctx.scheduler = scheduler
        scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)
        sync_jobs(scheduler, self.config, self.options.trigger_for)
        settings = self.config.scheduler
        scheduler.add_job(jobs.health_job, "interval", seconds=settings.health_check_seconds, id="internal:health",
                          jobstore="internal", name="健康检查", replace_existing=True)  # fmt: skip
        scheduler.add_job(reload_config_job, "interval", seconds=settings.config_check_seconds, id="internal:config",
                          jobstore="internal", name="重新读取配置", replace_existing=True)  # fmt: skip
        scheduler.resume()
        self.heartbeat_thread = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        self.heartbeat_thread.start()
        if self.options.web_app_factory is not None:
            self._start_web(self.options.web_app_factory)
        log.info(
            "touthunt serve running: %d jobs, web app %s",
            len(scheduler.get_jobs()),
            f"on http://{self.config.web.host}:{self.config.web.port}" if self.web else "not started",
        )

    def _start_web(self, factory: WebAppFactory) -> None:
        import uvicorn

        app = factory(self.config)
        web_config = uvicorn.Config(
            app, host=self.config.web.host, port=self.config.web.port, log_config=None, lifespan="auto",
            timeout_graceful_shutdown=int(self.config.runs.stop_grace_seconds),
        )  # fmt: skip
        self.web = uvicorn.Server(web_config)

        def run() -> None:
            try:
                self.web.run()  # not the main thread: uvicorn leaves the signals to us
            finally:
                if not self.stop.is_set():
                    self.failure = "the web app stopped on its own (see the log)"
                    self.stop.set()

        self.web_thread = threading.Thread(target=run, name="web", daemon=True)
        self.web_thread.start()
        while not self.web.started and self.web_thread.is_alive():
            self.stop.wait(0.05)
        if not self.web.started:
            raise TouthuntError(
                f"网页服务无法启动 (the web app did not start on {self.config.web.host}:{self.config.web.port})"
            )

    # running -----------------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        interval = self.lease.seconds / 3
        while not self.stop.wait(interval):
            try:
                ours = with_retry(self.lease.renew, what="lease heartbeat", attempts=3)
            except TouthuntError as exc:
                log.error("%s", exc)
                continue
            if not ours:
                self.failure = "the scheduler lease was taken by another process"
                log.critical("%s; stopping", self.failure)
                self.stop.set()

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %r", event.job_id, event.exception)
            return
        log.warning("job %s missed its run time %s", event.job_id, event.scheduled_run_time)
        alert = missed_job_alert(event.job_id, event.scheduled_run_time)
        # delivering takes network time: never in the scheduler's own thread
        self.scheduler.add_job(jobs.deliver_alerts_job, args=([alert],), jobstore="internal")

    # stop --------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stop.set()
        if self.web is not None:
            self.web.should_exit = True
        if self.scheduler is not None and self.scheduler.running:
            log.info("stopping the scheduler; running crawls are checkpointed")
            self.scheduler.shutdown(wait=True)  # crawl jobs see the stop event and stop their children
        if self.web_thread is not None:
            self.web_thread.join(self.config.runs.stop_grace_seconds + 5)
        if self.heartbeat_thread is not None:
            self.heartbeat_thread.join(5)
        jobs.set_context(None)
        try:
            with_retry(self.lease.release, what="releasing the scheduler lease", attempts=3)
        except TouthuntError as exc:
            log.error("%s (it expires by itself)", exc)
        self.engine.dispose()


def serve(config: Config, config_path: Path, options: ServeOptions | None = None) -> int:
    """Run until stopped; returns the exit status (0: stopped by a signal or ``options.stop``)."""
    options = options or ServeOptions()
    server = _Server(config, config_path, options)
    previous: dict[int, Any] = {}
    if options.install_signals:

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            server.stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        server.start()
        if options.ready is not None:
            options.ready.set()
        server.stop.wait()
    finally:
        server.shutdown()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if server.failure:
        log.error("touthunt serve stopped: %s", server.failure)
        return 1
    log.info("touthunt serve stopped")
    return 0
