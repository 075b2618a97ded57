"""ProxyMiddleware: send every request through the configured proxies (``network.proxies`` taken in turn,
request by request, or the single ``network.proxy``); Scrapy's HttpProxyMiddleware then does the proxying.
Environment proxies are ignored so a crawl goes exactly where config.yaml says. Retries and redirects of
a request keep the proxy it was given.

Settings read: ``TOUTHUNT_PROXIES`` (list), ``TOUTHUNT_PROXY`` (older single proxy, used when the list is
missing).
"""

from __future__ import annotations

from itertools import cycle
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request


class ProxyMiddleware:
    def __init__(self, proxies: list[str]) -> None:
        self.proxies = list(proxies)
        self._next = cycle(self.proxies)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyMiddleware:
        proxies = crawler.settings.getlist("TOUTHUNT_PROXIES") or [
            p for p in [crawler.settings.get("TOUTHUNT_PROXY") or ""] if p
        ]
        if not proxies:
            raise NotConfigured("no network.proxy or network.proxies configured")
        return cls(proxies)

    def process_request(self, request: Request) -> None:
        if "proxy" not in request.meta:
            request.meta["proxy"] = next(self._next)
