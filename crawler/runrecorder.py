"""RunRecorder extension: when the spider closes, write the run's figures and status to its ``crawl_runs``
row (pages fetched, new hits, failures and drops by reason, finish reason).

Settings read: ``TOUTHUNT_DATABASE_URL``, ``TOUTHUNT_RUN_ID``, ``TOUTHUNT_DB_BUSY_TIMEOUT``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from storage import repository
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


def run_status(finish_reason: str) -> str:
    if finish_reason == "finished":
        return "finished"
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
                )
                log.info("run %s %s: %s pages stored", run.id, run.status, run.pages_stored)
        finally:
            engine.dispose()
