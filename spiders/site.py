"""The generic ``site`` spider: crawl a source's start URLs, follow links within ``max_depth`` and at most
``follow_external_hops`` hops onto other domains, and emit one item per URL: a ``PageItem`` with the decoded
page, or a ``FailureItem`` with a stable reason code. No scoring and no database here.

Depth counts links from a start URL. A hop is a link whose registrable domain differs from the page it was
found on and is not one of the source's own domains; links inside a foreign domain cost depth, not hops.

Rendering (``TOUTHUNT_RENDER``, see crawler/rendering.py): under ``always`` every page is requested through the
browser; under ``auto`` a static page that looks script-built (spiders/scriptbuilt.py) is requested again
through the browser and only the rendered copy becomes the page, or the static copy when rendering fails or
the run's rendering budget is spent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.config import SourceConfig
from crawler.domains import host_of, registrable_domain
from crawler.frontier import frontier_key
from crawler.items import FailureItem, FrontierLink, PageItem
from crawler.rendering import render_meta
from spiders.decoding import UndecodableBody, decode_body
from spiders.extract import extract_links
from spiders.scriptbuilt import script_built_reason

log = logging.getLogger(__name__)
MAX_LINKS_KEPT = 500  # outgoing links stored per page for the link graph
_SKIPPED_EXTENSIONS = tuple(f".{ext}" for ext in IGNORED_EXTENSIONS)


def failure_reason(failure: Failure) -> tuple[str, str, int | None]:
    """Map a download failure to (reason code, human detail, HTTP status)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        proxy_error = exc.response.headers.get(b"X-Squid-Error", b"").decode("latin-1")
        if proxy_error.startswith("ERR_DNS_FAIL"):
            return "dns_error", f"the proxy could not resolve the host ({proxy_error})", status
        if proxy_error.startswith(("ERR_CONNECT_FAIL", "ERR_CONNECT_TIMEOUT")):
            return "connection_refused", f"the proxy could not connect ({proxy_error})", status
        return f"http_{status}", f"HTTP {status}", status
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return "robots_disallowed", text, None
        if "redirect" in text.lower():
            return "redirect_loop", text, None
        return "ignored", text, None
    if isinstance(exc, DownloadCancelledError | CancelledError) and "max size" in str(exc):
        return "too_large", str(exc), None
    if isinstance(exc, DownloadTimeoutError | TimeoutError | TCPTimedOutError):
        return "timeout", str(exc) or "download timed out", None
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "dns_error", str(exc), None
    if isinstance(exc, DownloadConnectionRefusedError | ConnectionRefusedError):
        return "connection_refused", str(exc), None
    _connection = (DownloadFailedError, ResponseDataLossError, ResponseNeverReceived, ResponseFailed, ConnectionLost)
    if isinstance(exc, (*_connection, ConnectError)):
        return "connection_error", repr(exc), None
    return "error", f"{type(exc).__name__}: {exc}", None


class SiteSpider(scrapy.Spider):
    """Reads the ``TOUTHUNT_SOURCE`` setting (a source entry of config.yaml, as a dict).

    ``frontier_resume`` and ``frontier_known`` are set by the crawl frontier extension before the first
    request (``crawler/frontier.py``): a resumed crawl requests the pending URLs instead of the start URLs and
    never requests a URL the frontier knows. Every item carries its URL's frontier key and a page carries the
    requests it led to, so the store pipeline settles both with the page."""

    name = "site"
    resumable: ClassVar[bool] = True  # an interrupted crawl resumes from the frontier (kinds that start elsewhere: no)

    def __init__(self, source: SourceConfig, render: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"site:{source.name}", **kwargs)
        self.source = source
        own = source.allowed_domains or tuple(host_of(u) for u in source.start_urls)
        self.own_domains = frozenset(registrable_domain(d) for d in own)
        self.render = render or {}
        self.render_policy = self.render.get("policy", "never")
        self.render_budget = int(self.render.get("max_pages", 0))
        self.frontier_resume: list[FrontierLink] | None = None
        self.frontier_known: set[str] = set()
        self.seeds = True  # False for a worker joining a shared crawl: the owner seeded its queue

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        source = SourceConfig.model_validate(crawler.settings.getdict("TOUTHUNT_SOURCE"))
        spider = cls(source, *args, render=crawler.settings.getdict("TOUTHUNT_RENDER"), **kwargs)
        spider._set_crawler(crawler)
        spider.seeds = crawler.settings.getdict("TOUTHUNT_SHARED_FRONTIER").get("role", "owner") == "owner"
        return spider

    async def start(self) -> AsyncIterator[Request]:
        if self.frontier_resume is not None:
            for link in self.frontier_resume:
                yield self._request(link.url, depth=link.depth, hops=link.hops, referer=link.referer)
            return
        if not self.seeds:
            return
        for url in self.source.start_urls:
            self.frontier_known.add(frontier_key(url))
            yield self._request(url, depth=0, hops=0, referer=None)

    def _request(self, url: str, *, depth: int, hops: int, referer: str | None) -> Request:
        meta = {"th_depth": depth, "th_hops": hops, "th_referer": referer, "th_url": url, "th_key": frontier_key(url)}
        if self.render_policy == "always" and self._take_render_budget():
            meta.update(render_meta("always", self.render))
        return Request(url, callback=self.parse, errback=self.on_error, meta=meta)

    def _take_render_budget(self) -> bool:
        if self.render_budget <= 0:
            self.crawler.stats.inc_value("touthunt/health/render_over_budget")
            return False
        self.render_budget -= 1
        return True

    def parse(self, response: Response) -> Iterator[PageItem | FailureItem | Request]:
        meta = response.meta
        first_url = (meta.get("th_redirect_urls") or meta.get("redirect_urls") or [meta["th_url"]])[0]
        item, links = self.page_item(response, first_url, depth=meta["th_depth"], referer=meta["th_referer"])
        if isinstance(item, PageItem) and not item.rendered and self.render_policy == "auto":
            reason = script_built_reason(item.html)
            if reason and self._take_render_budget():
                yield self._render_again(response, item, reason)
                return
        if isinstance(item, PageItem):
            yield from self._emit_with_children(item, links, meta["th_hops"])
        else:
            yield item

    def _emit_with_children(self, item: PageItem, links: list[str], hops: int) -> Iterator[PageItem | Request]:
        """The page, carrying the requests it leads to (the frontier stores both in one transaction), then
        those requests."""
        follow = list(self._follow(item.final_url, links, item.depth, hops))
        item.frontier_children = [
            FrontierLink(
                key=r.meta["th_key"], url=r.url, depth=r.meta["th_depth"], hops=r.meta["th_hops"],
                referer=r.meta["th_referer"],
            )
            for r in follow
        ]  # fmt: skip
        yield item
        yield from follow

    def page_item(
        self, response: Response, url: str, *, depth: int, referer: str | None
    ) -> tuple[PageItem | FailureItem, list[str]]:
        """The stored form of a fetched or rendered page (requested as ``url``) and its outgoing links, or a
        failure when the body is not text."""
        meta = response.meta
        rendered = bool(meta.get("playwright"))
        if "th_static" not in meta:  # a page rendered again was counted when it was fetched
            self.crawler.stats.inc_value("touthunt/pages_fetched")
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        try:
            if rendered:  # the DOM serialised by the browser, encoded by scrapy-playwright as the response says
                html, encoding = response.text, response.encoding
            else:
                html, encoding = decode_body(response.body, content_type)
        except (UndecodableBody, AttributeError) as exc:
            detail = f"{exc}; Content-Type {content_type or 'missing'}"
            return self._failure(url, "binary", detail, response.status, key=meta.get("th_key", "")), []
        links = extract_links(html, response.url)
        redirects = meta.get("th_redirect_urls") or meta.get("redirect_urls") or []
        item = PageItem(
            source=self.source.name,
            url=url,
            final_url=response.url,
            http_status=meta.get("th_static_status") or response.status,
            html=html,
            encoding=encoding,
            fetched_at=datetime.now(UTC),
            depth=depth,
            redirect_chain=[*redirects, response.url] if redirects else [],
            referer=referer,
            links=links[:MAX_LINKS_KEPT],
            rendered=rendered,
            frontier_key=meta.get("th_key", ""),
        )
        if rendered:
            item.extra["render_reason"] = meta.get("th_render", "")
            self.crawler.stats.inc_value("touthunt/health/rendered_pages")
        return item, links

    def follow_link(self, link: str) -> bool:
        """Hook for kinds that bound some links further (classifieds: calendar traps). True: follow it."""
        return True

    def _render_again(self, response: Response, static: PageItem, reason: str) -> Request:
        """The same page through the browser; the static copy rides along in case rendering fails."""
        self.crawler.stats.inc_value(f"touthunt/health/render_because_{reason}")
        log.debug("rendering %s in the browser (%s)", response.url, reason)
        meta = {k: v for k, v in response.meta.items() if k.startswith("th_")}
        meta["th_redirect_urls"] = response.meta.get("redirect_urls") or []
        meta["th_static"] = static
        meta["th_static_status"] = response.status
        meta.update(render_meta(reason, self.render))
        return Request(response.url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=True)

    def _follow(self, page_url: str, links: list[str], depth: int, hops: int) -> Iterator[Request]:
        if depth >= self.source.max_depth:
            return
        page_domain = registrable_domain(host_of(page_url))
        for link in links:
            if link.lower().split("?")[0].endswith(_SKIPPED_EXTENSIONS):
                continue
            domain = registrable_domain(host_of(link))
            link_hops = hops
            if domain != page_domain and domain not in self.own_domains:
                link_hops += 1
            if domain in self.own_domains:
                link_hops = 0
            if link_hops > self.source.follow_external_hops:
                self.crawler.stats.inc_value("touthunt/links_beyond_hops")
                continue
            if not self.follow_link(link):
                continue
            request = self._request(link, depth=depth + 1, hops=link_hops, referer=page_url)
            if request.meta["th_key"] in self.frontier_known:
                continue  # requested already in this crawl cycle (Scrapy's duplicate filter, across restarts)
            self.frontier_known.add(request.meta["th_key"])
            yield request

    def on_error(self, failure: Failure) -> Iterator[PageItem | FailureItem | Request]:
        request = failure.request  # type: ignore[attr-defined]
        static = request.meta.get("th_static")
        if isinstance(static, PageItem):  # rendering failed: keep what the static fetch saw
            self.crawler.stats.inc_value("touthunt/health/render_failed")
            log.warning("rendering %s failed (%s); keeping the static copy", request.url, failure.value)
            yield from self._emit_with_children(
                static, extract_links(static.html, static.final_url), request.meta["th_hops"]
            )
            return
        reason, detail, status = failure_reason(failure)
        first_url = request.meta.get("redirect_urls", [request.meta.get("th_url", request.url)])[0]
        yield self._failure(first_url, reason, detail, status, key=request.meta.get("th_key", ""))

    def _failure(self, url: str, reason: str, detail: str, status: int | None, *, key: str = "") -> FailureItem:
        self.crawler.stats.inc_value(f"touthunt/failures/{reason}")
        log.warning("failed %s: %s (%s)", url, reason, detail)
        return FailureItem(
            source=self.source.name, url=url, reason=reason, detail=detail, http_status=status, frontier_key=key
        )
