"""The ``classifieds`` spider: list-and-detail sites (58-style classifieds, local forums) read with the CSS or
XPath selectors of the source's ``classifieds`` block instead of a spider per site.

Start URLs are list pages (depth 0). On each list page the spider takes the listings
(``list_item_selector``), requests each listing's detail page (``detail_link_selector``, depth 1) and the
next list page (``next_page_selector``; pagination does not cost depth). Detail pages are crawled with the
site spider's rules (``max_depth``, ``follow_external_hops``), so an ad's link to a scalper's own site is
followed like any other link.

Bounds, each counted in the run's health figures (``classifieds_*``): list pages per start URL
(``max_pages``; ``classifieds_pages_beyond_limit``), a next link back to a list page already read
(``pagination_loops``), listings per page (``listings_beyond_limit``), and calendar or archive URLs
(``calendar_pattern``, at most ``max_calendar_pages`` per run; ``calendar_links_skipped``). A list page
without listings that asks for a login counts as a ``login_wall`` block; one without listings and without a
login form is counted as ``empty_list_pages``, and a run whose list pages all had no listings is a
``parser_failure`` (the selectors no longer match).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

from parsel import Selector
from scrapy.http import Request, Response

from crawler.config import SourceConfig
from crawler.domains import canonical_url, host_of, registrable_domain
from crawler.items import FailureItem, PageItem
from spiders.site import SiteSpider

log = logging.getLogger(__name__)

_LOGIN_CUES = ("登录", "登陆", "login", "passport")


def looks_like_login_wall(sel: Selector, url: str) -> bool:
    """A page that asks for a password, or a login URL, instead of showing listings."""
    if sel.css("input[type=password]"):
        return True
    return any(cue in url.lower() for cue in ("passport", "/login", "login.php", "mod=logging"))


class ClassifiedsSpider(SiteSpider):
    """Reads ``TOUTHUNT_SOURCE`` (a classifieds source)."""

    name = "classifieds"
    resumable = False  # starts from its own requests, not from the frontier

    def __init__(self, source: SourceConfig, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.name = f"classifieds:{source.name}"
        if source.classifieds is None:
            raise ValueError(f"source {source.name} has no classifieds settings")
        self.settings_block = source.classifieds
        self.calendar = re.compile(source.classifieds.calendar_pattern)
        self._calendar_followed: set[str] = set()
        self._list_pages_seen: set[str] = set()
        self._list_pages_with_items = 0

    def _inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(key, count)

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.start_urls:
            yield self._list_request(url, page=1, referer=None)

    def _list_request(self, url: str, *, page: int, referer: str | None) -> Request:
        self._list_pages_seen.add(canonical_url(url))
        meta = {"th_depth": 0, "th_hops": 0, "th_referer": referer, "th_url": url, "th_list_page": page}
        return Request(url, callback=self.parse_list, errback=self.on_error, meta=meta)

    def _select(self, node: Selector, query: str) -> list[Any]:
        block = self.settings_block
        return list(node.css(query) if block.selector_type == "css" else node.xpath(query))

    def _href(self, node: Selector, query: str) -> str:
        """The first link a selector finds: an attribute or text it selects, or the ``href`` of an element."""
        found = self._select(node, query)
        if not found:
            return ""
        first = found[0]
        if isinstance(first.root, str):  # an attribute or text node: the link itself
            return first.root.strip()
        return str(first.attrib.get("href", "")).strip()  # an element (``a.next``, ``.//a``): its href

    def parse_list(self, response: Response) -> Iterator[PageItem | FailureItem | Request]:
        meta = response.meta
        url = meta.get("redirect_urls", [meta["th_url"]])[0]
        self._inc("touthunt/health/classifieds_list_pages")
        item, _links = self.page_item(response, url, depth=0, referer=meta["th_referer"])
        if not isinstance(item, PageItem):
            yield item
            return
        block = self.settings_block
        sel = Selector(text=item.html, base_url=response.url)
        listings = self._select(sel, block.list_item_selector)
        if not listings and looks_like_login_wall(sel, response.url):
            # a login form is not content: record the block, store nothing, go no further
            self._inc("touthunt/blocked/login_wall")
            if not self._list_pages_with_items:
                self.crawler.stats.set_value("touthunt/source_state", "login_wall")
            log.warning("list page %s asks for a login; the source stops there", response.url)
            return
        yield item
        if not listings:
            self._inc("touthunt/health/classifieds_empty_list_pages")
            log.warning("list page %s: list_item_selector %r matched nothing", response.url, block.list_item_selector)
            if not self._list_pages_with_items:  # so far no list page matched: the selectors are stale
                self.crawler.stats.set_value("touthunt/source_state", "parser_failure")
            return
        stats = self.crawler.stats
        if not self._list_pages_with_items and stats.get_value("touthunt/source_state") in (
            "parser_failure",
            "login_wall",
        ):
            stats.set_value("touthunt/source_state", "")  # one list page matched after all
        self._list_pages_with_items += 1
        if len(listings) > block.max_items_per_page:
            self._inc("touthunt/health/classifieds_listings_beyond_limit", len(listings) - block.max_items_per_page)
        for listing in listings[: block.max_items_per_page]:
            self._inc("touthunt/health/classifieds_listings")
            yield from self._detail_request(listing, response.url)
        yield from self._next_page(sel, response.url, meta["th_list_page"])

    def _detail_request(self, listing: Selector, page_url: str) -> Iterator[Request]:
        href = self._href(listing, self.settings_block.detail_link_selector)
        link = urljoin(page_url, href)
        if not link.startswith(("http://", "https://")):
            self._inc("touthunt/health/classifieds_listings_without_link")
            return
        hops = 0 if registrable_domain(host_of(link)) in self.own_domains else 1
        if hops > self.source.follow_external_hops:
            self.crawler.stats.inc_value("touthunt/links_beyond_hops")
            return
        if self.follow_link(link):
            yield self._request(link, depth=1, hops=hops, referer=page_url)

    def _next_page(self, sel: Selector, page_url: str, page: int) -> Iterator[Request]:
        query = self.settings_block.next_page_selector
        if not query:
            return
        href = self._href(sel, query)
        if not href:
            return
        link = urljoin(page_url, href)
        if not link.startswith(("http://", "https://")):
            return
        if canonical_url(link) in self._list_pages_seen:
            self._inc("touthunt/health/classifieds_pagination_loops")
            return
        if page >= self.settings_block.max_pages:
            self._inc("touthunt/health/classifieds_pages_beyond_limit")
            return
        if self.follow_link(link):
            yield self._list_request(link, page=page + 1, referer=page_url)

    def follow_link(self, link: str) -> bool:
        """Calendar and archive URLs (one page per day, endlessly) are followed a few times per run only."""
        if not self.calendar.search(link):
            return True
        key = canonical_url(link)
        if key in self._calendar_followed:
            return True  # the same day again: the duplicate filter drops it
        if len(self._calendar_followed) >= self.settings_block.max_calendar_pages:
            self._inc("touthunt/health/classifieds_calendar_links_skipped")
            return False
        self._calendar_followed.add(key)
        return True
