"""The ``xiaohongshu`` spider: notes found by Xiaohongshu's web search, in the browser (the page builds its
results and notes with scripts from its ``window.__INITIAL_STATE__``).

The rendered search page (``/search_result?keyword=...``) holds ``section.note-item`` cards whose links go
to ``/explore/<note_id>?xsec_token=...``; the token is temporary, ``https://www.xiaohongshu.com/explore/<id>``
is the stable address. Only the first screen of results is read (the list scrolls without end; no scrolling
is done), so ``selfmedia.max_pages`` does not apply.

Blocks: the login panel ("登录后查看搜索结果") instead of results is a login wall; a redirect to
``/website-login/captcha`` or a "请通过验证" page is a captcha.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from scrapy.http import Response

from spiders.extract import parse_html
from spiders.platform import PlatformSpider

_NOTE = re.compile(r"/(?:explore|discovery/item|search_result)/([0-9a-f]{24})")
STABLE_BASE = "https://www.xiaohongshu.com/explore/"


class XiaohongshuSpider(PlatformSpider):
    kind = "xiaohongshu"
    name = "xiaohongshu"
    browser = True

    def search_url(self, query: str, page: int) -> str:
        return f"{self.base_url}/search_result?keyword={quote(query)}&source=web_search_result_notes"

    def block_state(self, response: Response, text: str) -> str | None:
        if urlsplit(response.url).path.startswith("/website-login/captcha") or "请通过验证" in text:
            return "captcha"
        if "note-item" not in text and ("login-container" in text or "登录后查看" in text):
            return "login_wall"
        return None

    def parse_results(self, response: Response, text: str) -> Iterator[Any]:
        root = parse_html(text)
        hrefs = root.xpath("//section[contains(@class, 'note-item')]//a/@href") if root is not None else []
        seen: set[str] = set()
        for href in hrefs:
            match = _NOTE.search(href)
            if not match or match.group(1) in seen:
                continue
            seen.add(match.group(1))
            url = urljoin(response.url, href)
            request = self.post_request(url, self.parse_note, note=match.group(1), referer=response.url)
            if request is not None:
                yield request
        if not seen:
            self.no_results(response, text)

    def parse_note(self, response: Response) -> Iterator[Any]:
        text = self.decoded(response)
        self.check(response, text)
        yield self.page_item(response, text, stable_url=STABLE_BASE + response.meta["th_note"])
