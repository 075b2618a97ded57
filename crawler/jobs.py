"""What the scheduler runs: module-level job functions (the persistent job store keeps a reference such as
``crawler.jobs:crawl_job`` and the arguments, never the function itself) and the registry of job kinds.

Jobs reach the running ``touthunt serve`` (its current configuration, database sessions, stop event and
alert channels) through :func:`context`; :func:`set_context` is called by ``crawler/serve.py`` only.

**Registering a job kind.** Besides one crawl job per enabled source (``crawl:<source>``), the scheduler
runs one job per registered kind (``job:<kind>``) on the cron text the kind reads from the configuration.
A new kind is one ``register_job_kind`` call, as the ``digest``, ``recheck`` and ``evidence`` kinds at the end
of this module show.

The function must be a module-level callable without arguments; it runs in the scheduler's thread pool and
must stop early when ``context().stop`` is set. A kind whose schedule function returns None is not
scheduled (its job is removed). Kinds are synchronised with the job store like the sources: stable ids,
replaced when the schedule changes, removed when no longer registered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channel
from alerts.checks import check_runs, check_urgent_hits, run_checks
from alerts.deliver import deliver
from alerts.digest import daily_digest
from alerts.message import Alert
from crawler.config import Config
from crawler.errors import ConfigError, TouthuntError
from crawler.runner import SourceBusy, mark_gone_runs_interrupted, run_source
from storage.clusters import rebuild_clusters
from storage.models import utcnow
from storage.retry import with_retry

log = logging.getLogger(__name__)


@dataclass
class Context:
    """The running ``touthunt serve`` as its jobs see it."""

    config: Config
    config_path: Path
    sessions: sessionmaker[Session]
    channels: list[Channel]
    stop: threading.Event = field(default_factory=threading.Event)
    started_at: datetime = field(default_factory=utcnow)
    config_fingerprint: str = ""  # hash of the config file text last read (good or bad)
    scheduler: Any = None  # the APScheduler instance (for config reloads)
    trigger_for: Any = None  # crawler.schedule.TriggerFactory the jobs were made with
    environ: dict[str, str] = field(default_factory=dict)  # where channel secrets are read
    lock: threading.Lock = field(default_factory=threading.Lock)


_context: Context | None = None


def set_context(ctx: Context | None) -> None:
    global _context
    _context = ctx


def context() -> Context:
    if _context is None:
        raise TouthuntError("scheduler jobs run only inside touthunt serve")
    return _context


@dataclass(frozen=True)
class JobKind:
    name: str  # job id is "job:<name>"
    func: Callable[[], None]  # a module-level callable (the job store keeps its import path)
    schedule: Callable[[Config], str | None]  # 5-field cron text from the configuration; None: not scheduled
    description: str  # Chinese, shown by touthunt status


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: JobKind) -> None:
    """Add (or replace) a job kind; see the module docstring."""
    if "." in kind.func.__qualname__ or kind.func.__name__ == "<lambda>":
        raise ValueError(f"job kind {kind.name}: {kind.func!r} is not a module-level function")
    JOB_KINDS[kind.name] = kind


def send(alerts: list[Alert]) -> None:
    """Deliver alerts over the configured channels (each attempt recorded)."""
    ctx = context()
    if alerts:
        deliver(ctx.sessions, ctx.channels, alerts, max_attempts=ctx.config.alerts.max_attempts)


# Job functions -----------------------------------------------------------------------------------------


def crawl_job(source_name: str) -> None:
    """Crawl one source in a child process, then rebuild the operator clusters and check its run."""
    ctx = context()
    config = ctx.config
    if ctx.stop.is_set():
        return
    try:
        source = config.source(source_name)
    except ConfigError:
        log.warning("crawl job for %s: the source is no longer configured", source_name)
        return
    if not source.enabled:
        return
    try:
        summary = run_source(config, source, ctx.sessions, show_progress=False, stop=ctx.stop)
    except SourceBusy as exc:
        log.warning("%s", exc)
        return
    log.info(
        "scheduled run %s of %s %s: %s pages stored, %s new hits",
        summary.run_id, source_name, summary.status, summary.pages_stored, summary.hits_new,
    )  # fmt: skip
    if summary.pages_stored:

        def clusters() -> None:
            with ctx.sessions.begin() as session:
                rebuild_clusters(session)

        with_retry(clusters, what="rebuilding operator clusters")
    now = utcnow()

    def checks() -> list[Alert]:
        with ctx.sessions() as session:
            return [*check_runs(session, config, now), *check_urgent_hits(session, config, now)]

    send(with_retry(checks, what="checks after a crawl"))


def health_job() -> None:
    """Every check (runs, missed schedules, urgent hits); also marks runs whose process is gone."""
    ctx = context()
    now = utcnow()

    def reconcile() -> None:
        with ctx.sessions.begin() as session:
            mark_gone_runs_interrupted(session)

    with_retry(reconcile, what="finding interrupted runs")

    def checks() -> list[Alert]:
        with ctx.sessions() as session:
            return run_checks(session, ctx.config, now, since=ctx.started_at)

    send(with_retry(checks, what="health checks"))


def digest_job() -> None:
    """The daily digest."""
    ctx = context()
    now = utcnow()

    def build() -> Alert:
        with ctx.sessions() as session:
            return daily_digest(session, ctx.config, now)

    send([with_retry(build, what="daily digest")])


def deliver_alerts_job(alerts: list[Alert]) -> None:
    """Deliver alerts raised outside a job (scheduler events, config reloads); runs in the pool."""
    send(alerts)


def recheck_job() -> None:
    """Take-down re-checks of referred targets that are due (``referrals.recheck``)."""
    from referrals.recheck import run_due_rechecks

    ctx = context()
    if not ctx.stop.is_set():
        summary = with_retry(lambda: run_due_rechecks(ctx.config, ctx.sessions), what="re-checks")
        log.info("re-checks: %s", summary)


def evidence_job() -> None:
    """Re-hash every evidence folder against its manifest (a failure is alerted at once), then prune evidence
    past its retention period."""
    from evidence.capture import check_integrity, prune_expired

    ctx = context()
    if ctx.stop.is_set():
        return

    def check() -> list[Any]:
        with ctx.sessions() as session:
            return check_integrity(ctx.config, session)

    problems = with_retry(check, what="evidence integrity check")
    if problems:
        now = utcnow()
        lines = [f"命中 #{p.hit_id} {p.folder}/{p.name}: {p.problem}" for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"……共 {len(problems)} 处")
        send([
            Alert(
                kind="evidence_integrity",
                dedupe_key=f"evidence_integrity:{now:%Y-%m-%d}",
                title=f"取证文件校验失败：{len(problems)} 处文件缺失或被改动",
                lines=tuple(lines),
                severity="urgent",
            )
        ])  # fmt: skip
    pruned = with_retry(lambda: prune_expired(ctx.config, ctx.sessions), what="evidence pruning")
    log.info("evidence check: %d problems, %d expired captures pruned", len(problems), pruned)


register_job_kind(JobKind("digest", digest_job, lambda c: c.scheduler.digest_schedule, "每日简报"))
register_job_kind(JobKind("recheck", recheck_job, lambda c: c.scheduler.recheck_schedule, "复查已移交的命中"))
register_job_kind(JobKind("evidence", evidence_job, lambda c: c.scheduler.evidence_schedule, "取证文件校验与过期清理"))
