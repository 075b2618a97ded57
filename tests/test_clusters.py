"""Operator clusters: pages on different domains sharing a contact become one cluster, keys and ids stay put
between runs, a vanished link splits a cluster, official hotlines link nothing; and ``touthunt clusters``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

# The CLI module first, as the installed command imports it: it registers `clusters` from crawler.graph_cli.
from crawler.cli import main  # noqa: F401
from crawler.graph_cli import clusters as clusters_command
from storage import repository
from storage.clusters import cluster_detail, list_clusters, load_official_hotlines, rebuild_clusters
from storage.models import Cluster, Contact, Hit, Page, Source

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
NO_HOTLINES: tuple[str, ...] = ()


def put(s: Any, url: str, *, hit: bool = True, at: datetime = T0, **contacts: list[str]) -> Page:
    """Store (or re-store) a page at ``url`` with exactly these contacts, as a hit scoring 80 or a non-hit."""
    from crawler.domains import host_of, registrable_domain

    source = repository.ensure_source(s, "test", "site")
    host = host_of(url)
    record = repository.PageRecord(
        canonical_url=url, url=url, final_url=url, domain=host, registrable_domain=registrable_domain(host),
        title=f"标题 {host}", text="代挂号", content_hash="h" * 64, http_status=200, encoding="utf-8",
    )  # fmt: skip
    page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=at)
    score = repository.ScoreRecord(
        score=80 if hit else 10, hit=hit, category="scalper_service" if hit else None, reasons=[],
        contacts={kind: values for kind, values in contacts.items()}, lexicon_version="v",
    )  # fmt: skip
    repository.save_score(s, page, score, at=at)
    s.flush()
    return page


def rebuild(sessions: Any, **kwargs: Any) -> Any:
    with sessions.begin() as s:
        return rebuild_clusters(s, ignored_values=kwargs.pop("ignored_values", NO_HOTLINES), now=T0, **kwargs)


def state(sessions: Any) -> dict[str, tuple[int, list[str]]]:
    """key -> (cluster id, sorted hosts of its pages)."""
    with sessions() as s:
        out = {}
        for cluster in s.scalars(select(Cluster)):
            hosts = sorted(p.domain for p in s.scalars(select(Page).where(Page.cluster_id == cluster.id)))
            out[cluster.key] = (cluster.id, hosts)
        return out


@pytest.fixture
def operator(sessions: Any) -> Any:
    """Two scalper sites sharing a WeChat ID, a forum post sharing one site's phone, and bystanders."""
    with sessions.begin() as s:
        put(s, "http://www.hzguahao-vip.com/", mobile=["13957126048"], wechat=["hzgh_vip888"])
        put(s, "http://www.mingyihao88.com/", wechat=["hzgh_vip888"], qq=["2876504132"])
        put(s, "http://bbs.jiankang-luntan.cn/thread-1.html", hit=False, mobile=["13957126048"])
        put(s, "http://www.other-scalper.cn/", mobile=["18600000001"])  # a hit sharing nothing
        put(s, "http://hz.fenlei-xinxi.com/jiazheng/1.shtml", hit=False, mobile=["13819547360"])
        put(s, "http://hz.fenlei-xinxi.com/jiazheng/2.shtml", hit=False, mobile=["13819547360"])  # no hit
    return sessions


def test_pages_sharing_contacts_form_one_cluster(operator: Any) -> None:
    stats = rebuild(operator)
    assert (stats.clusters, stats.pages, stats.created, stats.deleted) == (1, 3, 1, 0)
    [(key, (_id, hosts))] = state(operator).items()
    assert key == "mobile:13957126048"  # the smallest contact linking two of its pages
    assert hosts == ["bbs.jiankang-luntan.cn", "www.hzguahao-vip.com", "www.mingyihao88.com"]
    with operator() as s:
        [summary] = list_clusters(s)
        assert (summary.page_count, summary.domain_count, summary.contact_count) == (3, 3, 3)
        assert summary.newest_hit == T0
        assert set(summary.top_domains) <= {"hzguahao-vip.com", "mingyihao88.com", "jiankang-luntan.cn"}
        assert len(summary.top_domains) == 3
        assert list_clusters(s, min_domains=4) == [] and list_clusters(s, min_pages=4) == []


def test_rebuilding_again_changes_nothing(operator: Any) -> None:
    rebuild(operator)
    before = state(operator)
    stats = rebuild(operator)
    assert (stats.created, stats.changed, stats.deleted, stats.pages_moved) == (0, 0, 0, 0)
    assert state(operator) == before


def test_a_growing_cluster_keeps_its_key_and_id(operator: Any) -> None:
    rebuild(operator)
    [(key, (cluster_id, _))] = state(operator).items()
    with operator.begin() as s:
        # a new page shares the QQ and a contact smaller than the current key
        put(s, "http://m.kanbing-bang.net/kefu.html", qq=["2876504132"], mobile=["13000000000"])
        put(s, "http://m.kanbing-bang.net/", mobile=["13000000000"], hit=False)
    stats = rebuild(operator)
    assert (stats.created, stats.changed, stats.deleted) == (0, 1, 0)
    after = state(operator)
    assert list(after) == [key] and after[key][0] == cluster_id
    assert len(after[key][1]) == 5


def test_removing_the_shared_contact_splits_the_cluster(operator: Any) -> None:
    rebuild(operator)
    [(key, (cluster_id, _))] = state(operator).items()
    with operator.begin() as s:
        # the forum post is re-crawled without the phone, and a second post links the other site
        put(s, "http://bbs.jiankang-luntan.cn/thread-1.html", hit=False)
        put(s, "http://bbs.jiankang-luntan.cn/thread-2.html", hit=False, qq=["2876504132"])
    stats = rebuild(operator)
    after = state(operator)
    # the WeChat ID still links the two sites: the cluster survives under a new key, with the same id
    assert stats.deleted == 0 and key not in after
    assert after["qq:2876504132"] == (cluster_id, ["bbs.jiankang-luntan.cn", "www.hzguahao-vip.com",
                                                   "www.mingyihao88.com"])  # fmt: skip
    with operator.begin() as s:
        put(s, "http://www.mingyihao88.com/", qq=["2876504132"])  # the WeChat ID is gone: the sites part
    stats = rebuild(operator)
    after = state(operator)
    assert list(after) == ["qq:2876504132"] and after["qq:2876504132"][0] == cluster_id
    assert after["qq:2876504132"][1] == ["bbs.jiankang-luntan.cn", "www.mingyihao88.com"]
    with operator() as s:
        assert s.get(Page, 1).cluster_id is None  # www.hzguahao-vip.com is on its own now


def test_clusters_that_vanish_are_deleted(operator: Any) -> None:
    rebuild(operator)
    with operator.begin() as s:
        put(s, "http://www.mingyihao88.com/")
        put(s, "http://bbs.jiankang-luntan.cn/thread-1.html", hit=False)
    stats = rebuild(operator)
    assert (stats.clusters, stats.deleted) == (0, 1)
    with operator() as s:
        assert s.scalar(select(func.count(Cluster.id))) == 0
        assert s.scalar(select(func.count(Page.id)).where(Page.cluster_id.is_not(None))) == 0


def test_two_clusters_joined_by_a_new_page_merge_into_the_smaller_key(operator: Any) -> None:
    with operator.begin() as s:
        put(s, "http://a.example.cn/", wechat=["zz_other"])
        put(s, "http://b.example.cn/", wechat=["zz_other"])
    rebuild(operator)
    assert set(state(operator)) == {"mobile:13957126048", "wechat:zz_other"}
    with operator.begin() as s:
        put(s, "http://bridge.example.cn/", wechat=["zz_other"], qq=["2876504132"])
    stats = rebuild(operator)
    after = state(operator)
    assert list(after) == ["mobile:13957126048"] and len(after["mobile:13957126048"][1]) == 6
    assert stats.deleted == 1


def test_official_hotlines_link_nothing(sessions: Any, tmp_path: Path) -> None:
    with sessions.begin() as s:
        put(s, "http://www.scalper-a.cn/", landline=["0569-85301111"], mobile=["13900000001"])
        put(s, "http://www.scalper-b.cn/", landline=["0569-85301111"], mobile=["13900000002"])
    assert rebuild(sessions, ignored_values=["(0569) 8530 1111"]).clusters == 0
    assert rebuild(sessions).clusters == 1  # without the list they would be one operator
    path = tmp_path / "hotlines.txt"
    path.write_text("# 瀚州市人民医院\n0569-8530 1111\t预约咨询\n12320  # health hotline\n", encoding="utf-8")
    assert load_official_hotlines(path) == {"056985301111", "12320"}
    assert load_official_hotlines(tmp_path / "missing.txt") == frozenset()
    assert rebuild(sessions, ignored_values=load_official_hotlines(path)).clusters == 0


def test_dismissed_hits_do_not_seed_clusters(sessions: Any) -> None:
    with sessions.begin() as s:
        put(s, "http://news.example.cn/1.html", mobile=["13900000003"])
        put(s, "http://news.example.cn/2.html", hit=False, mobile=["13900000003"])
        for hit in s.scalars(select(Hit)):
            hit.status = "dismissed"
    assert rebuild(sessions).clusters == 0


def test_cluster_detail_lists_pages_contacts_and_scores(operator: Any) -> None:
    rebuild(operator)
    with operator() as s:
        detail = cluster_detail(s, "mobile:13957126048", ignored_values=NO_HOTLINES)
        assert cluster_detail(s, "mobile:00000000000") is None
    assert detail is not None
    assert detail.shared == ("mobile:13957126048", "wechat:hzgh_vip888")
    assert [(p.domain, p.hit_score) for p in detail.pages][-1] == ("bbs.jiankang-luntan.cn", None)
    first = detail.pages[0]
    assert first.hit_score == 80 and first.hit_status == "new" and first.hit_category == "scalper_service"
    assert detail.pages[-1].contacts == {"mobile": ["13957126048"]}


def test_many_pages_rebuild_quickly(sessions: Any) -> None:
    from sqlalchemy import insert

    with sessions.begin() as s:
        source_id = s.execute(insert(Source).values(name="bulk", kind="site").returning(Source.id)).scalar_one()
        pages = [
            {"id": i, "canonical_url": f"http://s{i % 500}.cn/{i}", "url": f"http://s{i % 500}.cn/{i}",
             "final_url": f"http://s{i % 500}.cn/{i}", "domain": f"s{i % 500}.cn",
             "registrable_domain": f"s{i % 500}.cn", "content_hash": "h", "http_status": 200, "encoding": "utf-8",
             "source_id": source_id}
            for i in range(1, 20001)
        ]  # fmt: skip
        s.execute(insert(Page), pages)
        s.execute(
            insert(Contact), [{"page_id": i, "kind": "mobile", "value": f"139{i // 4:08d}"} for i in range(1, 20001)]
        )
        s.execute(insert(Hit), [{"page_id": i, "score": 80, "category": "scalper_service", "lexicon_version": "v"}
                                for i in range(1, 20001, 4)])  # fmt: skip
    import time

    started = time.perf_counter()
    stats = rebuild(sessions)
    assert time.perf_counter() - started < 10
    assert stats.clusters > 4000 and stats.pages > 15000
    assert rebuild(sessions).pages_moved == 0


# -- the command ---------------------------------------------------------------------------------------------


@pytest.fixture
def config_file(operator: Any, tmp_path: Path, database_url: str) -> Path:
    # the `sessions` fixture's config.yaml (this test's database) in tmp_path, with no official hotlines
    path = tmp_path / "config.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["database"]["url"] == database_url
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(clusters_command, list(args), catch_exceptions=False)


def test_cli_lists_clusters_as_table_and_json(config_file: Path) -> None:
    result = invoke("--config", str(config_file))
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[0].split()[0] == "团伙键"  # nothing stored before a rebuild
    assert "共 0 个团伙" in result.stderr

    result = invoke("--config", str(config_file), "--rebuild")
    assert result.exit_code == 0, result.output
    assert "已重建团伙: 1 个团伙, 3 个页面" in result.stderr
    header, _rule, row = result.stdout.strip().splitlines()
    assert header.split() == ["团伙键", "页面", "域名", "联系方式", "最新命中", "主要域名"]
    assert row.split()[:4] == ["mobile:13957126048", "3", "3", "3"]
    assert "2026-11-20 09:00" in row  # China time
    assert "共 1 个团伙" in result.stderr

    rows = json.loads(invoke("--config", str(config_file), "--format", "json", "--min-domains", "2").stdout)
    assert [r["key"] for r in rows] == ["mobile:13957126048"]
    assert rows[0]["newest_hit"] == "2026-11-20T09:00:00+08:00" and len(rows[0]["top_domains"]) == 3
    assert json.loads(invoke("--config", str(config_file), "--format", "json", "--min-pages", "4").stdout) == []


def test_cli_shows_one_cluster(config_file: Path) -> None:
    invoke("--config", str(config_file), "--rebuild")
    result = invoke("--config", str(config_file), "--show", "mobile:13957126048")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("团伙 mobile:13957126048  页面 3  域名 3  联系方式 3")
    assert lines[1] == "共用联系方式 mobile:13957126048 wechat:hzgh_vip888"
    assert lines[3].split() == ["页面", "评分", "类别", "状态", "域名", "联系方式", "网址"]
    assert any("80" in line and "号贩子/代挂号" in line and "待审核" in line for line in lines[5:])
    assert any("未命中" in line and "http://bbs.jiankang-luntan.cn/thread-1.html" in line for line in lines[5:])

    detail = json.loads(invoke("--config", str(config_file), "--show", "mobile:13957126048", "--format", "json").stdout)
    assert detail["summary"]["key"] == "mobile:13957126048" and len(detail["pages"]) == 3

    missing = CliRunner().invoke(clusters_command, ["--config", str(config_file), "--show", "qq:1"])
    assert missing.exit_code == 1 and "没有团伙 qq:1" in missing.stderr


def test_cli_timestamps_follow_cluster_updates(config_file: Path, operator: Any) -> None:
    invoke("--config", str(config_file), "--rebuild")
    with operator.begin() as s:
        put(s, "http://www.third.cn/", wechat=["hzgh_vip888"], at=T0 + timedelta(days=1))
    result = invoke("--config", str(config_file), "--rebuild", "--format", "json")
    [row] = json.loads(result.stdout)
    assert row["page_count"] == 4 and row["newest_hit"] == "2026-11-21T09:00:00+08:00"
