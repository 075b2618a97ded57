"""The ``weibo`` spider: posts from Weibo's mobile web search, a JSON endpoint of m.weibo.cn
(``/api/container/getIndex?containerid=100103type=1&q=...&page_type=searchall&page=N``).

The answer is ``{"ok": 1, "data": {"cardlistInfo": {"page": next page or null}, "cards": [...]}}``; a post is
a card of ``card_type`` 9 with an ``mblog`` (``id``, ``mid``, ``bid``, ``text`` as HTML, ``user``,
``isLongText``), also nested in the ``card_group`` of a ``card_type`` 11 card. A long post's full text comes
from ``/statuses/extend?id=...``. Each post becomes a page at ``/detail/<mid>`` with its stable address
``https://weibo.com/<uid>/<bid>``; no post page is fetched beyond the API (fewer requests to the platform).

Blocks: ``{"ok": -100, "url": ".../signin/..."}`` or a redirect to passport.weibo.cn is a login wall; a
redirect to a verification page or an HTML answer asking for a 验证码 is a captcha. ``{"ok": 0}`` means no
(more) results, not a block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy.http import Response

from spiders.platform import PlatformSpider, plain, post_html


def mblogs(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The posts of a search answer, nested card groups included, in answer order."""
    for card in (data.get("data") or {}).get("cards") or []:
        if not isinstance(card, dict):
            continue
        group = card.get("card_group") if card.get("card_type") == 11 else [card]
        for inner in group or []:
            if isinstance(inner, dict) and inner.get("card_type") == 9 and isinstance(inner.get("mblog"), dict):
                yield inner["mblog"]


def stable_post_url(mblog: dict[str, Any]) -> str:
    uid = str((mblog.get("user") or {}).get("id") or "")
    bid = str(mblog.get("bid") or "")
    if uid.isdigit() and bid.isalnum():
        return f"https://weibo.com/{uid}/{bid}"
    return f"https://m.weibo.cn/detail/{mblog.get('mid') or mblog.get('id')}"


class WeiboSpider(PlatformSpider):
    kind = "weibo"
    name = "weibo"

    def search_url(self, query: str, page: int) -> str:
        containerid = quote(f"100103type=1&q={query}", safe="")
        return f"{self.base_url}/api/container/getIndex?containerid={containerid}&page_type=searchall&page={page}"

    def block_state(self, response: Response, text: str) -> str | None:
        parts = urlsplit(response.url)
        if (parts.hostname and parts.hostname.startswith("passport.")) or "/signin" in parts.path:
            return "login_wall"
        if "captcha" in parts.path or "verify" in parts.path or ("验证码" in text and "<html" in text.lower()):
            return "captcha"
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and data.get("ok") == -100:
            return "login_wall"
        return None

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        try:
            data = json.loads(text)
        except ValueError:
            self.parser_failure(response.url, "the search endpoint answered something other than JSON")
            return
        if not isinstance(data, dict) or data.get("ok") != 1:
            self.crawler.stats.inc_value("touthunt/health/no_result_pages")  # ok 0: nothing (more) found
            return
        for mblog in mblogs(data):
            mid = str(mblog.get("mid") or mblog.get("id") or "")
            if not mid.isdigit():
                continue
            if mblog.get("isLongText"):
                request = self.post_request(
                    f"{self.base_url}/statuses/extend?id={mid}", self.parse_long_text, mblog=mblog, referer=response.url
                )
                if request is not None:
                    yield request
            elif self.take_post():
                yield self.post_item(response, mblog, str(mblog.get("text") or ""))
        info = (data.get("data") or {}).get("cardlistInfo") or {}
        yield from self.next_page(response, bool(info.get("page")))

    def parse_long_text(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text)
        mblog = response.meta["th_mblog"]
        try:
            long_text = str((json.loads(text).get("data") or {}).get("longTextContent") or "")
        except (ValueError, AttributeError):
            long_text = ""
        yield self.post_item(response, mblog, long_text or str(mblog.get("text") or ""))

    def post_item(self, response: Response, mblog: dict[str, Any], body_html: str) -> Any:
        mid = str(mblog.get("mid") or mblog.get("id"))
        user = mblog.get("user") or {}
        author = str(user.get("screen_name") or "")
        url = f"{self.base_url}/detail/{mid}"
        title = f"{author}的微博：{plain(body_html)[:40]}"
        page = post_html(title, author, body_html, url=url, published=str(mblog.get("created_at") or ""))
        return self.page_item(response, page, url=url, stable_url=stable_post_url(mblog))
