"""What every self-media spider shares (wechat, weibo, tieba, xiaohongshu, douyin): the queries of
``selfmedia``, the platform's address and cookie file (``TOUTHUNT_PLATFORM``), the post budget, requests that
go through the browser when the platform needs it, turning a post into the same ``PageItem`` the site spider
emits, and stopping politely.

Stopping: when the platform answers with a login wall, a captcha or an empty page, the spider counts
``touthunt/blocked/<kind>``, sets ``touthunt/source_state`` (the run recorder stores both in the run's health),
logs why, and closes with reason ``blocked``: no further request is sent, nothing is retried or worked around.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from lxml import etree
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.config import SelfMediaOptions, SourceConfig
from crawler.cookiefile import Cookie, load_cookies
from crawler.items import FailureItem, PageItem
from crawler.rendering import render_meta
from spiders.decoding import UndecodableBody, decode_body
from spiders.extract import extract_links, html_to_text, parse_html
from spiders.site import failure_reason

log = logging.getLogger(__name__)
BLOCK_STATES = ("login_wall", "captcha", "empty")
# what platforms say when a search finds nothing (anything else without entries is a parser failure)
NO_RESULTS_MARKERS = ("没有找到", "暂无", "无结果", "未找到", "抱歉")
MAX_POST_CHARS = 200_000
_TAGS = re.compile(r"<[^>]+>")


def post_html(title: str, author: str, body_html: str, *, url: str, published: str = "") -> str:
    """A small HTML document for a post that came as JSON: title, author and time escaped, the platform's own
    body markup kept (it is parsed for text and links, never shown as HTML)."""
    head = f"<title>{html.escape(title[:200])}</title>"
    meta = f"<p class='author'>{html.escape(author[:100])}</p><p class='time'>{html.escape(published[:40])}</p>"
    link = f"<p class='source'><a href='{html.escape(url, quote=True)}'>原文</a></p>"
    return f"<html><head>{head}</head><body><article>{meta}<div class='post'>{body_html[:MAX_POST_CHARS]}</div>{link}</article></body></html>"  # noqa: E501


def is_empty(text: str) -> bool:
    """An empty answer: no body, or an HTML page without any visible text (a blank page)."""
    if not text.strip():
        return True
    if not text.lstrip().startswith("<"):
        return False
    root = parse_html(text)
    body = root.find("body") if root is not None else None
    return body is None or not html_to_text(etree.tostring(body, encoding="unicode"))[1].strip()


def plain(text: str) -> str:
    """Text of a snippet of platform markup (for titles built from a post's text)."""
    return html.unescape(_TAGS.sub("", text)).strip()


class PlatformSpider(scrapy.Spider):
    """Subclasses set ``kind``, ``browser`` (requests go through Chromium) and implement ``search_url``,
    ``parse_results`` and ``block_state``."""

    kind: ClassVar[str] = ""
    browser: ClassVar[bool] = False

    def __init__(
        self, source: SourceConfig, platform: dict[str, Any], render: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=f"{self.kind}:{source.name}", **kwargs)
        self.source = source
        self.options: SelfMediaOptions = source.selfmedia  # type: ignore[assignment]  # checked by the config
        self.base_url = str(platform["base_url"]).rstrip("/")
        cookie_file = platform.get("cookie_file") or ""
        self.cookies: list[Cookie] = (
            load_cookies(Path(cookie_file), key=f"platforms.{self.kind}.cookie_file") if cookie_file else []
        )
        self.render = render or {}
        self.posts_requested = 0
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PlatformSpider:
        settings = crawler.settings
        source = SourceConfig.model_validate(settings.getdict("TOUTHUNT_SOURCE"))
        spider = cls(
            source, settings.getdict("TOUTHUNT_PLATFORM"), settings.getdict("TOUTHUNT_RENDER"), *args, **kwargs
        )
        spider._set_crawler(crawler)
        return spider

    # --- requests ---------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for query in self.options.queries:
            yield self.request(self.search_url(query, 1), self.parse_search, query=query, page=1)

    def search_url(self, query: str, page: int) -> str:
        raise NotImplementedError

    def request(self, url: str, callback: Any, **meta: Any) -> Request:
        full = {f"th_{k}": v for k, v in meta.items()}
        full.setdefault("th_url", url)
        if self.browser:
            full.update(render_meta("always", self.render))
            if self.cookies:
                full["playwright_context_kwargs"] = {
                    "storage_state": {"cookies": [c.for_playwright() for c in self.cookies]}
                }
        cookies = [c.for_scrapy() for c in self.cookies] if self.cookies and not self.browser else None
        return Request(url, callback=callback, errback=self.on_error, meta=full, cookies=cookies)

    def next_page(self, response: Response, has_next: bool) -> Iterator[Request]:
        query, page = response.meta["th_query"], response.meta["th_page"]
        if has_next and page < self.options.max_pages:
            yield self.request(self.search_url(query, page + 1), self.parse_search, query=query, page=page + 1)

    def take_post(self) -> bool:
        """Count one more post against ``selfmedia.max_posts``; False once the budget is spent."""
        if self.posts_requested >= self.options.max_posts:
            self.crawler.stats.inc_value("touthunt/health/posts_over_budget")
            return False
        self.posts_requested += 1
        return True

    def post_request(self, url: str, callback: Any, **meta: Any) -> Request | None:
        """A request for one post, or None once ``selfmedia.max_posts`` posts were requested."""
        return self.request(url, callback, **meta) if self.take_post() else None

    # --- responses --------------------------------------------------------------------------------------

    def decoded(self, response: Response) -> str:
        """The answer as text (GBK and friends decoded as the site spider does); "" for a binary body."""
        if response.meta.get("playwright"):
            response.meta["th_encoding"] = response.encoding
            return response.text
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        try:
            text, response.meta["th_encoding"] = decode_body(response.body, content_type)
        except UndecodableBody:
            return ""
        return text

    def block_state(self, response: Response, text: str) -> str | None:
        """``login_wall``, ``captcha`` or ``empty`` when the answer is a block, else None."""
        raise NotImplementedError

    def check(self, response: Response, text: str, *, blank_is_fine: bool = False) -> None:
        """Stop the crawl (politely) when the platform answered with a block."""
        if is_empty(text) and not (blank_is_fine and text.strip()):
            self.stop("empty", response.url)
        state = self.block_state(response, text)
        if state:
            self.stop(state, response.url)

    def stop(self, state: str, url: str) -> None:
        stats = self.crawler.stats
        stats.inc_value(f"touthunt/blocked/{state}")
        if not self.stopped:
            self.stopped = True
            stats.set_value("touthunt/source_state", state)
            log.warning(
                "%s answered %s at %s: stopping this run (nothing is retried or worked around)", self.kind, state, url
            )
        raise CloseSpider("blocked")

    def parse_search(self, response: Response) -> Iterator[Any]:
        self.crawler.stats.inc_value("touthunt/health/result_pages")
        text = self.decoded(response)
        self.check(response, text)
        yield from self.parse_results(response, text)

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        raise NotImplementedError

    def no_results(self, response: Response, text: str) -> None:
        """A result page with no entry: the platform's "nothing found" message, or markup the parser no
        longer understands (reported as a parser failure, not as zero results)."""
        visible = html_to_text(text)[1]
        if any(marker in visible for marker in NO_RESULTS_MARKERS):
            self.crawler.stats.inc_value("touthunt/health/no_result_pages")
        else:
            self.parser_failure(response.url, "no result entry found on a result page (changed markup?)")

    def parser_failure(self, url: str, detail: str) -> None:
        self.crawler.stats.inc_value("touthunt/health/parser_failures")
        log.warning("%s parser failure at %s: %s", self.kind, url, detail)

    def closed(self, reason: str) -> None:
        """Runs before the run is recorded: a run whose result pages could not be parsed and that found no
        post is a parser failure, not an empty result."""
        stats = self.crawler.stats
        if reason == "finished" and not self.posts_requested and stats.get_value("touthunt/health/parser_failures"):
            stats.set_value("touthunt/source_state", "parser_failure")

    def page_item(
        self, response: Response, page_html: str, *, url: str | None = None, stable_url: str = "", depth: int = 1
    ) -> PageItem:
        """The same item the site spider emits, for one post."""
        self.crawler.stats.inc_value("touthunt/pages_fetched")
        self.crawler.stats.inc_value("touthunt/health/posts")
        rendered = bool(response.meta.get("playwright"))
        if rendered:
            self.crawler.stats.inc_value("touthunt/health/rendered_pages")
        first = url or (response.meta.get("redirect_urls") or [response.meta.get("th_url", response.url)])[0]
        final = response.url if url is None else url
        return PageItem(
            source=self.source.name,
            url=first,
            final_url=final,
            http_status=response.status,
            html=page_html,
            encoding=response.meta.get("th_encoding", "utf-8"),
            fetched_at=datetime.now(UTC),
            depth=depth,
            redirect_chain=[*response.meta.get("redirect_urls", []), response.url]
            if url is None and response.meta.get("redirect_urls")
            else [],
            referer=response.meta.get("th_referer"),
            links=extract_links(page_html, final)[:500],
            stable_url=stable_url,
            rendered=rendered,
        )

    def on_error(self, failure: Failure) -> Iterator[FailureItem]:
        request = failure.request  # type: ignore[attr-defined]
        reason, detail, status = failure_reason(failure)
        if status in (401, 403) and not self.stopped:  # refused outright: a wall, not a broken URL
            self.stop("login_wall", request.url)
        self.crawler.stats.inc_value(f"touthunt/failures/{reason}")
        log.warning("failed %s: %s (%s)", request.url, reason, detail)
        yield FailureItem(source=self.source.name, url=request.url, reason=reason, detail=detail, http_status=status)

    def failure(self, url: str, reason: str, detail: str) -> FailureItem:
        self.crawler.stats.inc_value(f"touthunt/failures/{reason}")
        log.warning("failed %s: %s (%s)", url, reason, detail)
        return FailureItem(source=self.source.name, url=url, reason=reason, detail=detail)
