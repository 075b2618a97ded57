"""Search-engine result pages: the query URL of each engine, a parser per engine that separates organic
results from ads, and the decoding of the engines' redirect links. Pure functions over HTML text; no
Scrapy, no network (``spiders/search.py`` does the fetching).

Engines and the markup each parser expects (the structure the engines have served for years; when it
changes, a page that is neither a result page, a "no results" page nor a captcha is a ``parser_failure``):

* ``baidu`` (www.baidu.com/s?wd=): ``#content_left`` holds ``div.c-container`` blocks; the title link is
  ``h3 a`` to ``www.baidu.com/link?url=...`` (answered by a 302), the real URL is often in the block's
  ``mu`` attribute; ads are blocks marked ``EC_result``/``data-tuiguang`` or labelled 广告, linking to
  ``www.baidu.com/baidu.php?url=...``; "no results" is ``div.nors``; next page ``#page a.n`` (下一页).
* ``sogou`` (www.sogou.com/web?query=): ``div.results > div.vrwrap`` (older ``div.rb``), title ``h3 a`` to a
  relative ``/link?url=...`` jump page that refreshes to the target (meta refresh and
  ``window.location.replace``); ads in ``#promotion_adv_container`` / ``div.sponsored``; "no results"
  ``#noresult_part1_container``; next page ``a#sogou_next``.
* ``bing`` (cn.bing.com/search?q=): ``ol#b_results > li.b_algo``, title ``h2 a`` to ``bing.com/ck/a?...&u=a1``
  + URL-safe base64 of the target (decoded here); ads ``li.b_ad`` (label ``.b_adSlug``); "no results"
  ``li.b_no``; next page ``a.sb_pagN``.
* ``so`` (360 Search, www.so.com/s?q=): ``ul.result > li.res-list``, title ``h3.res-title a`` to
  ``www.so.com/link?m=...`` with the target in ``data-mdurl``; ads in ``#e_idea_pp`` /
  ``#e_idea_pp_vip_bottom``; "no results" ``#no-result``; next page ``a#snext``.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, quote, urljoin, urlsplit

from parsel import Selector

MAX_TEXT = 500  # characters kept of a title or snippet (crawled text is hostile: bound it)
MAX_URL = 2048

SerpState = Literal["results", "no_results", "captcha", "parser_failure"]


@dataclass(frozen=True)
class SerpEntry:
    """One result on a result page. ``href`` is the link as the engine wrote it (usually its redirect
    link); ``direct_url`` the target when the engine states it or it can be decoded without a fetch."""

    rank: int  # 1-based position among the page's results of the same kind (ads and organic counted apart)
    is_ad: bool
    title: str
    snippet: str
    display_url: str
    href: str
    direct_url: str = ""


@dataclass(frozen=True)
class SerpPage:
    engine: str
    state: SerpState
    entries: list[SerpEntry] = field(default_factory=list)
    next_url: str | None = None
    detail: str = ""

    @property
    def organic(self) -> list[SerpEntry]:
        return [e for e in self.entries if not e.is_ad]

    @property
    def ads(self) -> list[SerpEntry]:
        return [e for e in self.entries if e.is_ad]


@dataclass(frozen=True)
class Engine:
    name: str
    host: str
    label: str  # Chinese name for analysts

    def search_url(self, query: str, page: int, *, https: bool = True) -> str:
        """URL of result page ``page`` (1-based) for ``query``; one spelling per page, so runs compare."""
        scheme = "https" if https else "http"
        q = quote(query, safe="")
        if self.name == "baidu":
            return f"{scheme}://{self.host}/s?wd={q}&pn={(page - 1) * 10}"
        if self.name == "sogou":
            return f"{scheme}://{self.host}/web?query={q}&page={page}"
        if self.name == "bing":
            return f"{scheme}://{self.host}/search?q={q}&first={(page - 1) * 10 + 1}"
        return f"{scheme}://{self.host}/s?q={q}&pn={page}"

    def owns(self, url: str) -> bool:
        """True for URLs on the engine's own hosts (result pages, redirect and jump links)."""
        host = (urlsplit(url).hostname or "").lower()
        return host == self.host or host.endswith(_ENGINE_DOMAINS[self.name])


_ENGINE_DOMAINS = {"baidu": "baidu.com", "sogou": "sogou.com", "bing": "bing.com", "so": "so.com"}
ENGINES: dict[str, Engine] = {
    "baidu": Engine("baidu", "www.baidu.com", "百度"),
    "sogou": Engine("sogou", "www.sogou.com", "搜狗"),
    "bing": Engine("bing", "cn.bing.com", "必应"),
    "so": Engine("so", "www.so.com", "360搜索"),
}


def engine_of_url(url: str) -> Engine | None:
    for engine in ENGINES.values():
        if engine.owns(url):
            return engine
    return None


# Text helpers --------------------------------------------------------------------------------------------


def _text(node: Selector | None) -> str:
    if node is None:
        return ""
    text = "".join(node.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall())
    return re.sub(r"\s+", " ", text).strip()[:MAX_TEXT]


def _first(node: Selector, *css: str) -> Selector | None:
    for query in css:
        found = node.css(query)
        if found:
            return found[0]
    return None


def _url(value: str | None, base: str) -> str:
    value = (value or "").strip()
    if not value or value.startswith(("javascript:", "#")):
        return ""
    url = urljoin(base, html_lib.unescape(value))
    return url[:MAX_URL] if url.startswith(("http://", "https://")) else ""


def _page_text(sel: Selector) -> str:
    return _text(sel.css("body") or sel)


# Redirect links -----------------------------------------------------------------------------------------


def decode_bing_link(url: str) -> str:
    """Target of a Bing ``/ck/a`` or ``/aclk`` link: the ``u`` parameter is ``a1`` + URL-safe base64 of the
    target. Empty when the link carries no decodable target."""
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith("bing.com"):
        return ""
    values = parse_qs(parts.query).get("u", [])
    if not values or not values[0].startswith("a1"):
        return ""
    encoded = values[0][2:]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        target = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return ""
    return target[:MAX_URL] if target.startswith(("http://", "https://")) else ""


_META_REFRESH = re.compile(r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*>""", re.IGNORECASE)
_REFRESH_URL = re.compile(r"""url\s*=\s*['"]?([^'">\s]+)""", re.IGNORECASE)
_JS_LOCATION = re.compile(
    r"""(?:window\.|document\.|top\.)?location(?:\.href)?(?:\.replace\(|\s*=\s*)\s*["']([^"']+)["']"""
)


def refresh_target(html: str, base_url: str) -> str:
    """Where a jump page sends the browser: a ``<meta http-equiv=refresh>`` URL, else a
    ``location.replace("...")`` / ``location.href = "..."`` in a script. Empty when it does neither."""
    head = html[:20000]
    for tag in _META_REFRESH.findall(head):
        content = re.search(r"""content\s*=\s*(["'])(.*?)\1""", tag, re.IGNORECASE | re.DOTALL)
        if content:
            found = _REFRESH_URL.search(content.group(2))
            if found:
                return _url(found.group(1), base_url)
    found = _JS_LOCATION.search(head)
    return _url(found.group(1), base_url) if found else ""


# Parsers ------------------------------------------------------------------------------------------------

_CAPTCHA_CUES = (
    "百度安全验证",
    "wappass.baidu.com",
    "antispider",
    "检测到您网络中存在异常访问",
    "qcaptcha",
    "b_captcha",
    "请输入验证码",
)


def _captcha(html: str) -> bool:
    head = html[:30000]
    return any(cue in head for cue in _CAPTCHA_CUES)


def _entries(blocks: list[tuple[Selector, bool]], base: str, title_css: tuple[str, ...], snippet_css: tuple[str, ...],
             display_css: tuple[str, ...], direct_attr: tuple[str, ...] = ()) -> list[SerpEntry]:  # fmt: skip
    entries: list[SerpEntry] = []
    ranks = {True: 0, False: 0}
    for block, is_ad in blocks:
        link = _first(block, *title_css)
        if link is None:
            continue
        href = _url(link.attrib.get("href"), base)
        if not href:
            continue
        direct = ""
        for attr in direct_attr:
            direct = _url(block.attrib.get(attr) or link.attrib.get(attr), base)
            if direct:
                break
        if not direct:
            direct = decode_bing_link(href)
        ranks[is_ad] += 1
        display = _first(block, *display_css)
        entries.append(
            SerpEntry(
                rank=ranks[is_ad],
                is_ad=is_ad,
                title=_text(link),
                snippet=_text(_first(block, *snippet_css)),
                display_url=_text(display)[:300],
                href=href,
                direct_url=direct,
            )
        )
    return entries


def _next(sel: Selector, base: str, css: str, text: str | None = None) -> str | None:
    for link in sel.css(css):
        if text is None or text in _text(link):
            url = _url(link.attrib.get("href"), base)
            if url:
                return url
    return None


def _finish(engine: str, sel: Selector, html: str, entries: list[SerpEntry], next_url: str | None,
            no_results: bool) -> SerpPage:  # fmt: skip
    if entries:
        return SerpPage(engine, "results", entries, next_url)
    if _captcha(html):
        return SerpPage(engine, "captcha", detail="the engine answered with a captcha / security check")
    if no_results:
        return SerpPage(engine, "no_results", detail="the engine says nothing matches the query")
    title = _text(sel.css("title")) or "(no title)"
    return SerpPage(
        engine,
        "parser_failure",
        detail=f"no result blocks found on a page that is not a no-results page (markup changed?); title {title!r}",
    )


def _is_baidu_ad(block: Selector) -> bool:
    cls = block.attrib.get("class", "")
    if "EC_result" in cls or "ec_wise_ad" in cls or block.attrib.get("data-tuiguang"):
        return True
    return bool(block.xpath(".//*[contains(@class, 'tuiguang') or normalize-space(text())='广告']"))


def parse_baidu(html: str, url: str) -> SerpPage:
    sel = Selector(text=html)
    blocks = [
        (b, _is_baidu_ad(b))
        for b in sel.css("#content_left > div")
        if "c-container" in b.attrib.get("class", "") or _is_baidu_ad(b)
    ]
    entries = _entries(
        blocks,
        url,
        ("h3 a", "a.c-title"),
        (".c-abstract", "[class*='content-right']", ".c-span-last", ".ec_desc"),
        (".c-showurl", ".c-color-gray", ".ec_url"),
        ("mu",),
    )
    no_results = bool(sel.css("div.nors")) or "抱歉没有找到" in _page_text(sel)
    return _finish("baidu", sel, html, entries, _next(sel, url, "#page a.n", "下一页"), no_results)


def parse_sogou(html: str, url: str) -> SerpPage:
    sel = Selector(text=html)
    blocks = [(b, False) for b in sel.css("div.results > div.vrwrap, div.results > div.rb")]
    ads = sel.css("#promotion_adv_container .biz_rb, div.sponsored .biz_rb, div.sponsored > div")
    blocks = [(b, True) for b in ads] + blocks
    entries = _entries(
        blocks,
        url,
        ("h3 a",),
        (".space-txt", ".str-text-info", ".str_info", ".ft", ".biz_desc"),
        ("cite", ".citeurl", ".biz_url"),
        ("data-url",),
    )
    no_results = bool(sel.css("#noresult_part1_container, .no-result"))
    return _finish("sogou", sel, html, entries, _next(sel, url, "a#sogou_next"), no_results)


def parse_bing(html: str, url: str) -> SerpPage:
    sel = Selector(text=html)
    blocks: list[tuple[Selector, bool]] = []
    for item in sel.css("ol#b_results > li"):
        cls = item.attrib.get("class", "")
        if "b_algo" in cls:
            blocks.append((item, False))
        elif "b_ad" in cls:
            blocks.extend((ad, True) for ad in item.css("ul > li"))
    entries = _entries(
        blocks,
        url,
        ("h2 a",),
        (".b_caption p", "p.b_lineclamp2", ".b_algoSlug", ".b_vlist2col"),
        ("cite",),
    )
    no_results = bool(sel.css("li.b_no"))
    return _finish("bing", sel, html, entries, _next(sel, url, "a.sb_pagN"), no_results)


def parse_so(html: str, url: str) -> SerpPage:
    sel = Selector(text=html)
    ads = sel.css("#e_idea_pp li, #e_idea_pp_vip_bottom li")
    blocks = [(b, True) for b in ads] + [(b, False) for b in sel.css("ul.result > li.res-list")]
    entries = _entries(
        blocks,
        url,
        ("h3.res-title a", "h3 a"),
        ("p.res-desc", ".res-rich", ".res-comm-con", ".e_idea_desc"),
        ("p.g-linkinfo cite", "cite"),
        ("data-mdurl", "data-url"),
    )
    no_results = bool(sel.css("#no-result, .no-result"))
    return _finish("so", sel, html, entries, _next(sel, url, "a#snext"), no_results)


PARSERS = {"baidu": parse_baidu, "sogou": parse_sogou, "bing": parse_bing, "so": parse_so}


def parse_serp(engine: str, html: str, url: str) -> SerpPage:
    """Parse one result page of ``engine``; never raises on hostile markup (a parser failure instead)."""
    try:
        return PARSERS[engine](html, url)
    except ValueError as exc:  # lxml refuses some inputs (e.g. control characters in the document)
        return SerpPage(engine, "parser_failure", detail=f"unparsable page: {exc}")
