"""The ``wechat`` spider: WeChat public-account articles found through Sogou's WeChat search
(``weixin.sogou.com/weixin?type=2&query=...``).

Result pages list articles as ``ul.news-list > li`` with the title link in ``div.txt-box h3 a``. The link is
either a temporary article address on mp.weixin.qq.com (``/s?src=11&timestamp=...&signature=...``) or Sogou's
``/link?url=...`` page, whose script assembles that address in pieces (``url += '...'``): the pieces are read,
not executed. Temporary links expire; the article's stable address (``/s?__biz=..&mid=..&idx=..&sn=..``) is
read from the article (``og:url``, ``msg_link`` or its ``biz``/``mid``/``idx``/``sn`` variables) and stored
beside the temporary one.

Blocks: Sogou's anti-spider page (``/antispider/``, an image code) and WeChat's "环境异常" verification are
captchas; Sogou's "登录后查看更多" page is a login wall. An expired temporary link fails as ``link_expired``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

from scrapy.http import Response

from spiders.extract import parse_html
from spiders.platform import PlatformSpider

STABLE_BASE = "https://mp.weixin.qq.com/s"
_PIECE = re.compile(r"url\s*\+=\s*'([^']*)'")
_VAR = re.compile(r"var\s+(biz|mid|idx|sn)\s*=\s*\"([^\"]*)\"\s*\|\|\s*\"([^\"]*)\"")
_MSG_LINK = re.compile(r"var\s+msg_link\s*=\s*\"([^\"]+)\"")


def stable_article_url(page_html: str) -> str:
    """``https://mp.weixin.qq.com/s?__biz=..&mid=..&idx=..&sn=..`` of an article page, or "" if absent."""
    root = parse_html(page_html)
    candidates: list[str] = []
    if root is not None:
        candidates += root.xpath("//meta[@property='og:url']/@content")
    candidates += [html.unescape(m) for m in _MSG_LINK.findall(page_html)]
    for candidate in candidates:
        query = parse_qs(urlsplit(candidate).query)
        parts = {key: query.get(key, [""])[0] for key in ("__biz", "mid", "idx", "sn")}
        if all(parts.values()):
            return STABLE_BASE + "?" + "&".join(f"{k}={quote(v, safe='=')}" for k, v in parts.items())
    found = {name: first or second for name, first, second in _VAR.findall(page_html)}
    if all(found.get(k) for k in ("biz", "mid", "idx", "sn")):
        return f"{STABLE_BASE}?__biz={found['biz']}&mid={found['mid']}&idx={found['idx']}&sn={found['sn']}"
    return ""


def link_target(page_html: str) -> str:
    """The article address Sogou's ``/link?url=`` page assembles in its script ("" if none)."""
    url = "".join(_PIECE.findall(page_html)).replace("@", "")
    return url if url.startswith(("http://", "https://")) else ""


class WechatSpider(PlatformSpider):
    kind = "wechat"
    name = "wechat"

    def search_url(self, query: str, page: int) -> str:
        return f"{self.base_url}/weixin?type=2&query={quote(query)}&ie=utf8&page={page}"

    def block_state(self, response: Response, text: str) -> str | None:
        path = urlsplit(response.url).path
        if path.startswith("/antispider") or "seccodeImage" in text or ("环境异常" in text and "完成验证" in text):
            return "captcha"
        if "news-list" not in text and ("登录后查看更多" in text or "请登录后" in text) and "js_content" not in text:
            return "login_wall"
        return None

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        root = parse_html(text)
        items = root.xpath("//ul[contains(@class, 'news-list')]/li") if root is not None else []
        if not items:
            self.no_results(response, text)
        for li in items:
            hrefs = li.xpath(".//div[contains(@class, 'txt-box')]/h3/a/@href")
            if not hrefs:
                continue
            url = urljoin(response.url, hrefs[0].strip())
            meta = {"referer": response.url, "query": response.meta["th_query"]}
            if urlsplit(url).path == "/link":
                request = self.request(url, self.parse_link, **meta)  # a hop, not a post
            else:
                request = self.post_request(url, self.parse_article, **meta)
            if request is not None:
                yield request
        has_next = root is not None and bool(root.xpath("//a[@id='sogou_next']"))
        yield from self.next_page(response, has_next)

    def parse_link(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text, blank_is_fine=True)  # the page is only a script
        target = link_target(text)
        if not target:
            yield self.failure(response.url, "link_unreadable", "Sogou's link page assembles no article address")
            return
        request = self.post_request(
            target, self.parse_article, referer=response.meta.get("th_referer"), query=response.meta["th_query"]
        )
        if request is not None:
            yield request

    def parse_article(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text)
        if "js_content" not in text and ("链接已过期" in text or "已过期" in text):
            yield self.failure(response.url, "link_expired", "the temporary article link has expired")
            return
        stable = stable_article_url(text)
        if not stable:
            self.crawler.stats.inc_value("touthunt/health/articles_without_stable_url")
        yield self.page_item(response, text, stable_url=stable)
