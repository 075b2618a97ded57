"""Repository functions: upserts never duplicate pages or hits, contacts follow the latest crawl, runs are
closed with counts, exports record what was referred. Functions never commit: the test owns the transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from storage import repository
from storage.models import Contact, Hit, Page

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def record(url: str = "http://www.a-guahao.cn/", text: str = "代挂号") -> repository.PageRecord:
    return repository.PageRecord(
        canonical_url=url, url=url, final_url=url, domain="www.a-guahao.cn", registrable_domain="a-guahao.cn",
        title="t", text=text, content_hash="h" * 64, http_status=200, encoding="utf-8",
    )  # fmt: skip


def score(value: int, hit: bool, mobiles: list[str]) -> repository.ScoreRecord:
    return repository.ScoreRecord(
        score=value, hit=hit, category="scalper_service" if hit else None,
        reasons=[{"rule_id": "service.代挂号", "text": "代挂号", "start": 0, "end": 3, "weight": 30.0}],
        contacts={"mobile": mobiles, "wechat": [], "qq": []}, lexicon_version="v1",
    )  # fmt: skip


def test_recrawl_updates_last_seen_and_never_duplicates(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        run1 = repository.start_run(s, source)
        page, created = repository.upsert_page(s, record(), source_id=source.id, run_id=run1.id, seen_at=T0)
        assert created
        hit, hit_created = repository.save_score(s, page, score(80, True, ["13912345678"]), at=T0)
        assert hit is not None and hit_created
    later = T0 + timedelta(days=1)
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        run2 = repository.start_run(s, source)
        page, created = repository.upsert_page(s, record(), source_id=source.id, run_id=run2.id, seen_at=later)
        assert not created
        hit, hit_created = repository.save_score(s, page, score(85, True, ["13912345678", "18612345678"]), at=later)
        assert hit is not None and not hit_created
    with sessions() as s:
        assert s.scalar(select(func.count(Page.id))) == 1
        assert s.scalar(select(func.count(Hit.id))) == 1
        page = s.scalars(select(Page)).one()
        assert page.first_seen == T0 and page.last_seen == later
        assert page.first_run_id == run1.id and page.last_run_id == run2.id
        assert sorted(c.value for c in s.scalars(select(Contact))) == ["13912345678", "18612345678"]
        assert s.scalars(select(Hit)).one().score == 85


def test_reviewed_status_survives_a_recrawl(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        page, _ = repository.upsert_page(s, record(), source_id=source.id, run_id=None, seen_at=T0)
        hit, _ = repository.save_score(s, page, score(80, True, []), at=T0)
        assert hit is not None
        hit.status = "dismissed"
    with sessions.begin() as s:
        page, _ = repository.upsert_page(s, record(), source_id=source.id, run_id=None, seen_at=T0)
        repository.save_score(s, page, score(90, True, []), at=T0)
    with sessions() as s:
        assert s.scalars(select(Hit)).one().status == "dismissed"


def test_page_below_threshold_is_stored_without_hit(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        page, _ = repository.upsert_page(s, record(), source_id=source.id, run_id=None, seen_at=T0)
        hit, created = repository.save_score(s, page, score(10, False, ["13912345678"]), at=T0)
        assert hit is None and not created
    with sessions() as s:
        assert s.scalar(select(func.count(Hit.id))) == 0
        assert s.scalar(select(func.count(Contact.id))) == 1


def test_finish_run_counts_what_the_run_stored(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        run = repository.start_run(s, source)
        for n in range(3):
            repository.upsert_page(s, record(f"http://a.cn/{n}"), source_id=source.id, run_id=run.id, seen_at=T0)
        repository.record_failure(s, run_id=run.id, url="http://a.cn/x", reason="http_404", http_status=404)
        run = repository.finish_run(
            s, run.id, status="finished", pages_fetched=5, hits_new=1, error_reasons={"http_404": 1, "binary": 1}
        )
        assert (run.pages_stored, run.errors, run.hits_new) == (3, 2, 1)
        assert run.finished_at is not None
        assert [f.reason for f in repository.run_failures(s, run.id)] == ["http_404"]


def test_list_hits_window_and_export_bookkeeping(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        for n, at in enumerate((T0, T0 + timedelta(days=1))):
            page, _ = repository.upsert_page(
                s, record(f"http://a.cn/{n}"), source_id=source.id, run_id=None, seen_at=at
            )
            repository.save_score(s, page, score(60 + n, True, []), at=at)
    with sessions() as s:
        assert [h.score for h in repository.list_hits(s)] == [61, 60]
        assert [h.score for h in repository.list_hits(s, since=T0 + timedelta(hours=1))] == [61]
        assert [h.score for h in repository.list_hits(s, until=T0 + timedelta(hours=1))] == [60]
        assert repository.list_hits(s, min_score=62) == []
    with sessions.begin() as s:
        hits = repository.unreferred_hits(s, "miit")
        assert len(hits) == 2
        repository.record_export(s, authority="miit", path="x.csv", sha256="0" * 64, hits=hits[:1], at=T0)
    with sessions() as s:
        assert [h.score for h in repository.unreferred_hits(s, "miit")] == [61]
        assert len(repository.unreferred_hits(s, "cac")) == 2


def test_links_identifiers_and_contact_sources_follow_the_latest_crawl(sessions: Any) -> None:
    from dataclasses import replace

    from storage.models import Identifier, PageLink

    rec = replace(record(), links=[("http://partner.cn/a", "partner.cn"), ("http://www.b.com/", "b.com")])
    sc = replace(
        score(80, True, ["13912345678"]),
        contacts={"mobile": ["13912345678"], "wechat": ["gh_qr01"], "qq": []},
        contact_sources={"wechat:gh_qr01": "qr"},
        identifiers=[{"kind": "icp", "value": "京ICP备12345678号", "valid": True}],
    )
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        page, _ = repository.upsert_page(s, rec, source_id=source.id, run_id=None, seen_at=T0)
        repository.save_score(s, page, sc, at=T0)
    with sessions() as s:
        assert {(c.kind, c.value, c.found_in) for c in s.scalars(select(Contact))} == {
            ("mobile", "13912345678", "text"), ("wechat", "gh_qr01", "qr"),
        }  # fmt: skip
        assert [(i.kind, i.valid) for i in s.scalars(select(Identifier))] == [("icp", True)]
        assert sorted(link.registrable_domain for link in s.scalars(select(PageLink))) == ["b.com", "partner.cn"]
    with sessions.begin() as s:
        page, _ = repository.upsert_page(s, replace(rec, links=[("http://www.b.com/", "b.com")]), source_id=source.id,
                                         run_id=None, seen_at=T0)  # fmt: skip
        repository.save_score(s, page, replace(sc, identifiers=[]), at=T0)
    with sessions() as s:
        assert s.scalars(select(PageLink.url)).all() == ["http://www.b.com/"]
        assert s.scalars(select(Identifier)).all() == []
