"""The ``tieba`` spider: threads found by Baidu Tieba's search (``tieba.baidu.com/f/search/res?qw=...``).

Result pages hold ``div.s_post`` entries: the title link ``span.p_title a`` (``data-tid``, ``/p/<tid>?pid=..``),
a snippet ``div.p_content``, the forum ``a.p_forum`` and the date ``font.p_date``; ``a.next`` leads on. Each
thread is fetched at its stable address ``/p/<tid>``.

Blocks: a redirect to Baidu's security check (wappass.baidu.com, "百度安全验证") is a captcha; a redirect to
passport.baidu.com is a login wall.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy.http import Response

from spiders.extract import parse_html
from spiders.platform import PlatformSpider

_TID = re.compile(r"/p/(\d{5,20})")
STABLE_BASE = "https://tieba.baidu.com/p/"


class TiebaSpider(PlatformSpider):
    kind = "tieba"
    name = "tieba"

    def search_url(self, query: str, page: int) -> str:
        return f"{self.base_url}/f/search/res?ie=utf-8&qw={quote(query)}&rn=20&pn={page}&sm=1&only_thread=1"

    def block_state(self, response: Response, text: str) -> str | None:
        parts = urlsplit(response.url)
        host = parts.hostname or ""
        if host.startswith("wappass.") or "/captcha" in parts.path or "百度安全验证" in text:
            return "captcha"
        if host.startswith("passport."):
            return "login_wall"
        return None

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        root = parse_html(text)
        posts = root.xpath("//div[@class='s_post']") if root is not None else []
        if not posts:
            self.no_results(response, text)
        for post in posts:
            links = post.xpath(".//span[@class='p_title']/a")
            if not links:
                continue
            tid = links[0].get("data-tid") or ""
            if not tid.isdigit():
                match = _TID.search(links[0].get("href") or "")
                tid = match.group(1) if match else ""
            if not tid:
                continue
            request = self.post_request(f"{self.base_url}/p/{tid}", self.parse_thread, tid=tid, referer=response.url)
            if request is not None:
                yield request
        has_next = root is not None and bool(root.xpath("//a[contains(concat(' ', @class, ' '), ' next ')]"))
        yield from self.next_page(response, has_next)

    def parse_thread(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text)
        yield self.page_item(response, text, stable_url=STABLE_BASE + response.meta["th_tid"])
