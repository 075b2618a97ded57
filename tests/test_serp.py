"""Search-engine result parsers on the recorded result pages of the replay web (one per engine, with ads,
a "no results" page and a changed-markup page each), redirect-link decoding, and query expansion."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from crawler.config import parse_config
from crawler.errors import ConfigError
from crawler.queries import expand_queries, read_names
from replayweb import load_web
from spiders.serp import ENGINES, decode_bing_link, engine_of_url, parse_serp, refresh_target

Q_RESULTS = "瀚州市人民医院 代挂号"
Q_NONE = "瀚州 专家号 黄牛"
Q_CHANGED = "瀚州 挂号 改版"


@pytest.fixture(scope="module")
def web():  # type: ignore[no-untyped-def]
    return load_web()


def recorded(web, engine: str, query: str, page: int = 1) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    url = ENGINES[engine].search_url(query, page, https=False)
    site = web.site(ENGINES[engine].host)
    route = site.lookup(url.split(ENGINES[engine].host, 1)[1])
    assert route is not None and route.is_page, url
    return route.body.decode("utf-8"), url


# What each recorded first page holds: (ads, organic) as (title start, target or "" when only a fetch resolves it)
EXPECTED = {
    "baidu": (
        [("瀚州名医挂号", ""), ("全国名医挂号联盟", "")],
        [
            ("瀚州市人民医院-预约挂号", "http://www.hzsrmyy.org.cn/jzfw/yygh.html"),
            ("我市警方打掉一个代挂号倒号团伙", ""),
            ("瀚州市人民医院专家号价格一览", "http://www.zhuanjiahao365.cn/yiyuan/hdyy.html"),
        ],
    ),
    "sogou": (
        [("瀚州看病帮", "")],
        [("瀚州代挂号网", ""), ("瀚州市人民医院-预约挂号须知", "")],
    ),
    "bing": (
        [("瀚州名医挂号服务中心", "http://www.hzguahao-vip.com/index.php")],
        [
            ("瀚江专家号预约网", "http://www.zhuanjiahao365.cn/"),
            ("如何识别号贩子和医托", "http://www.jiankang-kepu.net/article/2025/1187.html"),
            ("特需门诊", "http://www.hzsrmyy.org.cn/jzfw/tsmz.html"),
        ],
    ),
    "so": (
        [("全国名医挂号联盟", "")],
        [
            (
                "关于开展打击号贩子专项行动的通知",
                "http://wsjkw.hanjiang.gov.cn/zwgk/tzgg/202503/t20250318_4471256.html",
            ),
            ("安心陪诊", ""),
        ],
    ),
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_organic_results_and_ads_are_parsed_apart(web, engine: str) -> None:  # type: ignore[no-untyped-def]
    html, url = recorded(web, engine, Q_RESULTS)
    page = parse_serp(engine, html, url)
    assert page.state == "results"
    want_ads, want_organic = EXPECTED[engine]
    for got, want in ((page.ads, want_ads), (page.organic, want_organic)):
        assert [e.rank for e in got] == list(range(1, len(want) + 1))
        assert [(e.title[: len(t)], e.direct_url) for e, (t, _d) in zip(got, want, strict=True)] == want
    for entry in page.entries:
        assert entry.href.startswith("http://") and engine_of_url(entry.href) is ENGINES[engine]
        assert entry.snippet and entry.display_url
        assert "<" not in entry.title and "<em>" not in entry.snippet


def test_display_url_title_and_snippet_are_plain_text(web) -> None:  # type: ignore[no-untyped-def]
    html, url = recorded(web, "baidu", Q_RESULTS)
    first = parse_serp("baidu", html, url).organic[0]
    assert first.title == "瀚州市人民医院-预约挂号"
    assert first.display_url.startswith("www.hzsrmyy.org.cn")
    assert first.snippet.startswith("本院实行实名制预约挂号")


def test_next_page_links_are_absolute_and_end_on_the_last_page(web) -> None:  # type: ignore[no-untyped-def]
    html, url = recorded(web, "baidu", Q_RESULTS, 1)
    assert parse_serp("baidu", html, url).next_url == ENGINES["baidu"].search_url(Q_RESULTS, 2, https=False)
    html, url = recorded(web, "baidu", Q_RESULTS, 2)
    assert parse_serp("baidu", html, url).next_url == ENGINES["baidu"].search_url(Q_RESULTS, 3, https=False)
    html, url = recorded(web, "baidu", Q_RESULTS, 3)
    assert parse_serp("baidu", html, url).next_url is None
    for engine in ("sogou", "bing", "so"):
        html, url = recorded(web, engine, Q_RESULTS)
        assert parse_serp(engine, html, url).next_url is None


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_no_results_page_is_not_a_parser_failure(web, engine: str) -> None:  # type: ignore[no-untyped-def]
    html, url = recorded(web, engine, Q_NONE)
    page = parse_serp(engine, html, url)
    assert (page.state, page.entries) == ("no_results", [])


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_changed_markup_is_a_parser_failure_not_zero_results(web, engine: str) -> None:  # type: ignore[no-untyped-def]
    html, url = recorded(web, engine, Q_CHANGED)
    page = parse_serp(engine, html, url)
    assert page.state == "parser_failure"
    assert "markup changed" in page.detail and Q_CHANGED in page.detail  # names the page's title


@pytest.mark.parametrize(
    "engine,html",
    [
        (
            "baidu",
            "<html><head><title>百度安全验证</title></head><body><div class='passMod'>网络不给力</div></body></html>",
        ),
        ("sogou", "<html><body><p>用户您好，我们的系统检测到您网络中存在异常访问请求。</p></body></html>"),
        ("bing", "<html><body><div id='b_captcha'>请输入验证码</div></body></html>"),
        ("so", "<html><body><form action='/qcaptcha'></form></body></html>"),
    ],
)
def test_captcha_pages_are_recognised(engine: str, html: str) -> None:
    assert parse_serp(engine, html, f"https://{ENGINES[engine].host}/s").state == "captcha"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "not html at all \x00\x01",
        "<html><body>" + "<div>" * 5000,
        "<div id='content_left'><div class='c-container'>",
    ],
)
def test_hostile_markup_never_raises(html: str) -> None:
    for engine in ENGINES:
        page = parse_serp(engine, html, f"https://{ENGINES[engine].host}/s")
        assert page.state in ("parser_failure", "no_results", "results")


def test_long_titles_are_bounded_and_scripts_ignored() -> None:
    html = (
        "<div id='content_left'><div class='result c-container'><h3><a href='/link?url=x'>"
        + "号" * 5000
        + "<script>var secret=1</script></a></h3></div></div>"
    )
    entry = parse_serp("baidu", html, "http://www.baidu.com/s?wd=x").entries[0]
    assert len(entry.title) == 500 and "secret" not in entry.title
    assert entry.href == "http://www.baidu.com/link?url=x"


def test_bing_links_decode_without_a_request() -> None:
    target = "http://www.example-guahao.cn/路径?a=1&b=2"
    encoded = base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")
    assert decode_bing_link(f"https://www.bing.com/ck/a?!&&p=abc&u=a1{encoded}&ntb=1") == target
    assert decode_bing_link(f"http://cn.bing.com/aclk?ld=x&u=a1{encoded}") == target
    assert decode_bing_link("https://www.bing.com/ck/a?u=a1!!!notbase64") == ""
    assert decode_bing_link("https://www.bing.com/ck/a?u=a1" + base64.urlsafe_b64encode(b"javascript:x").decode()) == ""
    assert decode_bing_link(f"https://www.example.com/ck/a?u=a1{encoded}") == ""


def test_jump_pages_name_their_target(web) -> None:  # type: ignore[no-untyped-def]
    route = web.site("www.sogou.com").lookup("/link?url=hedJjaC291NbWrwHYHKCyPQj_ei8OKC1v6zP9mxRj2bD8uUdXqT")
    assert refresh_target(route.body.decode(), "http://www.sogou.com/link") == "http://www.hz-daiguahao.net/"
    base = "http://www.so.com/link?m=x"
    assert refresh_target('<meta http-equiv="refresh" content="0; url=/next">', base) == "http://www.so.com/next"
    assert refresh_target("<script>window.location.href = 'http://a.example.cn/x'</script>", base) == (
        "http://a.example.cn/x"
    )
    assert refresh_target("<p>链接已失效</p>", base) == ""
    assert refresh_target("<script>location.replace('javascript:alert(1)')</script>", base) == ""


def test_queries_expand_names_from_a_file_times_terms_plus_free_queries(tmp_path: Path) -> None:
    names = tmp_path / "hospitals.tsv"
    names.write_text("# comment\n瀚州市人民医院\t瀚州人民医院\thzsrmyy.org.cn\n\n瀚江省中医院\n", encoding="utf-8")
    config = parse_config(
        {
            "sources": [
                {
                    "name": "s",
                    "kind": "search",
                    "search": {
                        "query_sets": [
                            {
                                "hospitals_file": "hospitals.tsv",
                                "hospitals": ["瀚州市儿童医院"],
                                "terms": ["代挂号", "黄牛号"],
                            }
                        ],
                        "queries": ["瀚州  专家号   加号", "瀚州市儿童医院 代挂号"],
                    },
                }
            ]
        },
        base_dir=tmp_path,
    )
    search = config.sources[0].search
    assert search is not None
    assert expand_queries(search, config) == [
        "瀚州市儿童医院 代挂号",
        "瀚州市儿童医院 黄牛号",
        "瀚州市人民医院 代挂号",
        "瀚州市人民医院 黄牛号",
        "瀚江省中医院 代挂号",
        "瀚江省中医院 黄牛号",
        "瀚州 专家号 加号",
    ]
    assert read_names(Path("keywords/data/hospitals.tsv"))[0] == "瀚州市人民医院"


def test_missing_names_file_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    config = parse_config(
        {"sources": [{"name": "s", "kind": "search", "search": {"query_sets": [{"hospitals_file": "nope.txt"}]}}]},
        base_dir=tmp_path,
    )
    search = config.sources[0].search
    assert search is not None
    with pytest.raises(ConfigError, match=r"search\.query_sets\[0\]\.hospitals_file: .*nope\.txt.* does not exist"):
        expand_queries(search, config)
