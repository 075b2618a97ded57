"""The APScheduler 3 set-up of ``touthunt serve`` and the synchronisation of its jobs with the configuration.

Two job stores: ``default`` is an ``SQLAlchemyJobStore`` in touthunt's own database (table
``apscheduler_jobs``), so the schedule and each job's next run time survive restarts and a run missed while
the server was down is noticed; ``internal`` is in memory and holds serve's own periodic work (health checks,
config reloads). Two executors: ``crawls`` (``scheduler.max_parallel_crawls`` threads, each waiting on a crawl
child process) and ``default`` for the rest.

Job defaults come from the ``scheduler`` section: ``misfire_grace_time`` (``misfire_grace_seconds``, 3600),
``coalesce`` (true), ``max_instances`` (1). Job ids are stable: ``crawl:<source>`` for every enabled source
and ``job:<kind>`` for every registered job kind (``crawler/jobs.py``). :func:`sync_jobs` adds what is new,
replaces a job only when its definition changed (so an unchanged job keeps its next run time, and a run
missed during a restart is still run or reported), and removes jobs of sources and kinds that are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine

from crawler import jobs
from crawler.config import Config
from crawler.crontab import cron_trigger

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
CRAWL_PREFIX = "crawl:"
KIND_PREFIX = "job:"

# (job id, cron text, time zone) -> trigger. Production reads the cron text; tests pass a fast trigger.
TriggerFactory = Callable[[str, str, str], BaseTrigger]


def cron_triggers(job_id: str, cron: str, timezone: str) -> BaseTrigger:
    return cron_trigger(cron, timezone)


def build_scheduler(config: Config, engine: Engine) -> BackgroundScheduler:
    settings = config.scheduler
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE), "internal": MemoryJobStore()},
        executors={
            "default": ThreadPoolExecutor(4),
            "crawls": ThreadPoolExecutor(settings.max_parallel_crawls),
        },
        job_defaults={
            "misfire_grace_time": settings.misfire_grace_seconds,
            "coalesce": settings.coalesce,
            "max_instances": settings.max_instances,
        },
        timezone=settings.timezone,
    )


@dataclass(frozen=True)
class WantedJob:
    id: str
    func: Callable[..., None]
    args: tuple[Any, ...]
    trigger: BaseTrigger
    executor: str
    name: str


def wanted_jobs(config: Config, trigger_for: TriggerFactory = cron_triggers) -> list[WantedJob]:
    tz = config.scheduler.timezone
    wanted = []
    for source in config.sources:
        if source.enabled:
            job_id = f"{CRAWL_PREFIX}{source.name}"
            trigger = trigger_for(job_id, source.schedule, tz)
            wanted.append(WantedJob(job_id, jobs.crawl_job, (source.name,), trigger, "crawls", f"抓取 {source.name}"))
    for kind in jobs.JOB_KINDS.values():
        cron = kind.schedule(config)
        if cron:
            job_id = f"{KIND_PREFIX}{kind.name}"
            wanted.append(WantedJob(job_id, kind.func, (), trigger_for(job_id, cron, tz), "default", kind.description))
    return wanted


@dataclass(frozen=True)
class SyncResult:
    added: list[str]
    replaced: list[str]
    kept: list[str]
    removed: list[str]


def _func_ref(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def sync_jobs(
    scheduler: BackgroundScheduler, config: Config, trigger_for: TriggerFactory = cron_triggers
) -> SyncResult:
    """Make the persistent job store hold exactly the wanted jobs (see the module docstring)."""
    current = {job.id: job for job in scheduler.get_jobs(jobstore="default")}
    added, replaced, kept = [], [], []
    wanted = wanted_jobs(config, trigger_for)
    for want in wanted:
        job = current.get(want.id)
        same = (
            job is not None
            and job.func_ref == _func_ref(want.func)
            and tuple(job.args) == want.args
            and str(job.trigger) == str(want.trigger)
            and job.executor == want.executor
            and job.name == want.name
        )
        if same:
            kept.append(want.id)
            continue
        scheduler.add_job(
            want.func,
            want.trigger,
            args=want.args,
            id=want.id,
            name=want.name,
            executor=want.executor,
            jobstore="default",
            replace_existing=True,
        )
        (replaced if job is not None else added).append(want.id)
    wanted_ids = {w.id for w in wanted}
    removed = [job_id for job_id in current if job_id not in wanted_ids]
    for job_id in removed:
        scheduler.remove_job(job_id, jobstore="default")
    result = SyncResult(added, replaced, kept, removed)
    log.info("jobs: added %s, replaced %s, kept %s, removed %s", added, replaced, kept, removed)
    return result
