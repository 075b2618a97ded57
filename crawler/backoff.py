"""BackoffRetryMiddleware: Scrapy's retries (connection errors, 5xx, 429) with a wait before each retry:
``network.retry_backoff_seconds`` doubled per further retry, at most ``network.retry_backoff_max_seconds``.
A struggling or rate-limiting host gets time to recover instead of an immediate second request.

Settings read: ``RETRY_*`` (as Scrapy's middleware), ``TOUTHUNT_RETRY_BACKOFF``, ``TOUTHUNT_RETRY_BACKOFF_MAX``.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

DELAY_KEY = "th_retry_delay"


def backoff_delay(retry_number: int, base: float, ceiling: float) -> float:
    """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
    if retry_number < 1 or base <= 0:
        return 0.0
    return min(base * 2 ** (retry_number - 1), ceiling)


class BackoffRetryMiddleware(RetryMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.base = crawler.settings.getfloat("TOUTHUNT_RETRY_BACKOFF", 0.0)
        middleware.ceiling = crawler.settings.getfloat("TOUTHUNT_RETRY_BACKOFF_MAX", 60.0)
        return middleware

    def _retry(self, request: Request, reason: Any) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            delay = backoff_delay(int(retry.meta.get("retry_times", 1)), self.base, self.ceiling)
            retry.meta[DELAY_KEY] = delay
            self.crawler.stats.inc_value("touthunt/retries")
        return retry

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop(DELAY_KEY, 0.0)
        if delay > 0:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
