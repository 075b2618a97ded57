"""The item pipelines in their configured order, without Scrapy: extraction, identity, scoring, per-run
deduplication and batched storage where one bad row never takes its batch down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from sqlalchemy import select, text

from crawler.items import FailureItem, PageItem
from crawler.scoring import ScoringInputs
from crawler.settings import ITEM_PIPELINES
from pipelines.dedupe import DedupePipeline
from pipelines.extract import ExtractPipeline
from pipelines.normalise import NormalisePipeline, content_hash
from pipelines.score import ScorePipeline
from pipelines.store import PageWriter
from storage import repository
from storage.models import FetchFailure, Hit, Page

SCALPER = """<html><head><title>瀚州专家号代挂</title></head><body><h1>瀚州专家号代挂</h1>
<p>省人民医院专家号代挂，号满可加，服务费400元，挂号费另付。微信：hz_guahao01 电话 139 1234 5678</p></body></html>"""
NOTICE = """<html><head><title>关于开展打击号贩子专项整治行动的通知</title></head><body>
<p>各地要依法查处代挂号、倒号等违法行为，发现线索请举报。</p></body></html>"""


def page(url: str, html: str) -> PageItem:
    return PageItem(source="hub", url=url, final_url=url, http_status=200, html=html, encoding="utf-8",
                    fetched_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # fmt: skip


def test_order_lives_in_settings() -> None:
    order = sorted(ITEM_PIPELINES, key=ITEM_PIPELINES.__getitem__)
    assert [p.rsplit(".", 1)[1] for p in order] == [
        "ExtractPipeline", "NormalisePipeline", "ImagePipeline", "ScorePipeline", "DedupePipeline", "StorePipeline",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def scorer() -> ScorePipeline:
    pipeline = ScorePipeline(ScoringInputs(hit_threshold=50))
    pipeline.open_spider()
    return pipeline


@pytest.fixture
def chain(scorer: ScorePipeline) -> list[Any]:
    return [ExtractPipeline(), NormalisePipeline(), scorer, DedupePipeline()]


def run_chain(chain: list[Any], item: Any) -> Any:
    for pipeline in chain:
        item = pipeline.process_item(item)
    return item


def test_page_goes_through_extract_normalise_score(chain: list[Any]) -> None:
    item = run_chain(chain, page("http://WWW.HZ-Guahao.cn/a?b=2&a=1#top", SCALPER))
    assert item.title == "瀚州专家号代挂"
    assert item.canonical_url == "http://www.hz-guahao.cn/a?a=1&b=2"
    assert (item.domain, item.registrable_domain) == ("www.hz-guahao.cn", "hz-guahao.cn")
    assert item.content_hash == content_hash(item.text)
    assert item.score.hit and item.score.category == "scalper_service"
    assert item.score.contacts["mobile"] == ["13912345678"]
    notice = run_chain(chain, page("http://www.hz-guahao.cn/notice", NOTICE))
    assert not notice.score.hit


def test_failures_pass_through_untouched(chain: list[Any]) -> None:
    failure = FailureItem(source="hub", url="http://x.cn/", reason="timeout")
    assert run_chain(chain, failure) is failure


def test_duplicate_canonical_url_is_dropped_within_a_run() -> None:
    dedupe = DedupePipeline()
    first = page("http://a.cn/x?b=1&a=2", "")
    first.canonical_url = "http://a.cn/x?a=2&b=1"
    again = page("http://a.cn/x?a=2&b=1", "")
    again.canonical_url = first.canonical_url
    assert dedupe.process_item(first) is first
    with pytest.raises(DropItem, match="duplicate_url"):
        dedupe.process_item(again)


def test_one_bad_row_never_loses_the_others(chain: list[Any], sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        run = repository.start_run(s, source)
        source_id, run_id = source.id, run.id
    writer = PageWriter(sessions, run_id=run_id, source_id=source_id)
    good = run_chain(chain, page("http://www.hz-guahao.cn/1", SCALPER))
    unscored = page("http://www.hz-guahao.cn/2", SCALPER)  # skipped the pipelines: cannot be stored
    unscored.canonical_url = "http://www.hz-guahao.cn/2"
    notice = run_chain(chain, page("http://www.hz-guahao.cn/3", NOTICE))
    failure = FailureItem(source="hub", url="http://www.hz-guahao.cn/4", reason="http_404", http_status=404)
    writer.write([good, unscored, notice, failure])
    assert writer.counts == {
        "pages_stored": 2,
        "pages_new": 2,
        "hits_new": 1,
        "failures_stored": 1,
        "serp_results_stored": 0,
        "store_errors": 1,
    }
    with sessions() as s:
        assert sorted(p.url for p in s.scalars(select(Page))) == [
            "http://www.hz-guahao.cn/1",
            "http://www.hz-guahao.cn/3",
        ]
        assert len(s.scalars(select(Hit)).all()) == 1
        assert s.scalars(select(FetchFailure.reason)).all() == ["http_404"]


def test_store_pipeline_batches_and_flushes_on_close(chain: list[Any], write_config: Any) -> None:
    from pipelines.store import StorePipeline
    from storage.db import make_engine, make_sessionmaker, upgrade

    config = write_config()
    engine = make_engine(config.database_url)
    upgrade(engine)
    store = StorePipeline(config.database_url, run_id=None, source={"name": "hub", "kind": "site"}, batch_size=2)
    store.open_spider()
    items = [run_chain(chain, page(f"http://www.hz-guahao.cn/{n}", SCALPER)) for n in range(5)]

    async def feed() -> None:
        for item in items:
            await store.process_item(item)
        assert len(store.buffer) == 1  # two batches of two written, one item waiting
        await store.close_spider()

    asyncio.run(feed())
    with make_sessionmaker(engine)() as s:
        assert len(s.scalars(select(Page)).all()) == 5
        if s.get_bind().dialect.name == "sqlite":
            assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
