"""RunRecorder extension: when the spider closes, write the run's figures and status to its ``crawl_runs``
row (pages fetched, new hits, failures and drops by reason, finish reason, source health). A run that
finished ends its source's crawl cycle (the crawl frontier is cleared in the same transaction).

A crawl over the shared frontier (crawler/sharedfrontier.py) is recorded once, by the process that owns the
run, with the figures every worker reported; the workers only report theirs.

Settings read: ``TOUTHUNT_DATABASE_URL``, ``TOUTHUNT_RUN_ID``, ``TOUTHUNT_DB_BUSY_TIMEOUT``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.sharedfrontier import SETTING as SHARED_FRONTIER
from crawler.sharedfrontier import Fleet, combined_stats, fleet_for, this_worker, wait_for_reports
from storage import frontier, repository
from storage.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

# Scrapy finish reasons that mean the crawl was stopped from outside rather than run to its end.
INTERRUPTED_REASONS = {"shutdown", "cancelled"}


def error_reasons(stats: dict[str, Any]) -> dict[str, int]:
    """Failures and drops by reason, from the crawl stats (``touthunt/failures/<reason>``...)."""
    reasons: dict[str, int] = {}
    for key, value in stats.items():
        for prefix in ("touthunt/failures/", "touthunt/dropped/"):
            if key.startswith(prefix):
                reason = key.removeprefix(prefix)
                reasons[reason] = reasons.get(reason, 0) + int(value)
    if stats.get("touthunt/store_errors"):
        reasons["store_error"] = int(stats["touthunt/store_errors"])
    return reasons


def run_health(stats: dict[str, Any], obey_robots: bool | None) -> repository.RunHealth:
    """The run's source-health figures from the crawl stats. Spiders report a blocked answer by incrementing
    ``touthunt/blocked/<kind>`` (``login_wall``, ``captcha``, ...) and may set ``touthunt/source_state``;
    otherwise the state is ``blocked`` when every answer was a block, ``empty`` when nothing came back, else
    ``ok``. Other ``touthunt/health/<name>`` stats are kept by name."""
    blocked_by_kind = {
        key.removeprefix("touthunt/blocked/"): int(value)
        for key, value in stats.items()
        if key.startswith("touthunt/blocked/")
    }
    blocked = sum(blocked_by_kind.values())
    items = int(stats.get("touthunt/items", stats.get("item_scraped_count", 0)))
    state = stats.get("touthunt/source_state")
    if not state:
        if blocked and not items:
            state = max(blocked_by_kind, key=lambda k: blocked_by_kind[k])
            state = state if state in ("login_wall", "captcha") else "blocked"
        elif not items:
            state = "empty"
        else:
            state = "ok"
    extra: dict[str, Any] = {f"blocked_{k}": v for k, v in blocked_by_kind.items()}
    for key, value in stats.items():
        if key.startswith("touthunt/health/"):
            extra[key.removeprefix("touthunt/health/")] = value
    return repository.RunHealth(
        requests=int(stats.get("downloader/request_count", 0)),
        items=items,
        blocked=blocked,
        source_state=str(state),
        robots_obeyed=obey_robots,
        extra=extra,
    )


def run_status(finish_reason: str) -> str:
    if finish_reason == "finished":
        return "finished"
    if finish_reason == "blocked":  # a platform answered with a login wall, a captcha or an empty page
        return "blocked"
    if finish_reason in INTERRUPTED_REASONS:
        return "interrupted"
    return "failed"


class RunRecorder:
    def __init__(self, crawler: Any, database_url: str, run_id: int, busy_timeout: float) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.run_id = run_id
        self.busy_timeout = busy_timeout

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        run_id = crawler.settings.getint("TOUTHUNT_RUN_ID", 0)
        if not run_id:
            raise NotConfigured("no TOUTHUNT_RUN_ID: nothing to record")
        ext = cls(
            crawler,
            crawler.settings["TOUTHUNT_DATABASE_URL"],
            run_id,
            crawler.settings.getfloat("TOUTHUNT_DB_BUSY_TIMEOUT", 30.0),
        )
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        shared = self.crawler.settings.getdict(SHARED_FRONTIER)
        fleet = None
        if shared:
            fleet = fleet_for(shared, self.crawler.settings.getdict("TOUTHUNT_SOURCE")["name"], worker=this_worker())
            stats = self._shared_stats(fleet, shared, stats)
            if stats is None:
                return
        engine = make_engine(self.database_url, busy_timeout_seconds=self.busy_timeout)
        try:
            with make_sessionmaker(engine).begin() as session:
                run = repository.finish_run(
                    session,
                    self.run_id,
                    status=run_status(reason),
                    pages_fetched=int(stats.get("touthunt/pages_fetched", 0)),
                    hits_new=int(stats.get("touthunt/hits_new", 0)),
                    error_reasons=error_reasons(stats),
                    finish_reason=reason,
                    health=run_health(stats, self.crawler.settings.getbool("ROBOTSTXT_OBEY")),
                )
                if reason == "finished" and fleet is None:  # the cycle is complete: next run from the start URLs
                    frontier.clear(session, run.source_id)
                log.info("run %s %s: %s pages stored", run.id, run.status, run.pages_stored)
        finally:
            engine.dispose()
        if fleet is not None and reason == "finished":
            fleet.end_cycle(self.run_id)

    def _shared_stats(self, fleet: Fleet, shared: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any] | None:
        """A shared crawl is recorded once, by its owner, with every worker's figures summed; a worker only
        reports its own (None)."""
        own = {k: v for k, v in stats.items() if isinstance(v, int | float | str)}
        if shared.get("role") != "owner":
            fleet.report(self.run_id, own)
            log.info("worker %s reported its figures for run %s", fleet.worker, self.run_id)
            return None
        fleet.withdraw(self.run_id)  # no worker joins any more; the ones still in it stop and give back
        fleet.report(self.run_id, own)
        reports = wait_for_reports(fleet, self.run_id, timeout=float(shared["timeout"]) + 10.0)
        log.info("run %s: figures of %d workers", self.run_id, len(reports))
        combined = combined_stats(reports)
        combined["touthunt/health/workers"] = len(reports)
        return combined
