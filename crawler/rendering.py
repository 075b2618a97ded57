"""Rendering pages in the browser during a crawl (scrapy-playwright driving Debian's Chromium).

Owns: which policy a source renders with (``render_policy``), the Scrapy settings that plug the browser in
(``render_settings``; none at all under ``never``, so a static crawl never starts Playwright), the request meta
that sends one URL through the browser (``render_meta``), and ``RenderMiddleware``, which puts at most
``browser.pages_per_context`` pages in one browser context and then retires it (closed once its last page is
done), and samples the memory of the browser process tree.

While rendering, images, fonts and media (``browser.block_resources``) are aborted unless the request wants a
screenshot (meta ``th_screenshot``). A rendered response is an ordinary Scrapy response whose body is the DOM
after scripts ran; spiders turn it into the same ``PageItem`` as a static page.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from contextlib import suppress
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy_playwright.page import PageMethod

from crawler.browser import launch_options
from crawler.config import SELF_MEDIA_KINDS, Config, SourceConfig
from crawler.errors import ConfigError

log = logging.getLogger(__name__)

PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
BROWSER_KINDS = ("xiaohongshu", "douyin")  # platforms whose pages only exist after their scripts run
MEMORY_SAMPLE_SECONDS = 1.0


def render_policy(config: Config, source: SourceConfig) -> str:
    """``always``, ``auto`` or ``never`` for this source. Xiaohongshu and Douyin only exist in the browser;
    the other self-media kinds read static pages and JSON."""
    if source.kind in BROWSER_KINDS:
        return "always"
    if source.kind in SELF_MEDIA_KINDS:
        return "never"
    return config.browser.render if source.render == "default" else source.render


def render_settings(config: Config, source: SourceConfig) -> dict[str, Any]:
    """Scrapy settings for a source that may render; empty under ``never`` (Playwright is not loaded)."""
    policy = render_policy(config, source)
    if policy == "never":
        return {}
    try:
        options = launch_options(config)
    except ConfigError as exc:
        if policy == "always":
            raise
        # auto: a missing browser must not stop static crawling; the log says what is lost
        log.warning("%s; source %s is crawled without rendering script-built pages", exc, source.name)
        return {}
    browser = config.browser
    return {
        "DOWNLOAD_HANDLERS": {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": options,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": browser.navigation_timeout_seconds * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, min(config.network.concurrency, browser.pages_per_context)),
        "TOUTHUNT_RENDER": {
            "policy": policy,
            "pages_per_context": browser.pages_per_context,
            "settle_ms": browser.settle_ms,
            "block_resources": list(browser.block_resources),
            "max_pages": browser.max_rendered_pages,
            "memory_ceiling_mb": browser.memory_ceiling_mb,
        },
    }


async def settle(page: Page, milliseconds: int) -> None:
    """Give late scripts (timers, XHR) a moment: wait for the network to go quiet, at most ``milliseconds``."""
    if milliseconds > 0:
        with suppress(PlaywrightError):
            await page.wait_for_load_state("networkidle", timeout=milliseconds)


async def init_page(page: Page, request: Request) -> None:
    """Called by scrapy-playwright for each new page: remember its context (for recycling) and abort the
    blocked resource types. Routes registered later run first, so this one sees requests before
    scrapy-playwright's own header handler, which gets the rest through ``fallback``."""
    request.meta["th_browser_context"] = page.context
    blocked = frozenset(request.meta.get("th_block") or ())
    if not blocked or request.meta.get("th_screenshot"):
        return
    aborted = request.meta.setdefault("th_aborted", Counter())

    async def _route(route: Route) -> None:
        kind = route.request.resource_type
        if kind in blocked:
            aborted[kind] += 1
            await route.abort()
        else:
            await route.fallback()

    await page.route("**/*", _route)


def render_meta(reason: str, render: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Meta sending a request through the browser; ``reason`` says why (``always``, ``empty_body``, ...)."""
    return {
        "playwright": True,
        "playwright_page_init_callback": init_page,
        "playwright_page_methods": [PageMethod(settle, render.get("settle_ms", 0))],
        "th_render": reason,
        "th_block": tuple(render.get("block_resources", ())),
        **extra,
    }


def process_tree_memory(pid: int, *, include_self: bool = False) -> tuple[int, int]:
    """(RSS, PSS) bytes of the descendants of ``pid`` (the Playwright driver and every Chromium process),
    and of ``pid`` itself with ``include_self``. Summed RSS counts the pages the Chromium processes share once
    per process; PSS divides them among the sharers, so it is what the tree really occupies."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [*([root] if include_self else []), *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    rss = pss = 0
    for process in processes:
        with suppress(psutil.Error):
            info = process.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss, pss


class RenderMiddleware:
    """Downloader middleware: browser contexts of at most N pages, recycled; memory sampling.

    Settings read: ``TOUTHUNT_RENDER`` (from ``render_settings``)."""

    def __init__(self, crawler: Any, render: dict[str, Any]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.pages_per_context = int(render["pages_per_context"])
        self.ceiling_bytes = int(render["memory_ceiling_mb"]) * 1024 * 1024
        self.generation = 0
        self.assigned: Counter[str] = Counter()
        self.inflight: Counter[str] = Counter()
        self.contexts: dict[str, Any] = {}
        self.peak_rss = 0
        self.peak_pss = 0
        self._sampler: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RenderMiddleware:
        render = crawler.settings.getdict("TOUTHUNT_RENDER")
        if not render:
            raise NotConfigured("this source never renders")
        middleware = cls(crawler, render)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    @property
    def current(self) -> str:
        return f"render-{self.generation}"

    def process_request(self, request: Request) -> None:
        if not request.meta.get("playwright"):
            return
        name = self.current  # reassigned on retries too: a retired context is never reopened
        request.meta["playwright_context"] = name
        request.meta["th_context"] = name
        self.assigned[name] += 1
        self.inflight[name] += 1
        if self.assigned[name] >= self.pages_per_context:
            self.generation += 1
        if self._sampler is None:
            self._sampler = asyncio.get_running_loop().create_task(self._sample_memory())

    async def process_response(self, request: Request, response: Response) -> Response:
        await self._release(request)
        return response

    async def process_exception(self, request: Request, exception: BaseException) -> None:
        await self._release(request)

    async def _release(self, request: Request) -> None:
        name = request.meta.pop("th_context", None)
        if name is None:
            return
        context = request.meta.pop("th_browser_context", None)
        if context is not None:
            self.contexts[name] = context
        for kind, count in (request.meta.pop("th_aborted", None) or {}).items():
            self.stats.inc_value(f"touthunt/health/render_aborted_{kind}", count)
        # health figures are set as they change: the run recorder may read the stats before this closes
        self.stats.set_value("touthunt/health/browser_launches", self.stats.get_value("playwright/browser_count", 0))
        self.inflight[name] -= 1
        if name != self.current and self.inflight[name] <= 0:
            await self._retire(name)

    async def _retire(self, name: str) -> None:
        context = self.contexts.pop(name, None)
        self.assigned.pop(name, None)
        self.inflight.pop(name, None)
        if context is None:
            return
        self._measure()
        with suppress(PlaywrightError):
            await context.close()
        self.stats.inc_value("touthunt/health/render_contexts_recycled")
        log.debug("browser context %s retired after %d pages", name, self.pages_per_context)

    def _measure(self) -> None:
        rss, pss = process_tree_memory(os.getpid())
        if rss > self.peak_rss:
            self.peak_rss = rss
            self.stats.set_value("touthunt/health/browser_peak_rss_mb", round(rss / 1024 / 1024, 1))
        if pss > self.peak_pss:
            self.peak_pss = pss
            self.stats.set_value("touthunt/health/browser_peak_pss_mb", round(pss / 1024 / 1024, 1))
            if pss > self.ceiling_bytes and not self.stats.get_value("touthunt/health/browser_over_ceiling"):
                self.stats.set_value("touthunt/health/browser_over_ceiling", 1)
                log.warning(
                    "browser processes use %.0f MiB (PSS), above browser.memory_ceiling_mb %d",
                    pss / 1024 / 1024,
                    self.ceiling_bytes // 1024 // 1024,
                )

    async def _sample_memory(self) -> None:
        while True:
            self._measure()
            await asyncio.sleep(MEMORY_SAMPLE_SECONDS)

    def spider_closed(self) -> None:
        if self._sampler is not None:
            self._measure()
            self._sampler.cancel()
