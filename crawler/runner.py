"""Run control: record a crawl run, start the crawl in a child process, stop it at its time limit or when
asked (``touthunt serve`` shutting down), and make sure every run ends with a status even when the child
dies (a crash, a kill, a broken install) or the parent dies with it.

A stop is a checkpoint, not a loss: the child gets SIGTERM (Scrapy stores what it holds and closes the
spider with reason ``shutdown``), then ``runs.stop_grace_seconds``, then SIGKILL. Either way the run is
``interrupted`` and its source's crawl frontier keeps the unfinished URLs, so the next run resumes them.

Each run records the child's pid and host. :func:`mark_gone_runs_interrupted` (called by ``touthunt
serve`` on start-up and before each run, and by ``touthunt crawl``) turns ``running`` runs whose process
no longer exists on this host into ``interrupted`` ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from crawler.config import Config, SourceConfig
from crawler.errors import TouthuntError
from crawler.settings import build_settings
from crawler.sharedfrontier import SETTING as SHARED_FRONTIER
from storage import repository
from storage.models import CrawlRun, utcnow

log = logging.getLogger(__name__)

# A run gets its child's pid right after the child starts; a run older than this with no pid lost its parent.
_PID_GRACE = timedelta(minutes=5)
_POLL_SECONDS = 0.2


class SourceBusy(TouthuntError):
    """The source is being crawled by another live process."""


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    source: str
    status: str
    pages_fetched: int
    pages_stored: int
    hits_new: int
    errors: int
    error_reasons: dict[str, int]
    log_file: Path
    message: str | None
    source_state: str | None = None  # ok, empty, login_wall, captcha, blocked (see crawler/runrecorder.py)


def _summary(run: CrawlRun, source: str, log_file: Path) -> RunSummary:
    return RunSummary(
        run_id=run.id,
        source=source,
        status=run.status,
        pages_fetched=run.pages_fetched,
        pages_stored=run.pages_stored,
        hits_new=run.hits_new,
        errors=run.errors,
        error_reasons=dict(run.error_reasons or {}),
        log_file=log_file,
        message=run.message,
        source_state=run.source_state,
    )


def this_host() -> str:
    return socket.gethostname()


def settings_file_name(run_id: int) -> str:
    return f"run-{run_id:06d}.json"


def crawl_process_alive(pid: int, run_id: int) -> bool:
    """Is ``pid`` a live crawl process of run ``run_id`` on this machine? (pids are reused: the command line
    must name the run's settings file.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        args = cmdline.read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc: trust the kill probe
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                return False  # a zombie has finished
    except OSError:
        pass
    return any(arg.endswith(settings_file_name(run_id).encode()) for arg in args)


def _run_is_gone(run: CrawlRun, host: str) -> bool:
    if run.host and run.host != host:
        return False  # another machine's run: it cannot be checked from here
    if run.pid is None:
        return utcnow() - run.started_at > _PID_GRACE
    return not crawl_process_alive(run.pid, run.id)


def mark_gone_runs_interrupted(session: Session, *, source_id: int | None = None) -> list[CrawlRun]:
    """Runs still ``running`` whose crawl process is gone become ``interrupted`` (their frontier is kept)."""
    host = this_host()
    stmt = select(CrawlRun).options(joinedload(CrawlRun.source)).where(CrawlRun.status == "running")
    if source_id is not None:
        stmt = stmt.where(CrawlRun.source_id == source_id)
    gone = []
    for run in session.scalars(stmt):
        if _run_is_gone(run, host):
            repository.finish_run(
                session,
                run.id,
                status="interrupted",
                message=f"crawl process {run.pid or '?'} on {run.host or '?'} ended without recording its "
                "end (killed or crashed); the next run resumes its unfinished URLs",
            )
            log.warning("run %s of %s: process gone, marked interrupted", run.id, run.source.name)
            gone.append(run)
    return gone


def live_run(session: Session, source_id: int) -> CrawlRun | None:
    """A ``running`` run of the source that is not known to be gone (after reconciliation)."""
    return session.scalar(
        select(CrawlRun).where(CrawlRun.source_id == source_id, CrawlRun.status == "running").limit(1)
    )


def stop_child(child: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (Scrapy stores what it holds and closes), then SIGKILL after ``grace`` seconds."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        log.warning("crawl process %s did not stop within %.0f s; killing it", child.pid, grace)
        child.kill()
        child.wait()


def _withdraw_shared_run(settings: dict[str, object], source: str, run_id: int) -> None:
    from crawler.sharedfrontier import fleet_for

    try:
        fleet_for(settings[SHARED_FRONTIER], source).withdraw(run_id)  # type: ignore[arg-type]
    except Exception as exc:  # Redis down: the workers stop anyway once the next run takes over
        log.error("could not withdraw run %s from the shared frontier: %s", run_id, exc)


def run_source(
    config: Config,
    source: SourceConfig,
    sessions: sessionmaker[Session],
    *,
    time_limit: float | None = None,
    show_progress: bool = True,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Crawl one source in a child process and return the recorded run.

    ``time_limit`` defaults to ``runs.time_limit_seconds``; ``stop`` set by another thread stops the crawl
    (a checkpoint). Raises :class:`SourceBusy` while another live process crawls the source."""
    limit = config.runs.time_limit_seconds if time_limit is None else time_limit
    with sessions.begin() as session:
        db_source = repository.ensure_source(session, source.name, source.kind)
        mark_gone_runs_interrupted(session, source_id=db_source.id)
        busy = live_run(session, db_source.id)
        if busy is not None:
            raise SourceBusy(
                f"来源 {source.name} 正在抓取 (运行 #{busy.id}, 进程 {busy.pid} @ {busy.host}); 本次跳过 "
                f"(source {source.name} is being crawled by run {busy.id})"
            )
        run = repository.start_run(session, db_source)
        run.host = this_host()
        run_id = run.id
    runs_dir = config.var_dir / "runs"
    logs_dir = config.var_dir / "logs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / f"crawl-{run_id:06d}-{source.name}.log"
    settings = build_settings(config, source, run_id=run_id, log_file=log_file)
    if not show_progress:
        settings["TOUTHUNT_PROGRESS_INTERVAL"] = 0
    settings_file = runs_dir / settings_file_name(run_id)
    settings_file.write_text(json.dumps(settings, ensure_ascii=False, indent=2), encoding="utf-8")

    message: str | None = None
    stopped = False
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.run", str(settings_file)],
        stdin=subprocess.DEVNULL,
        # its own process group: a terminal's Ctrl-C or systemd's SIGTERM reaches the parent, which stops it
        start_new_session=stop is not None,
    )
    try:
        with sessions.begin() as session:
            session.get_one(CrawlRun, run_id).pid = child.pid
        deadline = time.monotonic() + limit
        while child.poll() is None:
            if stop is not None and stop.is_set():
                message = "crawl stopped because touthunt is shutting down; the next run resumes it"
                stopped = True
            elif time.monotonic() >= deadline:
                message = f"crawl stopped at the time limit of {limit:.0f} s; the next run resumes it"
                stopped = True
            if stopped:
                log.warning("run %s of %s: %s", run_id, source.name, message)
                stop_child(child, config.runs.stop_grace_seconds)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=_POLL_SECONDS)
    except BaseException:  # Ctrl-C in a terminal: the child (same session) got it too and is closing
        if stop is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=config.runs.stop_grace_seconds)
        stop_child(child, config.runs.stop_grace_seconds)
        raise
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    returncode = child.returncode
    if not stopped and returncode != 0:
        if returncode < 0:
            message = f"crawl process killed by signal {-returncode}; the next run resumes it; see {log_file}"
        else:
            message = f"crawl process exited with status {returncode}; see {log_file}"

    with sessions.begin() as session:
        run = session.get_one(CrawlRun, run_id)
        if run.status == "running":
            # the child never reached its spider_closed handler
            status = "interrupted" if stopped or returncode < 0 else "failed"
            run = repository.finish_run(session, run_id, status=status, message=message or "crawl process ended early")
            if SHARED_FRONTIER in settings:  # workers still in the run stop and give back what they hold
                _withdraw_shared_run(settings, source.name, run_id)
        elif stopped and run.status != "finished":
            run.status = "interrupted"
            run.message = message
        elif message:
            run.message = message
        summary = _summary(run, source.name, log_file)
    if summary.status != "finished":
        log.error("run %s of %s ended %s: %s", run_id, source.name, summary.status, summary.message)
    if config.evidence.enabled and not (stop is not None and stop.is_set()):
        # a post-crawl step: only the run's hits are fetched again and rendered (see evidence/capture.py); when
        # touthunt is shutting down it waits for the next run, which captures the hits still without evidence
        from evidence.capture import capture_new_hits

        try:
            captured = capture_new_hits(config, sessions, run_id=run_id)
            if captured.captured or captured.failed:
                log.info("evidence: %d captured (%d incomplete), %d failed", captured.captured,
                         captured.with_problems, captured.failed)  # fmt: skip
        except Exception as exc:  # evidence trouble never turns a finished crawl into a failed one
            log.error("evidence capture after run %s failed: %s", run_id, exc)
    return summary
