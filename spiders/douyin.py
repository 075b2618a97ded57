"""The ``douyin`` spider: videos found by Douyin's web search, in the browser (the page builds its results
from the URL-encoded JSON of its ``<script id="RENDER_DATA">``).

The rendered search page (``/search/<query>?type=general``) links videos as ``/video/<aweme_id>``, which is
also their stable address (``https://www.douyin.com/video/<id>``); each video page is rendered for its
description and author. Only the first screen of results is read (no scrolling).

Blocks: the "验证码中间页" (``#captcha_container``) is a captcha; the login panel ("登录后即可查看") instead of
results is a login wall.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from scrapy.http import Response

from spiders.extract import parse_html
from spiders.platform import PlatformSpider

_VIDEO = re.compile(r"/video/(\d{8,25})")
STABLE_BASE = "https://www.douyin.com/video/"


class DouyinSpider(PlatformSpider):
    kind = "douyin"
    name = "douyin"
    browser = True

    def search_url(self, query: str, page: int) -> str:
        return f"{self.base_url}/search/{quote(query)}?type=general"

    def block_state(self, response: Response, text: str) -> str | None:
        if "验证码中间页" in text or "captcha_container" in text:
            return "captcha"
        if "/video/" not in text and ("login-panel" in text or "登录后即可查看" in text):
            return "login_wall"
        return None

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        root = parse_html(text)
        hrefs = root.xpath("//a/@href") if root is not None else []
        seen: list[str] = []
        for href in hrefs:
            match = _VIDEO.search(href)
            if match and match.group(1) not in seen:
                seen.append(match.group(1))
        if not seen:
            self.no_results(response, text)
        for aweme_id in seen:
            request = self.post_request(
                f"{self.base_url}/video/{aweme_id}", self.parse_video, video=aweme_id, referer=response.url
            )
            if request is not None:
                yield request

    def parse_video(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text)
        yield self.page_item(response, text, stable_url=STABLE_BASE + response.meta["th_video"])
