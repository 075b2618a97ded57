"""ProxyMiddleware: send every request through ``network.proxy`` (Scrapy's HttpProxyMiddleware then does
the proxying). Environment proxies are ignored so a crawl goes exactly where config.yaml says.

Settings read: ``TOUTHUNT_PROXY``.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request


class ProxyMiddleware:
    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyMiddleware:
        proxy = crawler.settings.get("TOUTHUNT_PROXY") or ""
        if not proxy:
            raise NotConfigured("no network.proxy configured")
        return cls(proxy)

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy)
