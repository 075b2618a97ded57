"""Crash-safe crawls: the crawl frontier kept in the database (``crawl_frontier``, see
``storage/frontier.py``).

A crawl cycle of a source starts from its start URLs and ends when a run closes with reason ``finished``.
Every URL the spider requests is a frontier entry: ``pending`` until its page or its failure is stored,
then ``done`` in that same transaction, together with the links the page led to as new pending entries
(the store pipeline does that; items dropped by a pipeline are settled by this extension). So whatever
kills a crawl (SIGKILL, the time limit, a power cut), the database holds exactly the URLs still to do:
the next run of the source requests the pending entries instead of the start URLs and skips every known
URL, so no page is lost and none is fetched again. A finished run clears the source's frontier.

This module owns the frontier key of a URL and the Scrapy extension that loads the frontier when the spider
opens (before its first request) and settles dropped items. Settings read: ``TOUTHUNT_FRONTIER``,
``TOUTHUNT_DATABASE_URL``, ``TOUTHUNT_DB_BUSY_TIMEOUT``, ``TOUTHUNT_RUN_ID``, ``TOUTHUNT_SOURCE``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from w3lib.url import canonicalize_url

from crawler.items import FailureItem, FrontierLink, PageItem
from storage import frontier as frontier_store
from storage import repository
from storage.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

# Scrapy signal the store pipeline sends after each committed batch, with ``keys``: the frontier keys of the
# URLs whose page or failure is now stored (the shared frontier on Redis settles their requests).
urls_settled = object()


def frontier_key(url: str) -> str:
    """The key of a URL in the frontier: SHA-1 of its canonical form (query sorted, fragment dropped), as
    Scrapy's duplicate filter sees URLs."""
    return hashlib.sha1(canonicalize_url(url).encode("utf-8")).hexdigest()


def done_entry(item: Any) -> frontier_store.Entry | None:
    """The frontier entry a stored page or failure settles (other items, such as search results, none)."""
    key = getattr(item, "frontier_key", "")
    if not key:
        return None
    return frontier_store.Entry(key=key, url=item.url)


def child_entries(item: PageItem | FailureItem) -> list[frontier_store.Entry]:
    links: list[FrontierLink] = getattr(item, "frontier_children", [])
    return [frontier_store.Entry(key=c.key, url=c.url, depth=c.depth, hops=c.hops, referer=c.referer) for c in links]


class Frontier:
    def __init__(self, crawler: Any, database_url: str, run_id: int, busy_timeout: float) -> None:
        self.crawler = crawler
        self.run_id = run_id
        self.engine = make_engine(database_url, busy_timeout_seconds=busy_timeout)
        self.sessions = make_sessionmaker(self.engine)
        self.source_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Frontier:
        settings = crawler.settings
        run_id = settings.getint("TOUTHUNT_RUN_ID", 0)
        if not run_id or not settings.getbool("TOUTHUNT_FRONTIER", False):
            raise NotConfigured("crawl frontier off (no run id or runs.resume is false)")
        ext = cls(crawler, settings["TOUTHUNT_DATABASE_URL"], run_id, settings.getfloat("TOUTHUNT_DB_BUSY_TIMEOUT"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        if not getattr(spider, "resumable", False):  # a spider that does not follow a frontier (not the site spider)
            log.info("spider %s keeps no crawl frontier: an interrupted crawl starts over", spider.name)
            return
        source = spider.source
        with self.sessions.begin() as session:
            db_source = repository.ensure_source(session, source.name, source.kind)
            self.source_id = db_source.id
            pending = frontier_store.pending(session, db_source.id)
            start_keys = {frontier_key(u) for u in source.start_urls}
            if pending and not start_keys <= frontier_store.known_keys(session, db_source.id):
                log.info("the start URLs of %s changed since its interrupted crawl: starting over", source.name)
                pending = []
            if pending:
                spider.frontier_known = frontier_store.known_keys(session, db_source.id)
                spider.frontier_resume = [
                    FrontierLink(key=e.key, url=e.url, depth=e.depth, hops=e.hops, referer=e.referer) for e in pending
                ]
                done = len(spider.frontier_known) - len(pending)
                log.info(
                    "resuming the interrupted crawl of %s: %d URLs pending, %d done", source.name, len(pending), done
                )
                self.crawler.stats.set_value("touthunt/frontier/resumed_pending", len(pending))
                self.crawler.stats.set_value("touthunt/frontier/resumed_done", done)
            else:
                frontier_store.clear(session, db_source.id)  # a cycle with nothing left to do is over
                spider.frontier_known = set()
                spider.frontier_resume = None
                starts = [frontier_store.Entry(key=frontier_key(u), url=u) for u in source.start_urls]
                frontier_store.settle(session, db_source.id, self.run_id, added=starts)

    def item_dropped(self, item: Any, response: Any, exception: Any, spider: Any) -> None:
        if self.source_id is None or not isinstance(item, PageItem | FailureItem):
            return
        done = done_entry(item)
        with self.sessions.begin() as session:
            frontier_store.settle(
                session, self.source_id, self.run_id, done=[done] if done else [], added=child_entries(item)
            )

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.engine.dispose()
