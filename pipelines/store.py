"""StorePipeline: write pages, scores, hits, contacts, fetch failures and search results in batched
transactions, off the reactor thread. A batch is one transaction; when it fails, its items are written again
one by one, each in a savepoint, so a row that cannot be written is rolled back alone and counted and never
takes its batch with it. When the spider closes, the run's search results are pointed at their stored target
pages.

With the crawl frontier on (``TOUTHUNT_FRONTIER``), the same transaction marks each item's URL done and adds
the links its page led to, so a killed crawl resumes exactly after the last stored batch
(``crawler/frontier.py``). A batch is written when it holds ``TOUTHUNT_STORE_BATCH`` items or its oldest item
waited ``TOUTHUNT_CHECKPOINT_SECONDS``, whichever comes first.

Settings read: ``TOUTHUNT_DATABASE_URL``, ``TOUTHUNT_DB_BUSY_TIMEOUT``, ``TOUTHUNT_RUN_ID``,
``TOUTHUNT_SOURCE`` (name and kind), ``TOUTHUNT_STORE_BATCH``, ``TOUTHUNT_CHECKPOINT_SECONDS``,
``TOUTHUNT_FRONTIER``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.domains import host_of, registrable_domain
from crawler.errors import StorageError
from crawler.frontier import child_entries, done_entry, urls_settled
from crawler.items import FailureItem, PageItem, SerpResultItem
from storage import frontier as frontier_store
from storage import repository
from storage.db import make_engine, make_sessionmaker
from storage.retry import with_retry

log = logging.getLogger(__name__)


def page_record(item: PageItem) -> repository.PageRecord:
    return repository.PageRecord(
        canonical_url=item.canonical_url,
        url=item.url,
        final_url=item.final_url,
        domain=item.domain,
        registrable_domain=item.registrable_domain,
        title=item.title,
        text=item.text,
        content_hash=item.content_hash,
        http_status=item.http_status,
        encoding=item.encoding,
        redirect_chain=item.redirect_chain,
        depth=item.depth,
        referer=item.referer,
        links=[(url, registrable_domain(host_of(url))) for url in item.links],
        stable_url=item.stable_url or None,
    )


def serp_record(item: SerpResultItem) -> repository.SerpRecord:
    return repository.SerpRecord(
        engine=item.engine,
        query=item.query,
        page_number=item.page_number,
        rank=item.rank,
        is_ad=item.is_ad,
        title=item.title,
        snippet=item.snippet,
        display_url=item.display_url,
        serp_url=item.serp_url,
        redirect_url=item.redirect_url,
        target_url=item.target_url,
        target_domain=registrable_domain(host_of(item.target_url)) if item.target_url else "",
        resolution=item.resolution,
        found_at=item.found_at,
    )


Item = PageItem | FailureItem | SerpResultItem


def score_record(item: PageItem) -> repository.ScoreRecord:
    score = item.score
    if score is None:
        raise ValueError(f"page {item.url} reached the store unscored")
    data = score.to_dict()
    return repository.ScoreRecord(
        score=data["score"],
        hit=data["hit"],
        category=data["category"],
        reasons=data["reasons"],
        contacts=data["contacts"],
        lexicon_version=data["lexicon_version"],
        contact_sources=data.get("contact_sources", {}),
        identifiers=data.get("identifiers", []),
    )


class PageWriter:
    """Writes items for one run and source; usable without Scrapy (tests, offline imports)."""

    def __init__(
        self, sessions: sessionmaker[Session], *, run_id: int | None, source_id: int, frontier: bool = False
    ) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self.source_id = source_id
        self.frontier = frontier
        self.counts = {
            "pages_stored": 0,
            "pages_new": 0,
            "hits_new": 0,
            "failures_stored": 0,
            "serp_results_stored": 0,
            "store_errors": 0,
        }
        self._lock = threading.Lock()

    def write(self, items: list[Item]) -> None:
        """Store a batch in one transaction; if that fails, store it again item by item, each in its own
        savepoint, so only the rows that cannot be written are lost (and counted)."""
        with self._lock:
            try:
                # a database that restarts or refuses connections for a while is waited for
                counts = with_retry(
                    lambda: self._write_in_one(items), what=f"storing {len(items)} items", attempts=8, max_delay=15.0
                )
            except (SQLAlchemyError, ValueError, StorageError) as exc:
                log.warning("batch of %d items failed (%s); storing them one by one", len(items), exc)
                counts = self._write_one_by_one(items)
            for key, value in counts.items():
                self.counts[key] += value

    def _write_in_one(self, items: list[Item]) -> Counter[str]:
        with self.sessions.begin() as session:
            return self._write_batch(session, items)

    def _write_one_by_one(self, items: list[Item]) -> Counter[str]:
        counts: Counter[str] = Counter()
        with self.sessions.begin() as session:
            for item in items:
                try:
                    with session.begin_nested():
                        item_counts = self._write_batch(session, [item])
                    counts.update(item_counts)
                except (SQLAlchemyError, ValueError) as exc:
                    counts["store_errors"] += 1
                    log.error("could not store %s: %s", getattr(item, "url", None) or item.serp_url, exc)
        return counts

    def _write_batch(self, session: Session, items: list[Item]) -> Counter[str]:
        counts: Counter[str] = Counter()
        if self.frontier:
            done = [entry for entry in map(done_entry, items) if entry is not None]
            added = [entry for item in items for entry in child_entries(item)]
            frontier_store.settle(session, self.source_id, self.run_id, done=done, added=added)
        pages = [item for item in items if isinstance(item, PageItem)]
        for item in items:
            if isinstance(item, FailureItem) and self.run_id is not None:
                repository.record_failure(
                    session,
                    run_id=self.run_id,
                    url=item.url,
                    reason=item.reason,
                    detail=item.detail,
                    http_status=item.http_status,
                )
                counts["failures_stored"] += 1
            elif isinstance(item, SerpResultItem) and self.run_id is not None:
                repository.add_serp_result(session, self.run_id, serp_record(item))
                counts["serp_results_stored"] += 1
        if not pages:
            return counts
        scores = [score_record(item) for item in pages]  # before any write: an unscored page fails early
        stored = repository.upsert_pages(
            session,
            [page_record(item) for item in pages],
            source_id=self.source_id,
            run_id=self.run_id,
            seen_at=[item.fetched_at for item in pages],
        )
        now = datetime.now(UTC)
        for (page, created), score in zip(stored, scores, strict=True):
            _hit, hit_created = repository.save_score(session, page, score, at=now)
            counts["pages_stored"] += 1
            counts["pages_new"] += int(created)
            counts["hits_new"] += int(hit_created)
        session.flush()
        return counts


class StorePipeline:
    def __init__(
        self, database_url: str, *, run_id: int | None, source: dict[str, Any], batch_size: int = 50,
        busy_timeout: float = 30.0, checkpoint_seconds: float = 5.0, frontier: bool = False,
    ) -> None:  # fmt: skip
        self.database_url = database_url
        self.run_id = run_id
        self.source = source
        self.batch_size = batch_size
        self.busy_timeout = busy_timeout
        self.checkpoint_seconds = checkpoint_seconds
        self.frontier = frontier
        self.buffer: list[Item] = []
        self.buffer_since = 0.0  # monotonic time the oldest buffered item arrived
        self.writer: PageWriter | None = None
        self.engine: Engine | None = None
        self.crawler: Any = None
        self.ticker: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        run_id = settings.getint("TOUTHUNT_RUN_ID", 0) or None
        pipeline = cls(
            settings["TOUTHUNT_DATABASE_URL"],
            run_id=run_id,
            source=settings.getdict("TOUTHUNT_SOURCE"),
            batch_size=settings.getint("TOUTHUNT_STORE_BATCH", 50),
            busy_timeout=settings.getfloat("TOUTHUNT_DB_BUSY_TIMEOUT", 30.0),
            checkpoint_seconds=settings.getfloat("TOUTHUNT_CHECKPOINT_SECONDS", 5.0),
            frontier=settings.getbool("TOUTHUNT_FRONTIER", False) and run_id is not None,
        )
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        self.engine = make_engine(self.database_url, busy_timeout_seconds=self.busy_timeout)
        sessions = make_sessionmaker(self.engine)
        with sessions.begin() as session:
            source = repository.ensure_source(session, self.source["name"], self.source.get("kind", "site"))
            source_id = source.id
        self.writer = PageWriter(sessions, run_id=self.run_id, source_id=source_id, frontier=self.frontier)
        if self.crawler is not None:
            # pages that reached the store; failures and search results are not items
            self.crawler.stats.set_value("touthunt/items", 0)
            # in a crawl: store what waited too long even when no new item comes
            from twisted.internet import task

            self.ticker = task.LoopingCall(self._tick)
            self.ticker.start(min(self.checkpoint_seconds, 1.0), now=False)

    def _tick(self) -> Any:
        if self.buffer and (time.monotonic() - self.buffer_since >= self.checkpoint_seconds or self._crawl_idle()):
            return deferred_from_coro(self._checkpoint())
        return None

    def _crawl_idle(self) -> bool:
        """Nothing being fetched or processed: storing the buffer now delays nothing (and settles its URLs, so a
        shared crawl can see its end)."""
        try:
            return bool(self.crawler.engine.spider_is_idle())
        except (AttributeError, RuntimeError):  # no engine (tests) or it is closing
            return False

    async def _checkpoint(self) -> None:
        try:
            await self._flush()
        except Exception:  # the ticker must keep running; the items were counted as store errors or logged
            log.exception("checkpoint of buffered items failed")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem) and self.crawler is not None:
            self.crawler.stats.inc_value("touthunt/items")
        if isinstance(item, PageItem | FailureItem | SerpResultItem):
            if not self.buffer:
                self.buffer_since = time.monotonic()
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size or time.monotonic() - self.buffer_since >= self.checkpoint_seconds:
                await self._flush()
        return item

    async def _flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if batch and self.writer is not None:
            await asyncio.to_thread(self.writer.write, batch)
            self._publish_counts()
            if self.crawler is not None:
                keys = [key for item in batch if (key := getattr(item, "frontier_key", ""))]
                self.crawler.signals.send_catch_log(signal=urls_settled, keys=keys)

    def _publish_counts(self) -> None:
        if self.crawler is not None and self.writer is not None:
            for key, value in self.writer.counts.items():
                self.crawler.stats.set_value(f"touthunt/{key}", value)

    def link_serp_pages(self) -> None:
        if self.writer is None or self.run_id is None or not self.writer.counts["serp_results_stored"]:
            return
        try:
            with self.writer.sessions.begin() as session:
                linked = repository.link_serp_pages(session, self.run_id)
            log.info("search results linked to %d stored target pages", linked)
        except SQLAlchemyError as exc:
            log.error("could not link search results to their pages: %s", exc)

    async def close_spider(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        await self._flush()
        await asyncio.to_thread(self.link_serp_pages)
        if self.engine is not None:
            self.engine.dispose()
