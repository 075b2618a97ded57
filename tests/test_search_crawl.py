"""End to end: the demo's search source crawled through the replay web in its own process. Results and ads
are stored apart with their resolved targets, the targets are crawled and scored, expired and looping
links are bounded and counted, pagination stops at search.max_pages, and a changed result-page markup ends
the run as a parser failure of that engine instead of "zero results"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.config import Config, load_config, load_overlay, with_changes
from crawler.runner import run_source
from replayweb import ReplayWeb, demo_sources_path
from spiders.serp import ENGINES
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import CrawlRun, FetchFailure, Page, SerpResult
from tests.conftest import database_url_for

pytestmark = pytest.mark.database


def search_config(tmp: Path, proxy: str, **search: Any) -> Config:
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": database_url_for(tmp / "search.sqlite")}}), encoding="utf-8")
    overlay = load_overlay(demo_sources_path())
    source = next(s for s in overlay["sources"] if s["kind"] == "search")
    source = {**source, "search": {**source["search"], **search}}
    network = {"proxy": proxy, "timeout_seconds": 2.0, "retries": 0, "download_delay_seconds": 0.0}
    return with_changes(load_config(path), "search-test", sources=[source], network=network)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("search")
    with ReplayWeb() as web:
        config = search_config(tmp, web.proxy_url)
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
        requests = [url for _method, url, _status in web.requests_log]
    yield {"sessions": sessions, "summary": summary, "requests": requests}
    engine.dispose()


def results(crawled: Any) -> list[SerpResult]:
    with crawled["sessions"]() as s:
        rows = s.scalars(select(SerpResult).order_by(SerpResult.id)).all()
        for row in rows:
            _ = row.page
        return list(rows)


def test_run_finishes_and_records_health(crawled: Any) -> None:
    summary = crawled["summary"]
    assert summary.status == "finished" and summary.pages_stored > 10
    assert summary.error_reasons == {"redirect_expired": 1, "redirect_loop": 1}
    with crawled["sessions"]() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert run.source_state == "ok" and run.robots_obeyed is True
        assert run.requests >= 20 and run.items == summary.pages_stored and run.blocked == 0
        health = run.health
    assert {health[f"serp_pages_{e}"] for e in ("sogou", "bing", "so")} == {2} and health["serp_pages_baidu"] == 3
    assert {health[f"serp_no_results_{e}"] for e in ENGINES} == {1}
    assert (health["serp_ads_baidu"], health["serp_results_baidu"]) == (2, 6)
    assert len(health["serp_no_results_urls"]) == 4
    assert health["search_pages_beyond_limit"] == 1  # baidu's third page
    assert (health["search_redirects_expired"], health["search_redirects_looping"]) == (1, 1)
    resolved = {k.removeprefix("search_resolved_"): v for k, v in health.items() if k.startswith("search_resolved_")}
    assert resolved == {"direct": 7, "redirect": 9, "expired": 1, "loop": 1}


def test_ads_and_organic_results_are_stored_apart_with_their_targets(crawled: Any) -> None:
    rows = results(crawled)
    ads = {(r.engine, r.rank, r.target_url, r.resolution) for r in rows if r.is_ad}
    assert ads == {
        ("baidu", 1, "http://www.mingyihao88.com/jiahao.html", "redirect"),
        ("baidu", 2, "http://www.guahao-lianmeng.com/", "redirect"),
        ("sogou", 1, "http://m.kanbing-bang.net/", "redirect"),
        ("bing", 1, "http://www.hzguahao-vip.com/index.php", "direct"),
        ("so", 1, "http://www.guahao-lianmeng.com/daili.html", "redirect"),
    }
    query = {r.query for r in rows}
    assert query == {"瀚州市人民医院 代挂号"}
    baidu = sorted((r for r in rows if r.engine == "baidu" and not r.is_ad), key=lambda r: (r.page_number, r.rank))
    assert [(r.page_number, r.rank) for r in baidu] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    first = baidu[0]
    assert first.title == "瀚州市人民医院-预约挂号" and first.snippet.startswith("本院实行实名制预约挂号")
    assert first.redirect_url.startswith("http://www.baidu.com/link?url=") and first.resolution == "direct"
    assert first.target_domain == "hzsrmyy.org.cn"
    assert first.serp_url == ENGINES["baidu"].search_url("瀚州市人民医院 代挂号", 1, https=False)


def test_expired_and_looping_links_are_bounded_and_counted(crawled: Any) -> None:
    by_resolution: dict[str, list[SerpResult]] = {}
    for row in results(crawled):
        by_resolution.setdefault(row.resolution, []).append(row)
    assert [r.redirect_url[-8:] for r in by_resolution["expired"]] == ["00000000"]
    assert [r.redirect_url[-8:] for r in by_resolution["loop"]] == ["4444eeee"]
    assert all(r.target_url == "" and r.page is None for r in by_resolution["expired"] + by_resolution["loop"])
    loop_hops = [u for u in crawled["requests"] if "link?url=LoOp" in u]
    assert 2 <= len(loop_hops) <= 3  # the second hop points back to the first: stopped there


def test_targets_are_crawled_scored_and_linked(crawled: Any) -> None:
    rows = results(crawled)
    resolved = [r for r in rows if r.target_url]
    assert resolved and all(r.page is not None for r in resolved)
    by_target = {r.target_url: r.page for r in resolved}
    with crawled["sessions"]() as s:
        pages = {p.url: p for p in s.scalars(select(Page))}
        for page in pages.values():
            _ = page.hit
    scalper = pages["http://www.mingyihao88.com/jiahao.html"]
    assert scalper.hit is not None and scalper.hit.category == "scalper_service" and scalper.depth == 0
    assert by_target["http://www.mingyihao88.com/jiahao.html"].id == scalper.id
    assert pages["http://www.hzsrmyy.org.cn/jzfw/yygh.html"].hit is None  # the official booking page
    # targets are crawled like start URLs: the second hop from an ad's landing page is reached
    assert "http://www.guahao-lianmeng.com/" in pages and pages["http://www.hz-daiguahao.net/lxwm.asp"].depth == 1
    # a landing page behind a 301 is stored under the URL the engine pointed at
    assert pages["http://www.hzguahao-vip.com/index.php"].final_url == "http://www.hzguahao-vip.com/"
    # result pages and jump pages are not pages
    assert not [u for u in pages if ENGINES["baidu"].owns(u) or ENGINES["sogou"].owns(u)]


def test_pagination_stops_at_max_pages(crawled: Any) -> None:
    third = ENGINES["baidu"].search_url("瀚州市人民医院 代挂号", 3, https=False)
    assert third not in crawled["requests"]
    assert ENGINES["baidu"].search_url("瀚州市人民医院 代挂号", 2, https=False) in crawled["requests"]


def test_changed_markup_is_a_parser_failure_of_that_engine(tmp_path: Path) -> None:
    with ReplayWeb() as web:
        config = search_config(
            tmp_path, web.proxy_url, engines=["baidu", "bing"], query_sets=[], queries=["瀚州 挂号 改版"]
        )
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
    assert summary.status == "finished" and summary.pages_stored == 0
    assert summary.error_reasons == {"parser_failure": 2}
    with sessions() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert run.source_state == "parser_failure"
        assert run.health["serp_parser_failures_baidu"] == run.health["serp_parser_failures_bing"] == 1
        details = sorted(f.detail for f in s.scalars(select(FetchFailure)))
    assert details[0].startswith("baidu: no result blocks found") and details[1].startswith("bing: ")
    engine.dispose()


def test_a_genuine_no_results_run_is_empty_not_a_failure(tmp_path: Path) -> None:
    with ReplayWeb() as web:
        config = search_config(tmp_path, web.proxy_url, query_sets=[], queries=["瀚州 专家号 黄牛"])
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
    assert summary.status == "finished" and summary.errors == 0
    with sessions() as s:
        assert s.get_one(CrawlRun, summary.run_id).source_state == "empty"
    engine.dispose()


def test_jump_pages_refreshing_in_circles_are_bounded(tmp_path: Path) -> None:
    with ReplayWeb() as web:
        config = search_config(
            tmp_path, web.proxy_url, engines=["sogou"], query_sets=[], queries=["瀚州 挂号 跳转"], max_redirect_hops=3
        )
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
        jumps = [u for _m, u, _s in web.requests_log if "/link?url=" in u]
    assert summary.error_reasons == {"redirect_loop": 1}
    assert len(jumps) == 2  # A, then B, whose target A is already in the chain: stopped there
    with sessions() as s:
        (row,) = s.scalars(select(SerpResult)).all()
        assert (row.resolution, row.target_url, row.title) == ("loop", "", "瀚州挂号指南")
    engine.dispose()


def test_a_captcha_is_a_blocked_answer_and_the_engine_is_left_alone(tmp_path: Path) -> None:
    with ReplayWeb() as web:
        config = search_config(tmp_path, web.proxy_url, engines=["baidu"], query_sets=[], queries=["瀚州 挂号 验证"])
        engine = make_engine(config.database_url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        summary = run_source(config, config.sources[0], sessions, show_progress=False)
    assert summary.error_reasons == {"captcha": 1} and summary.pages_stored == 0
    with sessions() as s:
        run = s.get_one(CrawlRun, summary.run_id)
        assert (run.source_state, run.blocked, run.health) == (
            "captcha",
            1,
            {"blocked_captcha": 1, "serp_pages_baidu": 1},
        )
    engine.dispose()


def test_show_tells_how_search_found_a_hit(crawled: Any) -> None:
    from crawler.hitview import render_hit
    from storage import repository
    from storage.models import Hit

    with crawled["sessions"]() as s:
        page = s.scalars(select(Page).where(Page.url == "http://www.mingyihao88.com/jiahao.html")).one()
        hit = repository.get_hit(s, s.scalars(select(Hit.id).where(Hit.page_id == page.id)).one())
        assert hit is not None
        text = render_hit(hit, found_by=list(repository.serp_results_for_page(s, page.id)))
    assert "搜索发现" in text and "百度 广告 「瀚州市人民医院 代挂号」 第1页第1位" in text
    assert "瀚州名医挂号_各大医院专家号加号_当天可安排" in text
