"""ImagePipeline: read the QR codes and the drawn text in the images of suspicious pages, and hand them to the
scorer as ``item.image_texts``.

Which pages: those with an image in a contact block (`spiders.images`) and those whose preliminary score (the
scorer run on the text alone) is at least ``images.score_floor``. Which images: contact-block images first, then
page order, at most ``images.max_per_page``. Downloads go through the crawler's own downloader, so
``network.proxy``, robots.txt, per-domain concurrency and download delays apply as to pages; each request is
capped at ``images.max_bytes`` and not retried. ``data:`` images are decoded in place. QR decoding and OCR (when
``images.ocr``) run off the reactor on one worker thread (`keywords.images`). Everything for one page happens
within ``images.budget_seconds``; what is not done by then is abandoned.

A failure never drops or delays the page beyond the budget: it is counted in the crawl stats as
``touthunt/images/<reason>`` -- the fetch failure reasons of `spiders.site.failure_reason` (``timeout``,
``dns_error``, ``robots_disallowed``, ``too_large`` ...), ``http_<status>``, ``unreadable`` (not an image),
``budget`` (not reached in time) or ``error``. Progress counters: ``touthunt/images/pages`` (pages whose images
were read), ``downloaded``, ``qr`` (payloads decoded) and ``ocr`` (images with text); ``skipped_low_score``
counts pages with images that were left alone.

The preliminary score comes from the process's shared scorer (`crawler.scoring.build_scorer`, the one
ScorePipeline uses), run on the page's text, URL and links.

Settings read: ``TOUTHUNT_IMAGES`` (the ``images`` section of config.yaml), ``DOWNLOAD_TIMEOUT`` and those of
`crawler.scoring.inputs_from_settings`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from crawler.config import ImagesConfig
from crawler.items import PageItem
from crawler.scoring import ScoringInputs, build_scorer, inputs_from_settings
from keywords import Scorer
from keywords.images import ImageRead, read_image
from keywords.signals import ImageText
from spiders.images import CandidateImage, candidate_images
from spiders.site import failure_reason

log = logging.getLogger(__name__)

STATS_PREFIX = "touthunt/images/"


class ImageFailure(Exception):
    """An image that could not be read; ``reason`` is the stats suffix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImagePipeline:
    def __init__(
        self,
        config: ImagesConfig,
        *,
        inputs: ScoringInputs | None = None,
        download_timeout: float = 30.0,
        scorer: Scorer | None = None,
    ) -> None:
        self.config = config
        self.inputs = inputs or ScoringInputs()
        self.download_timeout = download_timeout
        self.scorer = scorer
        self.crawler: Any = None
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ImagePipeline:
        settings = crawler.settings
        config = ImagesConfig.model_validate(settings.getdict("TOUTHUNT_IMAGES") or {})
        if not config.enabled:
            raise NotConfigured("images.enabled is false")
        pipeline = cls(
            config, inputs=inputs_from_settings(settings), download_timeout=settings.getfloat("DOWNLOAD_TIMEOUT", 30.0)
        )
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        if self.scorer is None:
            self.scorer = build_scorer(self.inputs)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="touthunt-images")

    def close_spider(self, spider: Any = None) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler is not None and count:
            self.crawler.stats.inc_value(STATS_PREFIX + key, count)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem) or not item.html:
            return item
        if self._executor is None:
            self.open_spider()
        try:
            item.image_texts = await self._read_page(item)
        except Exception:  # a bug here must not cost the page
            log.exception("reading the images of %s failed", item.url)
            self._inc("error")
        return item

    def wanted_images(self, item: PageItem) -> list[CandidateImage]:
        """The images of ``item`` to read, in order; [] when the page is not worth it."""
        candidates = candidate_images(item.html, item.final_url)
        if not candidates:
            return []
        if not any(c.in_contact_block for c in candidates):
            assert self.scorer is not None
            # the same inputs the score pipeline uses: it keeps this result when no image text is added
            item.score = self.scorer.score(item.text, url=item.final_url, links=item.links)
            preliminary = item.score.score
            item.extra["preliminary_score"] = preliminary
            if preliminary < self.config.score_floor:
                self._inc("skipped_low_score")
                return []
        ordered = sorted(candidates, key=lambda c: not c.in_contact_block)  # stable: page order within each
        return ordered[: self.config.max_per_page]

    async def _read_page(self, item: PageItem) -> list[ImageText]:
        images = self.wanted_images(item)
        if not images:
            return []
        self._inc("pages")
        deadline = time.monotonic() + self.config.budget_seconds
        tasks = [asyncio.ensure_future(self._read_one(image, item.final_url, deadline)) for image in images]
        done, pending = await asyncio.wait(tasks, timeout=self.config.budget_seconds)
        for task in pending:
            task.cancel()
        self._inc("budget", len(pending))
        texts: list[ImageText] = []
        for task in tasks:  # page order
            if task not in done:
                continue
            exc = task.exception()
            if isinstance(exc, ImageFailure):
                self._inc(exc.reason)
            elif exc is not None:
                log.warning("image %s of %s: %r", images[tasks.index(task)].src[:200], item.url, exc)
                self._inc("error")
            else:
                texts.extend(task.result())
        return texts

    async def _read_one(self, image: CandidateImage, page_url: str, deadline: float) -> list[ImageText]:
        if image.src.startswith("data:"):
            data = self._data_uri(image.src)
            src = f"data:image;sha256={hashlib.sha256(data).hexdigest()[:16]}"
        else:
            data = await self._download(image.src, page_url, deadline)
            src = image.src
        if time.monotonic() >= deadline:
            raise ImageFailure("budget")
        loop = asyncio.get_running_loop()
        assert self._executor is not None
        read: ImageRead = await loop.run_in_executor(self._executor, self._read_bytes, data, deadline)
        if not read.readable:
            raise ImageFailure("unreadable")
        texts = [ImageText(src, "qr", payload) for payload in read.qr]
        if read.text.strip():
            texts.append(ImageText(src, "ocr", read.text))
        self._inc("qr", len(read.qr))
        self._inc("ocr", int(bool(read.text.strip())))
        return texts

    def _read_bytes(self, data: bytes, deadline: float) -> ImageRead:
        """Runs on the worker thread; skips OCR when the page's time is already up."""
        return read_image(data, ocr=self.config.ocr and time.monotonic() < deadline)

    def _data_uri(self, uri: str) -> bytes:
        _header, _, payload = uri.partition(",")
        if len(payload) * 3 // 4 > self.config.max_bytes:
            raise ImageFailure("too_large")
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            raise ImageFailure("unreadable") from None

    async def _download(self, url: str, page_url: str, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ImageFailure("budget")
        request = Request(
            url,
            headers={"Referer": page_url},
            meta={
                "download_maxsize": self.config.max_bytes,
                "download_timeout": min(remaining, self.download_timeout),
                "dont_retry": True,
                "th_image": True,
            },
            dont_filter=True,
        )
        engine = self.crawler.engine
        try:
            if hasattr(engine, "download_async"):  # Scrapy >= 2.14
                response = await engine.download_async(request)
            else:  # pragma: no cover - Scrapy 2.13
                response = await maybe_deferred_to_future(engine.download(request))
        except Exception as exc:
            reason, _detail, _status = failure_reason(Failure(exc))
            raise ImageFailure(reason) from None
        if response.status != 200:
            raise ImageFailure(f"http_{response.status}")
        if len(response.body) > self.config.max_bytes:
            raise ImageFailure("too_large")
        self._inc("downloaded")
        return bytes(response.body)
