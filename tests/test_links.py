"""Known-bad lists and the link signal: forgiving parsing, pages on and linking to bad sites, official pages
exempt; and the known-bad sites the database's confirmed hits make."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keywords.links import (
    ON_BAD_DOMAIN_WEIGHT,
    ON_BAD_URL_WEIGHT,
    TO_BAD_WEIGHT,
    KnownBad,
    LinkSignal,
    load_known_bad,
    normalise_host,
    url_key,
)
from keywords.lookalike import load_hospitals
from keywords.normalisation import normalise
from keywords.signals import ImageText, PageInput, SignalReason
from storage import repository
from storage.intel import known_bad_from_db

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
OFFICIAL = ("gov.cn", "guahao.com", "huashan.org.cn")

ANALYST_FILE = """\
# analyst's list, 2026-11
HTTP://WWW.Bad-Guahao.COM/
bad2.cn/          # a second site
https://weibo.com/u/123/?b=2&a=1
m.shop.example.cn
医院.中国

"""


@pytest.fixture(scope="module")
def known() -> KnownBad:
    return KnownBad.from_lines(ANALYST_FILE.splitlines())


@pytest.fixture(scope="module")
def signal(known: KnownBad) -> LinkSignal:
    return LinkSignal(known, load_hospitals(), official_domains=OFFICIAL)


def evaluate(signal: LinkSignal, url: str | None, *, text: str = "页面", links: tuple[str, ...] = (),
             images: tuple[ImageText, ...] = ()) -> list[SignalReason]:  # fmt: skip
    page = PageInput(text=text, url=url, links=links, image_texts=images)
    return list(signal.evaluate(page, normalise(text)).reasons)


def test_known_bad_file_is_parsed_forgivingly(known: KnownBad) -> None:
    assert known.domains == {"bad-guahao.com", "bad2.cn", "xn--ekrs67m.xn--fiqs8s"}
    assert known.hosts == {"m.shop.example.cn"}
    assert known.urls == {"weibo.com/u/123?a=1&b=2"}
    assert len(known) == 5 and known


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://bad-guahao.com/lianxi.html", "domain"),
        ("https://M.BAD-GUAHAO.COM:8080/", "domain"),
        ("http://www.bad2.cn", "domain"),
        ("https://weibo.com/u/123?a=1&b=2", "url"),
        ("http://www.weibo.com/u/123/?b=2&a=1#top", "url"),
        ("http://a.m.shop.example.cn/item", "host"),
        ("http://www.医院.中国/", "domain"),
        ("http://xn--ekrs67m.xn--fiqs8s/x", "domain"),
        ("http://weibo.com/u/1234", None),
        ("http://shop.example.cn/", None),
        ("http://good-guahao.com/", None),
        ("not a url", None),
    ],
)
def test_known_bad_match(known: KnownBad, url: str, kind: str | None) -> None:
    found = known.match(url)
    assert (found.kind if found else None) == kind


def test_url_key_and_host_normalisation() -> None:
    assert url_key("HTTP://WWW.A.cn/p/?z=1&a=2") == url_key("a.cn/p?a=2&z=1") == "a.cn/p?a=2&z=1"
    assert normalise_host("WWW.医院.中国.") == "xn--ekrs67m.xn--fiqs8s"
    assert url_key("http:///nohost") is None


def test_lists_merge_and_bundled_list_loads(tmp_path: Path, known: KnownBad) -> None:
    bundled = load_known_bad()
    assert bundled.match("http://www.bjguahao.net.cn/") is not None
    path = tmp_path / "bad.txt"
    path.write_text("\ufeffextra-bad.cn\n", encoding="utf-8")
    merged = load_known_bad(path, None)
    assert merged.match("http://extra-bad.cn/") and merged.match("http://shhuashan.com/")
    assert not load_known_bad(path, bundled=False).match("http://shhuashan.com/")
    assert (known | bundled).domains >= known.domains | bundled.domains


def test_page_on_a_known_bad_site_or_url(signal: LinkSignal) -> None:
    [reason] = evaluate(signal, "http://www.bad-guahao.com/jiage.html")
    assert reason.rule_id == "link.on_known_bad" and reason.kind == "core"
    assert reason.weight == ON_BAD_DOMAIN_WEIGHT and (reason.start, reason.end) == (-1, -1)
    assert reason.categories == ("scalper_service",)
    [reason] = evaluate(signal, "https://weibo.com/u/123?b=2&a=1")
    assert reason.weight == ON_BAD_URL_WEIGHT
    assert evaluate(signal, "https://weibo.com/u/999") == []


def test_page_linking_to_known_bad_sites_scales_with_distinct_domains(signal: LinkSignal) -> None:
    links = (
        "http://www.bad-guahao.com/a.html",
        "http://bad-guahao.com/b.html",  # same bad domain again: one reason
        "http://www.jiachang-caipu.com/",
        "http://bad2.cn/",
        "http://weibo.com/u/123",  # not the listed post
        "http://weibo.com/u/123?a=1&b=2",
    )
    reasons = evaluate(signal, "http://hub.example.net/links.html", links=links)
    assert [r.rule_id for r in reasons] == ["link.to_known_bad"] * 3
    assert [r.text for r in reasons] == [
        "http://www.bad-guahao.com/a.html",
        "http://bad2.cn/",
        "http://weibo.com/u/123?a=1&b=2",
    ]
    assert [r.weight for r in reasons] == [TO_BAD_WEIGHT, TO_BAD_WEIGHT / 2, TO_BAD_WEIGHT / 4]
    assert all(r.kind == "core" and r.start == r.end == -1 for r in reasons)
    one = evaluate(signal, "http://hub.example.net/", links=links[:1])
    assert sum(r.weight for r in reasons) > sum(r.weight for r in one) > 0


def test_a_qr_code_pointing_at_a_bad_site_counts_as_a_link(signal: LinkSignal) -> None:
    images = (ImageText("a.png", "qr", "http://bad2.cn/pay?id=9"), ImageText("b.png", "ocr", "http://bad-guahao.com"))
    reasons = evaluate(signal, "http://post.example.net/1", images=images)
    assert [r.text for r in reasons] == ["http://bad2.cn/pay?id=9"]


def test_links_inside_the_bad_site_itself_are_not_counted_twice(signal: LinkSignal) -> None:
    reasons = evaluate(signal, "http://bad-guahao.com/", links=("http://bad-guahao.com/lianxi.html", "http://bad2.cn/"))
    assert [(r.rule_id, r.text) for r in reasons] == [
        ("link.on_known_bad", "http://bad-guahao.com/"),
        ("link.to_known_bad", "http://bad2.cn/"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://wsjkw.hanjiang.gov.cn/notice.html",  # government: its links to bad sites are warnings
        "https://www.guahao.com/news/1",  # an allow-listed booking platform
        "http://www.hzsrmyy.org.cn/xwzx/tzgg/2025/0402.html",  # a listed hospital's own domain
    ],
)
def test_official_pages_get_no_link_evidence(signal: LinkSignal, url: str) -> None:
    assert evaluate(signal, url, links=("http://bad-guahao.com/", "http://bad2.cn/")) == []


def test_a_link_to_an_official_site_is_never_bad() -> None:
    listed_by_mistake = KnownBad.from_lines(["hanjiang.gov.cn", "bad2.cn"])
    signal = LinkSignal(listed_by_mistake, official_domains=OFFICIAL)
    reasons = evaluate(signal, "http://hub.example.net/", links=("http://wsjkw.hanjiang.gov.cn/", "http://bad2.cn/"))
    assert [r.text for r in reasons] == ["http://bad2.cn/"]


def test_no_url_still_reads_links_and_empty_list_gives_nothing(signal: LinkSignal) -> None:
    assert [r.rule_id for r in evaluate(signal, None, links=("http://bad2.cn/",))] == ["link.to_known_bad"]
    empty = LinkSignal(KnownBad(), official_domains=OFFICIAL)
    assert evaluate(empty, "http://bad2.cn/", links=("http://bad2.cn/",)) == []


def test_default_official_domains_come_from_the_bundled_lexicon(known: KnownBad) -> None:
    signal = LinkSignal(known)
    assert signal.name == "links"
    assert signal.is_official("http://www.nhc.gov.cn/") and not signal.is_official("http://bad2.cn/")


def test_the_signal_is_bounded_on_link_heavy_pages(signal: LinkSignal) -> None:
    links = (*(f"http://site{i}.example.org/" for i in range(20000)), "http://bad2.cn/")
    # only the first links are read, and a page with thousands of harmless links gives nothing
    assert evaluate(signal, "http://hub.example.net/", links=links) == []


# -- known-bad from confirmed hits ---------------------------------------------------------------------------


def _store(s: Any, source_id: int, url: str, *, status: str | None) -> None:
    from crawler.domains import host_of, registrable_domain

    host = host_of(url)
    record = repository.PageRecord(
        canonical_url=url, url=url, final_url=url, domain=host, registrable_domain=registrable_domain(host),
        title="t", text="代挂号", content_hash="h" * 64, http_status=200, encoding="utf-8",
    )  # fmt: skip
    page, _ = repository.upsert_page(s, record, source_id=source_id, run_id=None, seen_at=T0)
    if status is None:
        return
    score = repository.ScoreRecord(score=80, hit=True, category="scalper_service", reasons=[], contacts={},
                                   lexicon_version="v")  # fmt: skip
    hit, _ = repository.save_score(s, page, score, at=T0)
    assert hit is not None
    hit.status = status


def test_known_bad_from_confirmed_hits(sessions: Any) -> None:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "t", "site")
        _store(s, source.id, "http://www.confirmed-guahao.com/lianxi.html", status="confirmed")
        _store(s, source.id, "https://weibo.com/u/7788", status="confirmed")
        _store(s, source.id, "http://tieba.baidu.com/p/42?pid=1", status="confirmed")
        _store(s, source.id, "http://new-hit.cn/", status="new")
        _store(s, source.id, "http://dismissed.cn/", status="dismissed")
        _store(s, source.id, "http://no-hit.cn/", status=None)
    with sessions() as s:
        known = known_bad_from_db(s)
        custom = known_bad_from_db(s, platforms=["confirmed-guahao.com"])
    assert known.domains == {"confirmed-guahao.com"}
    assert known.urls == {"weibo.com/u/7788", "tieba.baidu.com/p/42?pid=1"}
    assert known.match("http://m.confirmed-guahao.com/other.html")
    assert not known.match("https://weibo.com/u/1") and not known.match("http://tieba.baidu.com/p/43")
    # a host configured as a platform: only the confirmed page, not the whole site
    assert custom.match("http://www.confirmed-guahao.com/lianxi.html")
    assert not custom.match("http://www.confirmed-guahao.com/other.html")
    assert "weibo.com" in custom.domains  # no longer a platform in this call, so its domain counts
