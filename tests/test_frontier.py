"""The crawl frontier extension on its own: a fresh cycle records the start URLs, an interrupted one hands the
spider its pending URLs and every known key, a cycle with nothing pending or with other start URLs starts
over, and items settle their URL and the links they lead to idempotently."""

from __future__ import annotations

from typing import Any

from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler.config import SourceConfig
from crawler.frontier import Frontier, frontier_key
from crawler.items import FrontierLink, PageItem
from spiders.site import SiteSpider
from storage import frontier, repository
from storage.models import FrontierEntry


def opened(config: Any, start_urls: list[str], run_id: int) -> SiteSpider:
    source = SourceConfig(name="forum", start_urls=tuple(start_urls))
    settings = {
        "TOUTHUNT_RUN_ID": run_id,
        "TOUTHUNT_FRONTIER": True,
        "TOUTHUNT_DATABASE_URL": config.database_url,
        "TOUTHUNT_DB_BUSY_TIMEOUT": 5.0,
        "TOUTHUNT_SOURCE": source.model_dump(mode="json"),
    }
    crawler = get_crawler(SiteSpider, settings)
    spider = SiteSpider(source)
    spider._set_crawler(crawler)
    ext = Frontier.from_crawler(crawler)
    ext.spider_opened(spider)
    ext.spider_closed(spider, "finished")
    return spider


def entries(sessions: Any) -> dict[str, str]:
    with sessions() as s:
        return {e.url: e.state for e in s.scalars(select(FrontierEntry))}


def test_fresh_resumed_and_restarted_cycles(sessions: Any, write_config: Any) -> None:
    config = write_config()
    with sessions.begin() as s:
        source = repository.ensure_source(s, "forum", "site")
        run_ids = [repository.start_run(s, source).id for _ in range(4)]
        source_id = source.id
    start = "http://bbs.example.cn/forum-1.html"
    spider = opened(config, [start], run_ids[0])
    assert spider.frontier_resume is None and entries(sessions) == {start: "pending"}

    # the start page is stored with two links, one of them twice; then the crawl is killed
    page = PageItem(
        source="forum",
        url=start,
        final_url=start,
        http_status=200,
        html="",
        encoding="utf-8",
        fetched_at=None,
        frontier_key=frontier_key(start),  # type: ignore[arg-type]
        frontier_children=[
            FrontierLink(frontier_key(u), u, 1, 0, start)
            for u in ("http://bbs.example.cn/t-1.html", "http://bbs.example.cn/t-2.html")
        ],
    )
    for _ in range(2):  # settling twice changes nothing
        with sessions.begin() as s:
            frontier.settle(
                s,
                source_id,
                run_ids[0],
                done=[frontier.Entry(page.frontier_key, start)],
                added=[frontier.Entry(c.key, c.url, c.depth, c.hops, c.referer) for c in page.frontier_children],
            )
    assert entries(sessions) == {
        start: "done",
        "http://bbs.example.cn/t-1.html": "pending",
        "http://bbs.example.cn/t-2.html": "pending",
    }

    resumed = opened(config, [start], run_ids[1])
    assert [(link.url, link.depth, link.referer) for link in resumed.frontier_resume or []] == [
        ("http://bbs.example.cn/t-1.html", 1, start),
        ("http://bbs.example.cn/t-2.html", 1, start),
    ]
    assert resumed.frontier_known == {frontier_key(start), *(c.key for c in page.frontier_children)}

    moved = "http://bbs.example.cn/forum-2.html"  # the source now starts elsewhere: its old frontier is dropped
    restarted = opened(config, [moved], run_ids[2])
    assert restarted.frontier_resume is None and entries(sessions) == {moved: "pending"}

    with sessions.begin() as s:  # everything done but the run never recorded its end: a new cycle
        frontier.settle(s, source_id, run_ids[2], done=[frontier.Entry(frontier_key(moved), moved)])
    again = opened(config, [moved], run_ids[3])
    assert again.frontier_resume is None and entries(sessions) == {moved: "pending"}
