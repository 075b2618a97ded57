"""Run control: record a crawl run, start the crawl in a child process, and make sure the run ends with a
status even when the child dies (a crash, a kill, a broken install)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from crawler.config import Config, SourceConfig
from crawler.settings import build_settings
from storage import repository
from storage.models import CrawlRun

log = logging.getLogger(__name__)


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


def run_source(
    config: Config,
    source: SourceConfig,
    sessions: sessionmaker[Session],
    *,
    time_limit: float | None = None,
    show_progress: bool = True,
) -> RunSummary:
    """Crawl one source in a child process and return the recorded run."""
    with sessions.begin() as session:
        db_source = repository.ensure_source(session, source.name, source.kind)
        run_id = repository.start_run(session, db_source).id
    runs_dir = config.var_dir / "runs"
    logs_dir = config.var_dir / "logs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / f"crawl-{run_id:06d}-{source.name}.log"
    settings = build_settings(config, source, run_id=run_id, log_file=log_file)
    if not show_progress:
        settings["TOUTHUNT_PROGRESS_INTERVAL"] = 0
    settings_file = runs_dir / f"run-{run_id:06d}.json"
    settings_file.write_text(json.dumps(settings, ensure_ascii=False, indent=2), encoding="utf-8")

    message: str | None = None
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "crawler.run", str(settings_file)],
            check=False,
            timeout=time_limit,
            stdin=subprocess.DEVNULL,
        )
        if completed.returncode != 0:
            message = f"crawl process exited with status {completed.returncode}; see {log_file}"
    except subprocess.TimeoutExpired:
        message = f"crawl process killed after the time limit of {time_limit:.0f} s"

    with sessions.begin() as session:
        run = session.get_one(CrawlRun, run_id)
        if run.status == "running":
            # the child never reached its spider_closed handler
            run = repository.finish_run(
                session, run_id, status="failed", message=message or "crawl process ended early"
            )
        elif message:
            run.message = message
        summary = _summary(run, source.name, log_file)
    if summary.status != "finished":
        log.error("run %s of %s ended %s: %s", run_id, source.name, summary.status, summary.message)
    if config.evidence.enabled:
        # a post-crawl step: only the run's hits are fetched again and rendered (see evidence/capture.py)
        from evidence.capture import capture_new_hits

        try:
            captured = capture_new_hits(config, sessions, run_id=run_id)
            if captured.captured or captured.failed:
                log.info("evidence: %d captured (%d incomplete), %d failed", captured.captured,
                         captured.with_problems, captured.failed)  # fmt: skip
        except Exception as exc:  # evidence trouble never turns a finished crawl into a failed one
            log.error("evidence capture after run %s failed: %s", run_id, exc)
    return summary
