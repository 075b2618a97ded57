"""The ``search`` spider: run a source's keyword queries on search engines, store every result (organic and
ads apart) as a ``SerpResultItem``, resolve the engines' redirect links to their targets, and crawl the
targets with the site spider's depth and hop rules (each target is a depth-0 page, as a start URL is).

An engine that answers with a captcha is counted as blocked (``touthunt/blocked/captcha``) and asked nothing
more in that run. Bounds, each counted in the crawl stats: queries per engine (``search.max_queries``),
result pages per query (``search.max_pages``), results per page (``search.max_results_per_page``), jump
pages per link (``search.max_redirect_hops``); HTTP redirect loops fail as ``redirect_loop``
(crawler/redirectloop.py) and links the engine no longer resolves as ``redirect_expired``.

Result pages are recorded through their results (``serp_results``), not as pages. A result page that yields
no results and is neither the engine's "no results" page nor a captcha is a parser failure for that engine
(``touthunt/source_state`` = ``parser_failure``), never "zero results".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.config import SourceConfig
from crawler.domains import canonical_url
from crawler.items import FailureItem, PageItem, SerpResultItem
from spiders.decoding import UndecodableBody, decode_body
from spiders.serp import ENGINES, SerpEntry, engine_of_url, parse_serp, refresh_target
from spiders.site import SiteSpider, failure_reason

log = logging.getLogger(__name__)
MAX_NO_RESULT_URLS = 100  # result pages that said "no results", listed in the run's health figures


class SearchSpider(SiteSpider):
    """Reads ``TOUTHUNT_SOURCE`` (a search source) and ``TOUTHUNT_QUERIES`` (its expanded queries)."""

    name = "search"
    resumable = False  # starts from its own requests, not from the frontier

    def __init__(self, source: SourceConfig, queries: list[str], **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.name = f"search:{source.name}"
        if source.search is None:
            raise ValueError(f"source {source.name} has no search settings")
        self.search = source.search
        self.queries = list(queries)
        self._targets: set[str] = set()  # target URLs requested at depth 0
        self._emitted: set[str] = set()  # canonical URLs of target pages already emitted
        self._blocked: set[str] = set()  # engines that answered with a captcha: asked nothing more this run

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SearchSpider:
        source = SourceConfig.model_validate(crawler.settings.getdict("TOUTHUNT_SOURCE"))
        spider = cls(
            source,
            crawler.settings.getlist("TOUTHUNT_QUERIES"),
            *args,
            render=crawler.settings.getdict("TOUTHUNT_RENDER"),
            **kwargs,
        )
        spider._set_crawler(crawler)
        return spider

    def _inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    # Result pages -------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        queries = self.queries[: self.search.max_queries]
        skipped = len(self.queries) - len(queries)
        if skipped:
            self._inc("touthunt/health/search_queries_skipped", skipped * len(self.search.engines))
        for query in queries:
            for name in self.search.engines:
                if name in self._blocked:
                    self._inc("touthunt/health/search_queries_skipped_blocked")
                    continue
                yield self._serp_request(name, query, 1)

    def _serp_request(self, engine: str, query: str, page: int, url: str | None = None) -> Request:
        url = url or ENGINES[engine].search_url(query, page, https=self.search.https)
        meta = {"th_engine": engine, "th_query": query, "th_page": page, "th_url": url, "th_depth": 0, "th_hops": 0}
        return Request(url, callback=self.parse_serp, errback=self.on_error, meta={**meta, "th_referer": None})

    def parse_serp(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        engine, query, page_number = meta["th_engine"], meta["th_query"], meta["th_page"]
        self._inc(f"touthunt/health/serp_pages_{engine}")
        url = meta.get("redirect_urls", [meta["th_url"]])[0]
        item, _links = self.page_item(response, url, depth=0, referer=None)
        if not isinstance(item, PageItem):
            yield item
            return
        result = parse_serp(engine, item.html, response.url)
        if result.state == "captcha":
            # stop asking this engine for the rest of the run; defeating its check is not our business
            self._blocked.add(engine)
            self._inc("touthunt/blocked/captcha")
            yield self._failure(url, "captcha", f"{engine}: {result.detail}", response.status)
            return
        if result.state == "parser_failure":
            self._inc(f"touthunt/health/serp_parser_failures_{engine}")
            self.crawler.stats.set_value("touthunt/source_state", "parser_failure")
            yield self._failure(url, "parser_failure", f"{engine}: {result.detail}", response.status)
            return
        # The result page itself is not stored as a page: it is the engine's, not the advertiser's, and its
        # ads would make it a hit. What it showed is kept result by result in serp_results.
        if result.state == "no_results":
            self._inc(f"touthunt/health/serp_no_results_{engine}")
            searched_empty = self.crawler.stats.get_value("touthunt/health/serp_no_results_urls") or []
            if len(searched_empty) < MAX_NO_RESULT_URLS:  # kept so "searched, nothing found" stays visible
                self.crawler.stats.set_value("touthunt/health/serp_no_results_urls", [*searched_empty, url])
            return
        entries = result.entries[: self.search.max_results_per_page]
        if len(result.entries) > len(entries):
            self._inc("touthunt/health/search_results_beyond_limit", len(result.entries) - len(entries))
        for entry in entries:
            self._inc(f"touthunt/health/serp_{'ads' if entry.is_ad else 'results'}_{engine}")
            yield from self._result(engine, query, page_number, response.url, entry)
        if result.next_url and not ENGINES[engine].owns(result.next_url):
            self._inc("touthunt/health/search_foreign_next_links")  # a "next page" off the engine: not followed
        elif result.next_url:
            if page_number < self.search.max_pages:
                yield self._serp_request(engine, query, page_number + 1, result.next_url)
            else:
                self._inc("touthunt/health/search_pages_beyond_limit")

    def _result(self, engine: str, query: str, page_number: int, serp_url: str, entry: SerpEntry) -> Iterator[Any]:
        serp = {
            "engine": engine,
            "query": query,
            "page_number": page_number,
            "rank": entry.rank,
            "is_ad": entry.is_ad,
            "title": entry.title,
            "snippet": entry.snippet,
            "display_url": entry.display_url,
            "serp_url": serp_url,
            "redirect_url": entry.href,
        }
        follow = self.search.follow_ads if entry.is_ad else self.search.follow_organic
        direct = entry.direct_url or ("" if engine_of_url(entry.href) else entry.href)
        if direct:
            yield self._serp_item(serp, direct, "direct")
            if follow:
                yield from self._target_request(direct, serp_url)
        elif not follow:
            yield self._serp_item(serp, "", "not_followed")
        else:
            meta = {"th_serp": serp, "th_jumps": 0, "th_jump_chain": [], "th_url": entry.href}
            yield Request(entry.href, callback=self.parse_jump, errback=self.on_jump_error, dont_filter=True, meta=meta)

    def _serp_item(self, serp: dict[str, Any], target: str, resolution: str) -> SerpResultItem:
        self._inc(f"touthunt/health/search_resolved_{resolution}")
        return SerpResultItem(
            source=self.source.name, target_url=target, resolution=resolution, found_at=datetime.now(UTC), **serp
        )

    # Redirect links -----------------------------------------------------------------------------------

    def parse_jump(self, response: Response) -> Iterator[Any]:
        """The answer to an engine link: the target page itself (a 30x was followed) or a jump page that
        refreshes to the next URL."""
        meta = response.meta
        serp = meta["th_serp"]
        chain = [*meta["th_jump_chain"], *meta.get("redirect_urls", []), response.url]
        if engine_of_url(response.url) is None:
            target = next(u for u in chain if engine_of_url(u) is None)
            yield self._serp_item(serp, target, "redirect")
            yield from self._target_page(response, target, serp["serp_url"], chain)
            return
        try:
            html, _encoding = decode_body(response.body, response.headers.get(b"Content-Type", b"").decode("latin-1"))
        except UndecodableBody:
            html = ""
        target = refresh_target(html, response.url)
        if not target:
            self._inc("touthunt/health/search_redirects_expired")
            yield self._serp_item(serp, "", "expired")
            detail = f"{serp['engine']} link leads to an engine page that sends nowhere ({response.url})"
            yield self._failure(serp["redirect_url"], "redirect_expired", detail, response.status)
            return
        jumps = meta["th_jumps"] + 1
        if jumps > self.search.max_redirect_hops or target in chain:
            self._inc("touthunt/health/search_redirects_looping")
            yield self._serp_item(serp, "", "loop")
            detail = f"{serp['engine']} link: {jumps} jump pages, last to {target} (search.max_redirect_hops)"
            yield self._failure(serp["redirect_url"], "redirect_loop", detail, None)
            return
        yield Request(
            target,
            callback=self.parse_jump,
            errback=self.on_jump_error,
            dont_filter=True,
            meta={"th_serp": serp, "th_jumps": jumps, "th_jump_chain": chain, "th_url": target},
        )

    def on_jump_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        serp = request.meta["th_serp"]
        reason, detail, status = failure_reason(failure)
        if reason == "redirect_loop":
            self._inc("touthunt/health/search_redirects_looping")
            yield self._serp_item(serp, "", "loop")
            yield self._failure(serp["redirect_url"], reason, detail, status)
        elif engine_of_url(request.url) is not None and reason.startswith("http_4"):
            self._inc("touthunt/health/search_redirects_expired")
            yield self._serp_item(serp, "", "expired")
            yield self._failure(serp["redirect_url"], "redirect_expired", f"{detail} from {request.url}", status)
        else:
            target = request.url if engine_of_url(request.url) is None else ""
            yield self._serp_item(serp, target, "failed")
            yield self._failure(target or serp["redirect_url"], reason, detail, status)

    # Targets ------------------------------------------------------------------------------------------

    def _target_request(self, target: str, serp_url: str) -> Iterator[Request]:
        if target in self._targets:
            return
        self._targets.add(target)
        meta = {"th_depth": 0, "th_hops": 0, "th_referer": serp_url, "th_url": target}
        # dont_filter: a target met earlier deeper in another target's crawl is still crawled from depth 0
        yield Request(target, callback=self.parse, errback=self.on_error, dont_filter=True, meta=meta)

    def _target_page(self, response: Response, target: str, serp_url: str, chain: list[str]) -> Iterator[Any]:
        if target in self._targets and canonical_url(response.url) in self._emitted:
            return
        self._targets.add(target)
        item, links = self.page_item(response, target, depth=0, referer=serp_url)
        if isinstance(item, PageItem):
            item.redirect_chain = chain  # from the engine's link through its jump pages to the page
        yield from self._emit(item)
        if isinstance(item, PageItem):
            yield from self._follow(response.url, links, 0, 0)

    def parse(self, response: Response) -> Iterator[PageItem | FailureItem | Request]:
        for out in super().parse(response):
            if isinstance(out, PageItem):
                yield from self._emit(out)
            else:
                yield out

    def _emit(self, item: PageItem | FailureItem) -> Iterator[PageItem | FailureItem]:
        """A page fetched twice (a target also reached through another target's links) is stored once."""
        if isinstance(item, PageItem):
            key = canonical_url(item.final_url)
            if key in self._emitted:
                return
            self._emitted.add(key)
        yield item
