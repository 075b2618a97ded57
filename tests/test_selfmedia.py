"""Self-media source kinds through the replay web, each crawl in its own child process: posts become pages
with their stable URL, rendered where the platform needs the browser; a login wall, a captcha or an empty page
stops the run politely and is recorded as the run's source state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.config import load_config
from crawler.cookiefile import load_cookies
from crawler.errors import ConfigError
from crawler.runner import RunSummary, run_source
from replayweb import ReplayWeb, load_ground_truth
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import CrawlRun, FetchFailure, Page

# (source name, kind, queries)
RUNS = [
    ("wechat", "wechat", ["瀚州专家号"]),
    ("wechat-captcha", "wechat", ["专家号加号"]),
    ("wechat-login", "wechat", ["黄牛号"]),
    ("wechat-verify", "wechat", ["瀚州陪诊"]),
    ("weibo", "weibo", ["瀚州挂号"]),
    ("weibo-login", "weibo", ["加号"]),
    ("weibo-captcha", "weibo", ["专家号"]),
    ("weibo-empty", "weibo", ["挂号黄牛"]),
    ("tieba", "tieba", ["瀚州挂号"]),
    ("tieba-captcha", "tieba", ["专家号"]),
    ("tieba-login", "tieba", ["黄牛"]),
    ("tieba-redesign", "tieba", ["陪诊"]),
    ("tieba-none", "tieba", ["瀚州加号黄牛"]),
    ("xhs", "xiaohongshu", ["瀚州挂号"]),
    ("xhs-login", "xiaohongshu", ["专家号"]),
    ("xhs-captcha", "xiaohongshu", ["黄牛"]),
    ("douyin", "douyin", ["瀚州挂号"]),
    ("douyin-captcha", "douyin", ["专家号"]),
    ("douyin-login", "douyin", ["黄牛"]),
]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("selfmedia")
    with ReplayWeb() as web:
        base = {kind: {"base_url": f"http://{host}", "download_delay_seconds": 0} for kind, host in (
            ("wechat", "weixin.sogou.com"), ("weibo", "m.weibo.cn"), ("tieba", "tieba.baidu.com"),
            ("xiaohongshu", "www.xiaohongshu.com"), ("douyin", "www.iesdouyin.com"),
        )}  # fmt: skip
        data = {
            "database": {"url": "sqlite:///selfmedia.sqlite"},
            "network": {"proxy": web.proxy_url, "timeout_seconds": 10.0, "retries": 0},
            "images": {"enabled": False},
            "browser": {"settle_ms": 300},
            "platforms": base,
            "sources": [
                {"name": name, "kind": kind, "selfmedia": {"queries": queries, "max_pages": 3}}
                for name, kind, queries in RUNS
            ],
        }
        path = tmp / "config.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        config = load_config(path)
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        runs: dict[str, RunSummary] = {}
        requests: dict[str, list[str]] = {}
        for source in config.sources:
            web.clear_log()
            runs[source.name] = run_source(config, source, sessions, show_progress=False)
            requests[source.name] = [url for _method, url, _status in web.requests_log]
    yield {"sessions": sessions, "runs": runs, "requests": requests}
    engine.dispose()


def pages_of(crawled: Any, source: str) -> dict[str, Page]:
    with crawled["sessions"]() as s:
        run_id = crawled["runs"][source].run_id
        pages = s.scalars(select(Page).where(Page.last_run_id == run_id)).all()
        for page in pages:
            _ = page.hit, page.contacts
        return {page.url: page for page in pages}


def run_row(crawled: Any, source: str) -> CrawlRun:
    with crawled["sessions"]() as s:
        return s.get_one(CrawlRun, crawled["runs"][source].run_id)


def contacts(page: Page) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for contact in page.contacts:
        out.setdefault(contact.kind, []).append(contact.value)
    return {k: sorted(v) for k, v in out.items() if k in ("mobile", "wechat", "qq")}


def assert_blocked(crawled: Any, source: str, state: str, last_url_part: str) -> None:
    summary = crawled["runs"][source]
    assert summary.status == "blocked", summary
    run = run_row(crawled, source)
    assert run.source_state == state and run.blocked == 1 and run.health[f"blocked_{state}"] == 1
    assert run.finish_reason == "blocked"
    # nothing was sent after the block: no retry, no next page, no other query (a rendered page loads its script)
    pages = [url for url in crawled["requests"][source] if not url.endswith(".js")]
    assert last_url_part in pages[-1], crawled["requests"][source]


MP = "http://mp.weixin.qq.com/s?src=11&timestamp="


def test_wechat_articles_keep_their_stable_url_beside_the_temporary_link(crawled: Any) -> None:
    assert crawled["runs"]["wechat"].status == "finished", crawled["runs"]["wechat"]
    pages = pages_of(crawled, "wechat")
    jiuyi = pages[MP + "1763856000&ver=5634&signature=Qm9kZS1oZW5nLWd1YWhhbw0Kx2Fw*R7Tm3q&new=1"]
    assert jiuyi.stable_url == (
        "https://mp.weixin.qq.com/s?__biz=MzkzNjE4MDQ1Mw==&mid=2247483712&idx=1&sn=7c3f0a9be21d4c58e8f6a1d2b3c4e5f6"
    )
    assert jiuyi.canonical_url.startswith("https://mp.weixin.qq.com/s?__biz=")  # known by its stable address
    assert jiuyi.hit is not None and jiuyi.hit.category == "scalper_service"
    assert contacts(jiuyi) == {"mobile": ["13967104528"], "wechat": ["hz_guahao88"]}
    # reached through Sogou's /link page, whose script assembles the address
    erke = pages[MP + "1763769600&ver=5634&signature=ZHVvLWd1YWhhby1lcmtl&new=1"]
    assert erke.stable_url == (
        "https://mp.weixin.qq.com/s?__biz=MzU4MTcyOTkwNg==&mid=2650017733&idx=2&sn=b1d2e3f4a5c6978812ab34cd56ef7890"
    )
    assert contacts(erke) == {"mobile": ["18857126639"], "qq": ["1846205739"]}
    hospital = pages[MP + "1763856000&ver=5634&signature=aG9zcGl0YWwtbm90aWNl&new=1"]  # from result page 2
    assert hospital.hit is None
    assert len(pages) == 3  # result lists and the link page are not stored as pages
    run = run_row(crawled, "wechat")
    assert run.source_state == "ok" and run.health["result_pages"] == 2 and run.health["posts"] == 3
    with crawled["sessions"]() as s:
        failures = s.scalars(select(FetchFailure).where(FetchFailure.run_id == run.id)).all()
        assert [(f.reason, f.url) for f in failures] == [
            ("link_expired", MP + "1760000000&ver=5634&signature=ZXhwaXJlZC1saW5rLW9sZA&new=1")
        ]


def test_wechat_anti_spider_page_stops_the_run_as_captcha(crawled: Any) -> None:
    assert_blocked(crawled, "wechat-captcha", "captcha", "/antispider/")


def test_wechat_login_wall_stops_the_run(crawled: Any) -> None:
    assert_blocked(crawled, "wechat-login", "login_wall", "query=%E9%BB%84%E7%89%9B%E5%8F%B7")


def test_wechat_environment_check_on_an_article_is_a_captcha(crawled: Any) -> None:
    assert_blocked(crawled, "wechat-verify", "captcha", "signature=dmVyaWZ5LXBsZWFzZQ")


def assert_pages_match_truth(pages: dict[str, Page], urls: list[str]) -> None:
    truth = {e.url: e for e in load_ground_truth()}
    assert sorted(pages) == sorted(urls)
    for url in urls:
        entry, page = truth[url], pages[url]
        assert (page.hit is not None, page.hit.category if page.hit else None) == (entry.hit, entry.category), url
        assert contacts(page) == {k: v for k, v in entry.contacts.as_dict().items() if v}, url


WEIBO = "http://m.weibo.cn/detail/"


def test_weibo_posts_from_the_search_json_long_text_included(crawled: Any) -> None:
    assert crawled["runs"]["weibo"].status == "finished", crawled["runs"]["weibo"]
    pages = pages_of(crawled, "weibo")
    assert sorted(pages) == [WEIBO + mid for mid in (
        "5137698812250047", "5137700915472381", "5137701498630215", "5137702231851012",
    )]  # fmt: skip
    first = pages[WEIBO + "5137700915472381"]
    assert first.stable_url == "https://weibo.com/7391025584/Pc8yQwErT"
    assert first.hit is not None and contacts(first) == {"mobile": ["13588127730"], "wechat": ["wb_hzgh2026"]}
    long_post = pages[WEIBO + "5137702231851012"]  # the contact is only in the full text
    assert long_post.hit is not None and contacts(long_post) == {"mobile": ["17729156604"], "wechat": ["hzbaoma_gh"]}
    assert pages[WEIBO + "5137701498630215"].hit is None  # a patient's warning
    assert contacts(pages[WEIBO + "5137698812250047"]) == {"qq": ["2207356418"]}  # result page 2
    assert "/statuses/extend?id=5137702231851012" in " ".join(crawled["requests"]["weibo"])


def test_weibo_login_wall_captcha_and_empty_answer_stop_the_run(crawled: Any) -> None:
    assert_blocked(crawled, "weibo-login", "login_wall", "q%3D%E5%8A%A0%E5%8F%B7")
    assert_blocked(crawled, "weibo-captcha", "captcha", "security.weibo.com/captcha/geetest")
    assert_blocked(crawled, "weibo-empty", "empty", "q%3D%E6%8C%82%E5%8F%B7%E9%BB%84%E7%89%9B")


def test_tieba_threads_from_gbk_search_pages(crawled: Any) -> None:
    assert crawled["runs"]["tieba"].status == "finished", crawled["runs"]["tieba"]
    pages = pages_of(crawled, "tieba")
    tids = ("8911230044", "8912345670", "8912345688", "8912345702")
    assert_pages_match_truth(pages, [f"http://tieba.baidu.com/p/{tid}" for tid in tids])
    assert pages["http://tieba.baidu.com/p/8912345670"].stable_url == "https://tieba.baidu.com/p/8912345670"
    assert pages["http://tieba.baidu.com/p/8912345670"].encoding in ("gbk", "gb18030")  # decoded as GBK


def test_tieba_security_check_and_login_page_stop_the_run(crawled: Any) -> None:
    assert_blocked(crawled, "tieba-captcha", "captcha", "wappass.baidu.com/static/captcha/tuxing.html")
    assert_blocked(crawled, "tieba-login", "login_wall", "passport.baidu.com/v2/")


def test_changed_markup_is_a_parser_failure_not_zero_results(crawled: Any) -> None:
    redesign, none = run_row(crawled, "tieba-redesign"), run_row(crawled, "tieba-none")
    assert redesign.status == "finished" and redesign.source_state == "parser_failure"
    assert redesign.health["parser_failures"] == 1
    assert none.status == "finished" and none.source_state == "empty" and none.health["no_result_pages"] == 1
    assert "parser_failures" not in none.health


def test_xiaohongshu_notes_are_rendered_and_keep_their_stable_url(crawled: Any) -> None:
    assert crawled["runs"]["xhs"].status == "finished", crawled["runs"]["xhs"]
    pages = pages_of(crawled, "xhs")
    base = "http://www.xiaohongshu.com/explore/6740a1b2000000001e03c4d"
    urls = {page.final_url.split("?")[0]: page for page in pages.values()}
    assert sorted(urls) == [base + "5", base + "6"]
    note = urls[base + "5"]
    assert "xsec_token=" in note.url  # the temporary link the search handed out
    assert note.stable_url == "https://www.xiaohongshu.com/explore/6740a1b2000000001e03c4d5"
    assert note.hit is not None and contacts(note) == {"mobile": ["13857160942"], "wechat": ["xhs_hzgh168"]}
    assert urls[base + "6"].hit is None
    run = run_row(crawled, "xhs")
    assert run.health["rendered_pages"] == 2 and run.health["browser_launches"] == 1


def test_xiaohongshu_login_panel_and_captcha_stop_the_run(crawled: Any) -> None:
    assert_blocked(crawled, "xhs-login", "login_wall", "keyword=%E4%B8%93%E5%AE%B6%E5%8F%B7")
    assert_blocked(crawled, "xhs-captcha", "captcha", "/website-login/captcha?redirectPath=")


def test_douyin_videos_are_rendered(crawled: Any) -> None:
    assert crawled["runs"]["douyin"].status == "finished", crawled["runs"]["douyin"]
    pages = pages_of(crawled, "douyin")
    assert_pages_match_truth(
        pages,
        ["http://www.iesdouyin.com/video/7439182736450011234", "http://www.iesdouyin.com/video/7439182736450015678"],
    )
    assert pages["http://www.iesdouyin.com/video/7439182736450011234"].stable_url == (
        "https://www.douyin.com/video/7439182736450011234"
    )


def test_douyin_captcha_page_and_login_panel_stop_the_run(crawled: Any) -> None:
    assert_blocked(crawled, "douyin-captcha", "captcha", "/search/%E4%B8%93%E5%AE%B6%E5%8F%B7")
    assert_blocked(crawled, "douyin-login", "login_wall", "/search/%E9%BB%84%E7%89%9B")


# --- cookie files and configuration -----------------------------------------------------------------------


def test_cookie_files_netscape_and_json(tmp_path: Path) -> None:
    netscape = tmp_path / "cookies.txt"
    netscape.write_text(
        "# Netscape HTTP Cookie File\n"
        ".sogou.com\tTRUE\t/\tFALSE\t4102444800\tSNUID\tA1B2C3\n"
        "#HttpOnly_.weixin.sogou.com\tTRUE\t/\tTRUE\t0\tJSESSIONID\tabc\n"
        ".sogou.com\tTRUE\t/\tFALSE\t946684800\tOLD\texpired\n",
        encoding="utf-8",
    )
    cookies = load_cookies(netscape, key="platforms.wechat.cookie_file")
    assert [(c.name, c.domain, c.secure) for c in cookies] == [
        ("SNUID", ".sogou.com", False),
        ("JSESSIONID", ".weixin.sogou.com", True),
    ]
    as_json = tmp_path / "cookies.json"
    as_json.write_text(json.dumps({"cookies": [{"name": "SUB", "value": "x", "domain": ".weibo.cn", "path": "/"}]}))
    assert load_cookies(as_json, key="k")[0].for_playwright()["name"] == "SUB"
    broken = tmp_path / "broken.txt"
    broken.write_text("not a cookie line\n")
    with pytest.raises(ConfigError, match=r"platforms\.tieba\.cookie_file: .* not a Netscape cookies.txt"):
        load_cookies(broken, key="platforms.tieba.cookie_file")


def test_cookies_go_with_the_platforms_requests(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.config import parse_config
    from crawler.settings import build_settings
    from spiders.wechat import WechatSpider

    (tmp_path / "wx.txt").write_text(".sogou.com\tTRUE\t/\tFALSE\t0\tSNUID\tA1B2C3\n", encoding="utf-8")
    config = parse_config(
        {
            "platforms": {"wechat": {"base_url": "https://weixin.sogou.com", "download_delay_seconds": 20,
                                     "cookie_file": "wx.txt"}},
            "sources": [{"name": "wx", "kind": "wechat", "selfmedia": {"queries": ["代挂号"]}}],
        },
        base_dir=tmp_path,
    )  # fmt: skip
    settings = build_settings(config, config.sources[0], run_id=None, log_file=None)
    assert settings["DOWNLOAD_DELAY"] == 20 and settings["COOKIES_ENABLED"] is True
    assert "A1B2C3" not in json.dumps(settings)  # the path is passed, never the cookie values
    spider = WechatSpider.from_crawler(get_crawler(WechatSpider, settings))
    request = spider.request(spider.search_url("代挂号", 1), spider.parse_search, query="代挂号", page=1)
    assert request.cookies == [{"name": "SNUID", "value": "A1B2C3", "domain": ".sogou.com", "path": "/"}]
    assert request.url == "https://weixin.sogou.com/weixin?type=2&query=%E4%BB%A3%E6%8C%82%E5%8F%B7&ie=utf8&page=1"


def test_browser_platforms_load_the_cookies_into_the_browser_context(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.config import parse_config
    from crawler.settings import build_settings
    from spiders.xiaohongshu import XiaohongshuSpider

    cookie = {"name": "web_session", "value": "s1", "domain": ".xiaohongshu.com"}
    (tmp_path / "xhs.json").write_text(json.dumps([cookie]))
    config = parse_config(
        {
            "platforms": {"xiaohongshu": {"base_url": "https://www.xiaohongshu.com", "download_delay_seconds": 30,
                                          "cookie_file": "xhs.json"}},
            "sources": [{"name": "x", "kind": "xiaohongshu", "selfmedia": {"queries": ["代挂号"]}}],
        },
        base_dir=tmp_path,
    )  # fmt: skip
    settings = build_settings(config, config.sources[0], run_id=None, log_file=None)
    assert settings["TOUTHUNT_RENDER"]["policy"] == "always"
    spider = XiaohongshuSpider.from_crawler(get_crawler(XiaohongshuSpider, settings))
    request = spider.request(spider.search_url("代挂号", 1), spider.parse_search, query="代挂号", page=1)
    assert request.meta["playwright"] is True and not request.cookies
    cookies = request.meta["playwright_context_kwargs"]["storage_state"]["cookies"]
    assert [(c["name"], c["domain"]) for c in cookies] == [("web_session", ".xiaohongshu.com")]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"name": "w", "kind": "weibo"}, "sources[0].selfmedia: required key is missing"),
        ({"name": "w", "kind": "site"}, "sources[0].start_urls: a source of kind site needs at least one start URL"),
        (
            {"name": "w", "kind": "site", "start_urls": ["http://a.cn/"], "selfmedia": {"queries": ["x"]}},
            "only allowed with the self-media kinds (wechat, weibo, tieba, xiaohongshu, douyin); "
            "this source is kind: site",
        ),
        ({"name": "w", "kind": "tieba", "selfmedia": {"queries": []}}, "sources[0].selfmedia.queries"),
    ],
)
def test_self_media_config_errors_name_the_key(source: dict[str, Any], message: str) -> None:
    from crawler.config import parse_config

    with pytest.raises(ConfigError) as info:
        parse_config({"sources": [source]})
    assert message in str(info.value)


def test_crawl_output_says_the_platform_blocked_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.cli import print_run

    summary = RunSummary(
        run_id=7, source="weibo-guahao", status="blocked", pages_fetched=3, pages_stored=3, hits_new=1, errors=0,
        error_reasons={}, log_file=tmp_path / "crawl.log", message=None, source_state="captcha",
    )  # fmt: skip
    print_run(summary)
    out = capsys.readouterr().out
    assert "运行 #7 受阻停止" in out and "平台拦截 (验证码拦截)" in out and "未尝试绕过" in out
