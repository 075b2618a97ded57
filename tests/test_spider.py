"""The site spider's link policy (depth, external hops, own domains) and its failure reason codes."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import HtmlResponse, Request
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.defer import CancelledError
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawler.items import FailureItem, PageItem
from spiders.extract import extract_links
from spiders.site import SiteSpider, failure_reason

HUB = """<a href="/list/2.html">next</a><a href="http://www.scalper-a.com/">a</a>
<a href="http://m.hub.cn/mobile">own subdomain</a><a href="/files/price.pdf">pdf</a>"""


def make_spider(**source: Any) -> SiteSpider:
    settings = {"TOUTHUNT_SOURCE": {"name": "hub", "start_urls": ["http://www.hub.cn/"], **source}}
    crawler = get_crawler(SiteSpider, settings)
    return SiteSpider.from_crawler(crawler)


def followed(spider: SiteSpider, url: str, html: str, depth: int, hops: int) -> dict[str, tuple[int, int]]:
    links = extract_links(html, url)
    return {r.url: (r.meta["th_depth"], r.meta["th_hops"]) for r in spider._follow(url, links, depth, hops)}


def test_no_external_hops_stays_on_own_domains() -> None:
    spider = make_spider(max_depth=2)
    assert followed(spider, "http://www.hub.cn/", HUB, 0, 0) == {
        "http://www.hub.cn/list/2.html": (1, 0),
        "http://m.hub.cn/mobile": (1, 0),
    }


def test_one_hop_reaches_linked_sites_but_not_beyond() -> None:
    spider = make_spider(max_depth=3, follow_external_hops=1)
    assert followed(spider, "http://www.hub.cn/", HUB, 0, 0)["http://www.scalper-a.com/"] == (1, 1)
    scalper = '<a href="/price.html">p</a><a href="http://partner-b.net/">b</a><a href="http://www.hub.cn/">back</a>'
    assert followed(spider, "http://www.scalper-a.com/", scalper, 1, 1) == {
        "http://www.scalper-a.com/price.html": (2, 1),  # inside the foreign domain: depth, not hops
        "http://www.hub.cn/": (2, 0),  # back home resets the hops
    }


def test_max_depth_stops_following() -> None:
    spider = make_spider(max_depth=1, follow_external_hops=1)
    assert followed(spider, "http://www.hub.cn/list/2.html", HUB, 1, 0) == {}


def test_allowed_domains_define_home() -> None:
    spider = make_spider(allowed_domains=["scalper-a.com"], follow_external_hops=0)
    urls = followed(spider, "http://www.hub.cn/", HUB, 0, 0)
    assert "http://www.scalper-a.com/" in urls


def test_parse_emits_page_then_links_and_refuses_binary() -> None:
    spider = make_spider(max_depth=1)
    request = Request(
        "http://www.hub.cn/", meta={"th_depth": 0, "th_hops": 0, "th_referer": None, "th_url": "http://www.hub.cn/"}
    )
    body = ("<html><head><meta charset=gbk></head><body>专家号" + HUB + "</body></html>").encode("gbk")
    response = HtmlResponse("http://www.hub.cn/", body=body, request=request, headers={"Content-Type": "text/html"})
    out = list(spider.parse(response))
    assert isinstance(out[0], PageItem) and out[0].encoding == "gb18030" and "专家号" in out[0].html
    assert out[0].links == [
        "http://www.hub.cn/list/2.html", "http://www.scalper-a.com/", "http://m.hub.cn/mobile",
        "http://www.hub.cn/files/price.pdf",
    ]  # fmt: skip
    assert len(out) == 3
    png = HtmlResponse("http://www.hub.cn/", body=b"\x89PNG\r\n\x1a\n" + bytes(64), request=request)
    (failure,) = list(spider.parse(png))
    assert isinstance(failure, FailureItem) and failure.reason == "binary"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), "timeout"),
        (DNSLookupError(), "dns_error"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_disallowed"),
        (IgnoreRequest("max redirections reached"), "redirect_loop"),
        (CancelledError("Received 9 bytes which is larger than download max size (1) in request x."), "too_large"),
        (DownloadCancelledError("Expected to receive 9 bytes which is larger than download max size (1)"), "too_large"),
        (DownloadTimeoutError("Getting x took longer than 3.0 seconds."), "timeout"),
        (CannotResolveHostError("x"), "dns_error"),
        (DownloadConnectionRefusedError("x"), "connection_refused"),
    ],
)  # fmt: skip
def test_failure_reasons(exc: Exception, reason: str) -> None:
    assert failure_reason(Failure(exc))[0] == reason


def test_proxy_dns_failure_is_a_dns_error() -> None:
    response = HtmlResponse("http://dead.cn/", status=503, body=b"", headers={"X-Squid-Error": "ERR_DNS_FAIL 0"})
    assert failure_reason(Failure(HttpError(response, "x")))[0] == "dns_error"


def test_http_error_reason_carries_status() -> None:
    response = HtmlResponse("http://www.hub.cn/x", status=404, body=b"")
    assert failure_reason(Failure(HttpError(response, "Ignoring non-200 response"))) == ("http_404", "HTTP 404", 404)
