"""Replay web: ground_truth.yaml agrees with the recorded pages.

Two independent re-derivations, so editing a page without updating the ground truth fails here:

* ``reached`` is recomputed by walking the link graph of ``demo_sources.yaml`` the way the site
  spider does (``<a>``/``<area>`` links, depth from each start URL, a hop per change of registrable
  domain outside the source's own domains, robots.txt obeyed, redirects followed on behalf of the
  linking URL, no links followed from error, binary, oversized or slow answers); a search source's
  result pages are read with the engines' parsers (tested on their own in tests/test_serp.py), their
  links resolved through 30x answers and the engines' jump pages, and each target walked from depth 0;
* ``contacts`` are recomputed by a small reference extractor over the visible text and the
  ``title``/``alt`` attributes, after undoing the evasions the pages use.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import yaml

from replayweb import Contacts, Route, Web, demo_sources_path, load_ground_truth, load_web
from replayweb.truth import path_and_query

# Scrapy's link extractor ignores these extensions; so does the spider.
_SKIPPED = (".png", ".jpg", ".jpeg", ".gif", ".css", ".js", ".pdf", ".zip", ".exe", ".apk")
_MULTI_LABEL_SUFFIXES = (".gov.cn", ".org.cn", ".com.cn", ".net.cn", ".edu.cn")
_TIMEOUT_S = 2.0  # the demo's crawler timeout; routes slower than this fail
_MAX_BYTES = 5 * 1024 * 1024


def registrable_domain(host: str) -> str:
    labels = host.split(".")
    keep = 3 if host.endswith(_MULTI_LABEL_SUFFIXES) else 2
    return ".".join(labels[-keep:])


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            self.hrefs.extend(v.strip() for k, v in attrs if k == "href" and v)


def _links(route: Route, base: str) -> list[str]:
    parser = _Anchors()
    parser.feed(route.body.decode(route.charset or "utf-8"))
    parser.close()
    out: dict[str, None] = {}
    for href in parser.hrefs:
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        url = urldefrag(urljoin(base, href)).url
        if url.startswith("http://") and not urlsplit(url).path.lower().endswith(_SKIPPED):
            out.setdefault(url, None)
    return list(out)


class _Fetcher:
    """Answers what the spider would get for a URL: (final URL, route) or None when nothing usable."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self._robots: dict[str, RobotFileParser] = {}

    def allowed(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if host not in self._robots:
            parser = RobotFileParser()
            site = self.web.site(host)
            route = site.lookup("/robots.txt") if site else None
            parser.parse(route.body.decode("utf-8").splitlines() if route and route.status == 200 else [])
            self._robots[host] = parser
        return self._robots[host].can_fetch("*", url)

    def fetch(self, url: str) -> tuple[list[str], Route | None]:
        """Return (URLs fetched, incl. redirect targets; the final page route if it yields links)."""
        chain = [url]
        for _ in range(6):
            site = self.web.site(urlsplit(url).hostname or "")
            if site is None:
                return chain, None
            route = site.lookup(path_and_query(url)) or site.not_found
            if route.redirect is None:
                usable = (
                    route.status == 200
                    and route.generate is None
                    and route.content_type == "text/html"
                    and route.delay < _TIMEOUT_S
                    and len(route.body) <= _MAX_BYTES
                )
                return chain, route if usable else None
            url = urljoin(url, route.redirect)
            if url in chain or not self.allowed(url):
                return chain, None
            chain.append(url)
        return chain, None


def search_seeds(fetcher: _Fetcher, source: dict) -> tuple[set[str], list[str]]:
    """A search source: (result and jump pages it fetches, the result targets it crawls from depth 0)."""
    from crawler.config import parse_config
    from crawler.queries import expand_queries
    from spiders.serp import ENGINES, engine_of_url, parse_serp

    config = parse_config({"sources": [source]})
    search = config.sources[0].search
    assert search is not None
    fetched: set[str] = set()
    targets: dict[str, None] = {}
    for query in expand_queries(search, config)[: search.max_queries]:
        for name in search.engines:
            url: str | None = ENGINES[name].search_url(query, 1, https=search.https)
            page = 1
            while url and page <= search.max_pages:
                fetched.add(url)
                chain, route = fetcher.fetch(url)
                if route is None:
                    break
                result = parse_serp(name, route.body.decode(route.charset or "utf-8"), chain[-1])
                for entry in result.entries[: search.max_results_per_page]:
                    follow = search.follow_ads if entry.is_ad else search.follow_organic
                    direct = entry.direct_url or ("" if engine_of_url(entry.href) else entry.href)
                    if follow and not direct:
                        direct = _resolve(fetcher, entry.href, search.max_redirect_hops, fetched)
                    if direct and follow:
                        targets.setdefault(direct, None)
                url, page = result.next_url, page + 1
    return fetched, list(targets)


def _resolve(fetcher: _Fetcher, link: str, max_jumps: int, fetched: set[str]) -> str:
    """Follow an engine link through 30x answers and jump pages; the first URL off the engine is the target."""
    from spiders.serp import engine_of_url, refresh_target

    url, jumps = link, 0
    while True:
        chain, route = fetcher.fetch(url)
        outside = [u for u in chain if engine_of_url(u) is None]
        if outside:
            return outside[0]
        if route is None:
            return ""
        fetched.add(chain[-1])  # a jump page on the engine
        target = refresh_target(route.body.decode(route.charset or "utf-8"), chain[-1])
        jumps += 1
        if not target or jumps > max_jumps:
            return ""
        url = target


def start_points(fetcher: _Fetcher, source: dict) -> tuple[set[str], list[str], set[str]]:
    """(URLs fetched before the walk, URLs the walk starts from at depth 0, the source's own domains)."""
    if source.get("kind", "site") == "search":
        fetched, targets = search_seeds(fetcher, source)
        own = {registrable_domain(d) for d in source.get("allowed_domains", [])}
        return fetched, targets, own
    own = {registrable_domain(urlsplit(u).hostname or "") for u in source["start_urls"]}
    return set(), list(source["start_urls"]), own


def crawl_first_visit(fetcher: _Fetcher, source: dict) -> set[str]:
    """BFS in link order with a URL-level seen set (what a crawler with a dupefilter does)."""
    before, starts, own = start_points(fetcher, source)
    queue = deque((url, 0, 0) for url in starts)
    seen = set(starts)
    reached: set[str] = set(before)
    while queue:
        url, depth, hops = queue.popleft()
        if source["obey_robots"] and not fetcher.allowed(url):
            continue
        reached.add(url)
        chain, route = fetcher.fetch(url)
        seen.update(chain)
        if route is None or depth >= source["max_depth"]:
            continue
        final = chain[-1]
        for link in _links(route, final):
            link_hops = _hops(final, link, hops, own)
            if link_hops > source["follow_external_hops"] or link in seen:
                continue
            seen.add(link)
            queue.append((link, depth + 1, link_hops))
    return reached


def crawl_all_paths(fetcher: _Fetcher, source: dict) -> set[str]:
    """Every URL reachable along ANY path within the limits (no dupefilter ordering effects)."""
    before, starts, own = start_points(fetcher, source)
    queue = deque((url, 0, 0) for url in starts)
    states = set(queue)
    reached: set[str] = set(before)
    while queue:
        url, depth, hops = queue.popleft()
        if source["obey_robots"] and not fetcher.allowed(url):
            continue
        reached.add(url)
        chain, route = fetcher.fetch(url)
        if route is None or depth >= source["max_depth"]:
            continue
        for link in _links(route, chain[-1]):
            state = (link, depth + 1, _hops(chain[-1], link, hops, own))
            if state[2] <= source["follow_external_hops"] and state not in states:
                states.add(state)
                queue.append(state)
    return reached


def _hops(page: str, link: str, hops: int, own: set[str]) -> int:
    domain = registrable_domain(urlsplit(link).hostname or "")
    if domain in own:
        return 0
    return hops + (domain != registrable_domain(urlsplit(page).hostname or ""))


@pytest.fixture(scope="module")
def web() -> Web:
    return load_web()


@pytest.fixture(scope="module")
def sources() -> list[dict]:
    return yaml.safe_load(demo_sources_path().read_text(encoding="utf-8"))["sources"]


def test_reached_matches_a_walk_of_the_demo_sources(web: Web, sources: list[dict]) -> None:
    fetcher = _Fetcher(web)
    reached: set[str] = set()
    for source in sources:
        reached |= crawl_first_visit(fetcher, source)
    truth = {e.url: e.reached for e in load_ground_truth()}
    assert {u for u, r in truth.items() if r} == reached & set(truth)
    assert reached <= set(truth), f"crawled URLs missing from ground truth: {sorted(reached - set(truth))}"


def test_reached_does_not_depend_on_crawl_order(web: Web, sources: list[dict]) -> None:
    """A page first met deep in the tree must not hide a shorter path: both walks agree."""
    fetcher = _Fetcher(web)
    for source in sources:
        assert crawl_first_visit(fetcher, source) == crawl_all_paths(fetcher, source), source["name"]


def test_no_page_links_back_into_another_sources_start_domain_from_outside(web: Web, sources: list[dict]) -> None:
    """Links from foreign pages back to a source's own domain would reset hops; the web avoids them."""
    fetcher = _Fetcher(web)
    for source in sources:
        own = start_points(fetcher, source)[2]
        for url in crawl_first_visit(fetcher, source):
            chain, route = fetcher.fetch(url)
            page_domain = registrable_domain(urlsplit(chain[-1]).hostname or "")
            if route is None or page_domain in own:
                continue
            back = [
                link for link in _links(route, chain[-1]) if registrable_domain(urlsplit(link).hostname or "") in own
            ]
            assert not back, f"{url} links back into {source['name']}: {back}"


# -- reference contact extractor -------------------------------------------------------------------

_SKIP_TAGS = {"script", "style", "template"}
_BLOCK_TAGS = re.compile(r"p|div|br|li|ul|ol|tr|t[dh]|table|hr|center|h[1-6]|title|section|article|header|footer|d[dt]")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u180e\ufeff]")
_SPOKEN = "幺一二两三四五六七拐八九勾零洞〇"
_SPOKEN_DIGITS = str.maketrans(_SPOKEN, "1122345677899000")
_SPOKEN_RUN = re.compile(f"[{_SPOKEN}](?:[ \\-]*[{_SPOKEN}]){{10,}}")
_MOBILE = re.compile(r"(?<!\d)1[3-9](?:[ \t\-.·_]*\d){9}(?!\d)")
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|徽信|V信|v信|vx|VX|wx|WX|加V|加v|\+V|➕V)\s*(?:号)?\s*[:：]?\s*([A-Za-z][A-Za-z0-9_-]{5,19})"
)
_QQ = re.compile(r"(?:QQ|qq|Q号|扣扣|企鹅)\s*(?:号)?\s*[:：]?\s*([1-9]\d{4,10})(?!\d)")


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        if _BLOCK_TAGS.fullmatch(tag):
            self.parts.append("\n")
        for name, value in attrs:
            if name in ("title", "alt") and value:
                self.parts.append(f"\n{value}\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skip:
            self._skip -= 1
        if _BLOCK_TAGS.fullmatch(tag):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def extract_contacts(html: str) -> Contacts:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", "".join(parser.parts)))
    text = _SPOKEN_RUN.sub(lambda m: m.group(0).translate(_SPOKEN_DIGITS), text)
    mobile = {re.sub(r"\D", "", m.group(0)) for m in _MOBILE.finditer(text)}
    wechat = {m.group(1).lower() for m in _WECHAT.finditer(text)}
    qq = {m.group(1) for m in _QQ.finditer(text)}
    return Contacts(mobile=tuple(sorted(mobile)), wechat=tuple(sorted(wechat)), qq=tuple(sorted(qq)))


def test_reference_extractor_undoes_the_evasions() -> None:
    html = (
        "<p>电话：①③⑨ ⑥②⑧⓪ ④⑦⑤①</p><p><span>138</span><span>2716</span>4093</p>"
        "<p>幺八六 幺五三七 二九零八</p><p>微\u200b信：AbC_123x</p><img alt='QQ 3360718845'>"
        "<script>var t='13656781234 微信：hidden_id'</script><!-- 13588002417 --><p>139****2817</p>"
    )
    assert extract_contacts(html) == Contacts(
        mobile=("13827164093", "13962804751", "18615372908"), wechat=("abc_123x",), qq=("3360718845",)
    )


def test_ground_truth_contacts_match_the_pages(web: Web) -> None:
    problems = []
    for entry in load_ground_truth():
        site = web.site(entry.host)
        if site is None:
            assert entry.contacts.is_empty()
            continue
        route = site.lookup(entry.path)
        assert route is not None
        if route.redirect is not None and entry.failure is None:
            route = site.lookup(route.redirect)
            assert route is not None
        if route.file is None or entry.failure is not None:
            assert entry.contacts.is_empty(), entry.url
            continue
        if entry.render:  # the contacts are written by scripts: tests/test_render.py checks them rendered
            continue
        found = extract_contacts(route.body.decode(route.charset or "utf-8"))
        if found != entry.contacts:
            problems.append(f"{entry.url}: page has {found.as_dict()}, truth says {entry.contacts.as_dict()}")
    assert not problems, "\n".join(problems)
