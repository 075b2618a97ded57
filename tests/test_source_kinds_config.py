"""Config of the search and classifieds source kinds (per-kind blocks, validated per kind, errors naming the
key) and of politeness: proxy rotation, retry back-off, AutoThrottle, robots recorded, honest user agent."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.http import Request

from crawler.backoff import backoff_delay
from crawler.config import DEFAULT_USER_AGENT, parse_config
from crawler.errors import ConfigError
from crawler.proxy import ProxyMiddleware
from crawler.settings import build_settings

SEARCH = {"name": "s", "kind": "search", "search": {"queries": ["瀚州 代挂号"]}}
CLASSIFIEDS = {
    "name": "c",
    "kind": "classifieds",
    "start_urls": ["http://hz.example.cn/list/"],
    "classifieds": {"list_item_selector": "ul.list > li"},
}


def test_search_and_classifieds_sources_validate_with_defaults() -> None:
    config = parse_config({"sources": [SEARCH, CLASSIFIEDS]})
    search, classifieds = config.sources
    assert search.search is not None and search.search.engines == ("baidu", "sogou", "bing", "so")
    assert search.search.max_pages == 2 and search.search.https is True and search.start_urls == ()
    assert classifieds.classifieds is not None and classifieds.classifieds.selector_type == "css"
    assert classifieds.classifieds.detail_link_selector == "a::attr(href)"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"name": "s", "kind": "search"}, "sources[0].search: a source of kind search needs a `search:` block"),
        (
            {**SEARCH, "start_urls": ["http://x.cn/"]},
            "sources[0].start_urls: ['http://x.cn/'] is not allowed: a search",
        ),
        ({**SEARCH, "search": {}}, "sources[0].search: {} is not allowed: give `queries` or `query_sets`"),
        ({**SEARCH, "search": {"queries": ["x"], "engines": ["google"]}}, "sources[0].search.engines[0]: 'google'"),
        ({**SEARCH, "search": {"queries": ["x"], "max_pages": 0}}, "sources[0].search.max_pages: 0 is not allowed"),
        ({**CLASSIFIEDS, "search": {"queries": ["x"]}}, "sources[0].search: {'queries': ['x']} is not allowed: only"),
        ({**CLASSIFIEDS, "classifieds": {}}, "sources[0].classifieds.list_item_selector: required key is missing"),
        ({**CLASSIFIEDS, "classifieds": {"list_item_selector": "ul >> li["}}, "is not a valid css selector"),
        (
            {**CLASSIFIEDS, "classifieds": {"list_item_selector": "//li[", "selector_type": "xpath"}},
            "is not a valid xpath selector",
        ),
        (
            {**CLASSIFIEDS, "classifieds": {"list_item_selector": "li", "calendar_pattern": "(2026"}},
            "sources[0].classifieds.calendar_pattern: '(2026' is not allowed: not a regular expression",
        ),
        ({"name": "x", "kind": "forum", "start_urls": ["http://x.cn/"]}, "sources[0].kind: 'forum' is not allowed"),
    ],
)
def test_kind_errors_name_the_key(source: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"sources": [source]})
    assert message in str(info.value)


def test_calendar_pattern_matches_dates_not_ids() -> None:
    import re

    config = parse_config({"sources": [CLASSIFIEDS]})
    assert config.sources[0].classifieds is not None
    pattern = re.compile(config.sources[0].classifieds.calendar_pattern)
    for url in ("/rili/2026-11-22.html", "/archive/202611/", "/list?date=2026-11-22", "/cal/2026/11/22/"):
        assert pattern.search(url), url
    for url in ("/jiankang/52817340x.shtml", "/thread-10231-1-1.html", "/post/20231105123.html", "/p/2026"):
        assert not pattern.search(url), url


def test_proxies_rotate_and_the_single_proxy_still_works() -> None:
    config = parse_config({"network": {"proxies": ["http://10.0.0.1:3128", "http://10.0.0.2:3128"]}})
    assert config.network.proxy_list == ("http://10.0.0.1:3128", "http://10.0.0.2:3128")
    middleware = ProxyMiddleware(list(config.network.proxy_list))
    seen = []
    for n in range(4):
        request = Request(f"http://x.cn/{n}")
        middleware.process_request(request)
        seen.append(request.meta["proxy"])
    assert seen == ["http://10.0.0.1:3128", "http://10.0.0.2:3128"] * 2
    kept = Request("http://x.cn/retry", meta={"proxy": "http://10.0.0.2:3128"})
    middleware.process_request(kept)
    assert kept.meta["proxy"] == "http://10.0.0.2:3128"  # a retry keeps its proxy
    assert parse_config({"network": {"proxy": "http://p:1"}}).network.proxy_list == ("http://p:1",)
    with pytest.raises(ConfigError, match=r"network.proxies: .*'socks5://x:1' must start with http"):
        parse_config({"network": {"proxies": ["socks5://x:1"]}})


def test_backoff_doubles_up_to_the_ceiling() -> None:
    assert [backoff_delay(n, 2.0, 10.0) for n in (0, 1, 2, 3, 4)] == [0.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff_delay(3, 0.0, 10.0) == 0.0


def test_settings_carry_politeness_and_identity(write_config: Any) -> None:
    config = write_config(
        {
            "network": {"proxies": ["http://10.0.0.1:3128"], "autothrottle_max_delay_seconds": 12, "retries": 3},
            "sources": [{**SEARCH, "obey_robots": False}],
        }
    )
    settings = build_settings(config, config.sources[0], run_id=None, log_file=None)
    assert settings["AUTOTHROTTLE_ENABLED"] is True and settings["AUTOTHROTTLE_MAX_DELAY"] == 12
    assert settings["AUTOTHROTTLE_TARGET_CONCURRENCY"] == 1.0
    assert settings["TOUTHUNT_PROXIES"] == ["http://10.0.0.1:3128"] and settings["RETRY_TIMES"] == 3
    assert settings["TOUTHUNT_RETRY_BACKOFF"] == 2.0
    assert settings["DOWNLOADER_MIDDLEWARES"]["crawler.backoff.BackoffRetryMiddleware"] == 550
    assert settings["DOWNLOADER_MIDDLEWARES"]["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert settings["ROBOTSTXT_OBEY"] is False and settings["TOUTHUNT_QUERIES"] == ["瀚州 代挂号"]
    assert "touthunt" in settings["USER_AGENT"] and settings["USER_AGENT"] == DEFAULT_USER_AGENT
    custom = write_config({"network": {"user_agent": "MyInstitute-Monitor/1.0"}, "sources": [SEARCH]})
    assert build_settings(custom, custom.sources[0], run_id=None, log_file=None)["USER_AGENT"] == (
        "MyInstitute-Monitor/1.0"
    )


def test_a_server_error_is_retried_after_a_back_off(tmp_path: Any) -> None:
    import yaml

    from crawler.config import load_config, with_changes
    from crawler.runner import run_source
    from replayweb import ReplayWeb
    from storage.db import make_engine, make_sessionmaker, upgrade

    url = "http://bbs.jiankang-luntan.cn/plugin.php?id=hzsign"  # answers 500
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": "sqlite:///r.sqlite"}}), encoding="utf-8")
    with ReplayWeb() as web:
        network = {"proxy": web.proxy_url, "retries": 2, "retry_backoff_seconds": 0.05, "download_delay_seconds": 0}
        source = {"name": "retry", "start_urls": [url], "max_depth": 0, "obey_robots": False}
        config = with_changes(load_config(path), "retry-test", network=network, sources=[source])
        engine = make_engine(config.database_url)
        upgrade(engine)
        summary = run_source(config, config.sources[0], make_sessionmaker(engine), show_progress=False)
        attempts = [u for _m, u, status in web.requests_log if u == url and status == 500]
    engine.dispose()
    assert summary.error_reasons == {"http_500": 1} and len(attempts) == 3
    assert "'touthunt/retries': 2" in summary.log_file.read_text(encoding="utf-8")
