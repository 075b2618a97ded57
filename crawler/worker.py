"""``touthunt worker``: a process that joins the shared crawls (crawler/sharedfrontier.py) of this or other
machines until it is stopped.

It watches, for each source crawled over the shared frontier, which run is current (``{p}:{src}:run``, set by
the run's owner: ``touthunt crawl`` or ``touthunt serve``). When a run appears it starts a crawl process in
the ``worker`` role for it: that process takes requests from the shared queue, stores what it fetches under
the run, and reports its figures when the crawl is over. One run at a time; then it watches again.

SIGTERM or SIGINT stops the worker in order: its crawl process gets SIGTERM, gives its unfinished requests
back to the queue and reports, within ``runs.stop_grace_seconds``, else it is killed (its requests then go
back when its heartbeat expires).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from crawler.config import Config, SourceConfig
from crawler.errors import ConfigError
from crawler.runner import stop_child
from crawler.settings import build_settings, uses_shared_frontier
from crawler.sharedfrontier import SETTING, fleet_for

log = logging.getLogger(__name__)


@dataclass
class WorkerReport:
    joined: list[tuple[str, int, int]] = field(default_factory=list)  # (source, run id, exit status)


def shared_sources(config: Config, names: list[str] | None = None) -> list[SourceConfig]:
    if not config.frontier_url:
        raise ConfigError("frontier.url: no shared frontier configured; a worker needs the Redis URL the crawls use")
    chosen = [config.source(n) for n in names] if names else [s for s in config.sources if s.enabled]
    shared = [s for s in chosen if uses_shared_frontier(config, s)]
    if not shared:
        raise ConfigError("sources: none of the chosen sources is crawled over the shared frontier (kind site)")
    return shared


def run_worker(
    config: Config,
    *,
    source_names: list[str] | None = None,
    stop: threading.Event | None = None,
    max_runs: int | None = None,
    poll_seconds: float = 1.0,
) -> WorkerReport:
    """Join shared crawls until ``stop`` is set (or ``max_runs`` runs were joined)."""
    stop = stop or threading.Event()
    sources = shared_sources(config, source_names)
    settings_of = {s.name: build_settings(config, s, run_id=None, log_file=None, role="worker") for s in sources}
    fleets = {s.name: fleet_for(settings_of[s.name][SETTING], s.name) for s in sources}
    report = WorkerReport()
    last_joined: dict[str, int] = {}
    log.info("worker waiting for shared crawls of %s", ", ".join(fleets))
    while not stop.is_set():
        for source in sources:
            if stop.is_set():
                break
            run_id = fleets[source.name].current_run()
            if run_id is None or last_joined.get(source.name) == run_id:
                continue
            last_joined[source.name] = run_id
            code = _crawl(config, source, run_id, stop)
            report.joined.append((source.name, run_id, code))
            if max_runs is not None and len(report.joined) >= max_runs:
                return report
        stop.wait(poll_seconds)
    return report


def _crawl(config: Config, source: SourceConfig, run_id: int, stop: threading.Event) -> int:
    """One crawl process in the worker role for ``run_id``; its exit status."""
    tag = f"{run_id:06d}-{source.name}-worker-{os.getpid()}"
    runs_dir, logs_dir = config.var_dir / "runs", config.var_dir / "logs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_file = logs_dir / f"crawl-{tag}.log"
    settings = build_settings(config, source, run_id=run_id, log_file=log_file, role="worker")
    settings["TOUTHUNT_PROGRESS_INTERVAL"] = 0
    settings_file: Path = runs_dir / f"run-{tag}.json"
    settings_file.write_text(json.dumps(settings, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("joining run %s of %s (log: %s)", run_id, source.name, log_file)
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler.run", str(settings_file)], stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while child.poll() is None:
            if stop.is_set():
                stop_child(child, config.runs.stop_grace_seconds)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        log.error("the crawl process of run %s ended with status %s; see %s", run_id, child.returncode, log_file)
    else:
        log.info("run %s of %s: this worker is done", run_id, source.name)
    return int(child.returncode)
