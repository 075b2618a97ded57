"""Rendering only when needed: which pages look script-built, and real crawls through the replay web in the
crawl's own child process with Debian's Chromium driven by Playwright (through the replay proxy): a page whose
contact only appears after JavaScript runs yields that contact and hit; images are not loaded; contexts are
recycled; a static crawl never starts the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.config import Config, load_config, parse_config
from crawler.rendering import render_policy
from crawler.runner import run_source
from crawler.settings import build_settings
from replayweb import ReplayWeb, load_ground_truth
from spiders.scriptbuilt import script_built_reason
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import CrawlRun, Page

LONG = "<p>" + "瀚州市人民医院门诊部每天上午八点开始放号，请通过官方渠道预约。" * 3 + "</p>"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (f"<body>{LONG}</body>", None),
        (f"<body>{LONG}<script src='/stat.js'></script></body>", None),
        ("<body><noscript>请开启JavaScript后访问本站</noscript><script src=/a.js></script></body>", "noscript"),
        ("<body><noscript>You need to enable JavaScript to run this app.</noscript><div id=root></div>"
         "<script src=/main.js></script></body>", "noscript"),
        (f"<body>{LONG}<script>document.write('<b>x</b>')</script></body>", "document_write"),
        ("<body><div id=app></div><script src=/app.js></script></body>", "empty_body"),
        (f"<body>{LONG}<div id=c></div><script>c.textContent='微信 abc_12345'</script></body>", "script_contact"),
        (f"<body>{LONG}<i id=c></i><script>c.innerHTML=['139','2817','4455'].join('')</script></body>",
         "script_contact"),
        (f"<body>{LONG}<span class=kefu-tel></span><script>el.append(x)</script></body>", "script_contact"),
        # a dead ad slot: the contact sits in a script that never writes it; rendering would not show it
        (f"<body>{LONG}<script>var ad={{tel:'13656781234'}}; el.setAttribute('data-ad', 1)</script></body>", None),
        # scripts that write into the page but have nothing to do with contacts
        (f"<body>{LONG}<div id=n></div><script>n.textContent = new Date().getFullYear()</script></body>", None),
        ("", None),
    ],
)  # fmt: skip
def test_script_built_reason(html: str, reason: str | None) -> None:
    assert script_built_reason(html) == reason


def test_policy_and_settings_follow_the_source(tmp_path: Path) -> None:
    source = {"name": "s", "start_urls": ["http://www.a.cn/"]}
    config = parse_config({"sources": [source, {**source, "name": "n", "render": "never"}]}, base_dir=tmp_path)
    auto, never = config.sources
    assert render_policy(config, auto) == "auto" and render_policy(config, never) == "never"
    rendering = build_settings(config, auto, run_id=None, log_file=None)
    assert rendering["DOWNLOAD_HANDLERS"]["http"].endswith("ScrapyPlaywrightDownloadHandler")
    assert rendering["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == "/usr/bin/chromium"
    assert rendering["TWISTED_REACTOR"].endswith("AsyncioSelectorReactor")
    static = build_settings(config, never, run_id=None, log_file=None)
    assert "DOWNLOAD_HANDLERS" not in static and "TOUTHUNT_RENDER" not in static  # Playwright is never loaded


def test_without_chromium_auto_crawls_statically_and_always_is_an_error(tmp_path: Path) -> None:
    from crawler.errors import ConfigError

    source = {"name": "s", "start_urls": ["http://www.a.cn/"]}
    config = parse_config(
        {"browser": {"executable_path": str(tmp_path / "no-chromium")}, "sources": [source, {**source, "name": "a",
         "render": "always"}, {"name": "w", "kind": "weibo", "selfmedia": {"queries": ["x"]}}]},
        base_dir=tmp_path,
    )  # fmt: skip
    auto, always, weibo = config.sources
    assert "DOWNLOAD_HANDLERS" not in build_settings(config, auto, run_id=None, log_file=None)
    with pytest.raises(ConfigError, match=r"browser\.executable_path"):
        build_settings(config, always, run_id=None, log_file=None)
    assert render_policy(config, weibo) == "never"


def crawl_config(tmp: Path, proxy: str, sources: list[dict[str, Any]], **browser: Any) -> Config:
    path = tmp / "config.yaml"
    data = {
        "database": {"url": "sqlite:///render.sqlite"},
        "network": {"proxy": proxy, "timeout_seconds": 10.0, "retries": 0, "download_delay_seconds": 0.0},
        "images": {"enabled": False},
        "evidence": {"enabled": False},  # evidence screenshots load images on purpose: not what is tested here
        "browser": {"settle_ms": 300, **browser},
        "sources": sources,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("render")
    sources = [
        {"name": "yuyue", "start_urls": ["http://m.hzyuyue-bang.com/"], "max_depth": 1},
        {"name": "static-auto", "start_urls": ["http://www.hzguahao-vip.com/lianxi.html"], "max_depth": 0},
    ]
    with ReplayWeb() as web:
        config = crawl_config(tmp, web.proxy_url, sources, pages_per_context=2)
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        web.clear_log()
        rendered = run_source(config, config.sources[0], sessions, show_progress=False)
        log = list(web.requests_log)
        static = run_source(config, config.sources[1], sessions, show_progress=False)
    yield {"sessions": sessions, "rendered": rendered, "static": static, "log": log}
    engine.dispose()


def test_contacts_written_by_scripts_are_found_after_rendering(crawled: Any) -> None:
    assert crawled["rendered"].status == "finished", crawled["rendered"]
    truth = {e.url: e for e in load_ground_truth() if e.render and e.host == "m.hzyuyue-bang.com"}
    assert len(truth) == 4
    with crawled["sessions"]() as s:
        pages = {p.url: p for p in s.scalars(select(Page))}
        for url, entry in truth.items():
            page = pages[url]
            assert page.hit is not None and page.hit.category == entry.category, (url, page.text)
            found: dict[str, list[str]] = {}
            for contact in page.contacts:
                if contact.kind in ("mobile", "wechat", "qq"):
                    found.setdefault(contact.kind, []).append(contact.value)
            want = {k: v for k, v in entry.contacts.as_dict().items() if v}
            assert {k: sorted(v) for k, v in found.items()} == want, url


def test_rendering_blocks_images_loads_scripts_and_recycles_contexts(crawled: Any) -> None:
    urls = [url for _method, url, _status in crawled["log"]]
    assert all("m.hzyuyue-bang.com" in url for url in urls), "the browser called somewhere else"
    assert "http://m.hzyuyue-bang.com/js/kf.js" in urls  # scripts run
    assert "http://m.hzyuyue-bang.com/img/ewm.png" not in urls  # the QR image was aborted in the browser
    with crawled["sessions"]() as s:
        run = s.get_one(CrawlRun, crawled["rendered"].run_id)
        health = dict(run.health)
    assert health["rendered_pages"] == 4
    assert health["render_because_script_contact"] == 1 and health["render_because_empty_body"] == 1
    assert health["render_because_document_write"] == 1 and health["render_because_noscript"] == 1
    assert health["render_aborted_image"] >= 1
    assert health["render_contexts_recycled"] >= 1  # 4 pages, 2 per context
    assert health["browser_launches"] == 1
    assert 0 < health["browser_peak_pss_mb"] < 1536 and health["browser_peak_rss_mb"] >= health["browser_peak_pss_mb"]


def test_a_static_page_does_not_start_the_browser(crawled: Any) -> None:
    summary = crawled["static"]
    assert summary.status == "finished" and summary.pages_stored == 1 and summary.hits_new == 1
    with crawled["sessions"]() as s:
        health = dict(s.get_one(CrawlRun, summary.run_id).health)
    assert "rendered_pages" not in health and not health.get("browser_launches")


def site_spider(render: dict[str, Any]) -> Any:
    from scrapy.utils.test import get_crawler

    from spiders.site import SiteSpider

    settings = {"TOUTHUNT_SOURCE": {"name": "s", "start_urls": ["http://www.a.cn/"]}, "TOUTHUNT_RENDER": render}
    return SiteSpider.from_crawler(get_crawler(SiteSpider, settings))


def static_response(url: str, html: str) -> Any:
    from scrapy.http import HtmlResponse, Request

    meta = {"th_depth": 0, "th_hops": 0, "th_referer": None, "th_url": url}
    request = Request(url, meta=meta)
    return HtmlResponse(url, body=html.encode(), request=request, headers={"Content-Type": "text/html; charset=utf-8"})


def test_auto_renders_only_script_built_pages_and_keeps_the_static_copy_if_rendering_fails() -> None:
    from scrapy.http import Request
    from twisted.python.failure import Failure

    from crawler.items import PageItem

    spider = site_spider({"policy": "auto", "max_pages": 1, "settle_ms": 0, "block_resources": ["image"]})
    plain_page = list(spider.parse(static_response("http://www.a.cn/", f"<body>{LONG}</body>")))
    assert [type(x) for x in plain_page] == [PageItem] and not plain_page[0].rendered
    built = "<body><div id=app></div><script src=/app.js></script><a href='/b'>b</a></body>"
    out = list(spider.parse(static_response("http://www.a.cn/app", built)))
    assert len(out) == 1 and isinstance(out[0], Request) and out[0].meta["playwright"] is True
    assert out[0].meta["th_render"] == "empty_body" and out[0].dont_filter
    # the run's rendering budget (1) is spent: the next script-built page keeps its static copy
    again = list(spider.parse(static_response("http://www.a.cn/app2", built)))
    assert isinstance(again[0], PageItem) and not again[0].rendered
    # rendering failed: the static copy is emitted, and its links are followed
    failure = Failure(RuntimeError("browser crashed"))
    failure.request = out[0]  # type: ignore[attr-defined]
    kept = list(spider.on_error(failure))
    assert (
        isinstance(kept[0], PageItem)
        and kept[0].url == "http://www.a.cn/app"
        and kept[0].links == ["http://www.a.cn/b"]
    )
    assert spider.crawler.stats.get_value("touthunt/health/render_failed") == 1


def test_always_sends_every_request_through_the_browser_and_never_fetches_statically() -> None:
    spider = site_spider({"policy": "always", "max_pages": 5, "settle_ms": 0})
    request = spider._request("http://www.a.cn/", depth=0, hops=0, referer=None)
    assert request.meta["playwright"] is True and request.meta["th_render"] == "always"
    never = site_spider({})
    assert "playwright" not in never._request("http://www.a.cn/", depth=0, hops=0, referer=None).meta


@pytest.mark.parametrize("screenshot", [False, True])
def test_images_are_aborted_unless_a_screenshot_is_wanted(screenshot: bool, tmp_path: Path) -> None:
    import asyncio

    from playwright.async_api import async_playwright
    from scrapy.http import Request

    from crawler.browser import launch_options
    from crawler.rendering import init_page

    async def visit(config: Config) -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**launch_options(config))
            page = await browser.new_page()
            meta = {"th_block": ("image", "font", "media"), "th_screenshot": screenshot}
            await init_page(page, Request("http://m.hzyuyue-bang.com/kefu.html", meta=meta))
            await page.goto("http://m.hzyuyue-bang.com/kefu.html")
            await browser.close()

    with ReplayWeb() as web:
        asyncio.run(visit(parse_config({"network": {"proxy": web.proxy_url}}, base_dir=tmp_path)))
        urls = [url for _method, url, _status in web.requests_log]
    assert "http://m.hzyuyue-bang.com/js/kf.js" in urls
    assert ("http://m.hzyuyue-bang.com/img/ewm.png" in urls) is screenshot
