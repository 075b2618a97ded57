"""``touthunt sources``: per configured source, the latest run's health figures and the age of the last good
item, as a table with Chinese headers and as JSON; sources that never ran say so."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import load_config
from crawler.sources_cli import age_text, health_rows
from storage import repository
from storage.db import make_engine, make_sessionmaker, upgrade
from tests.conftest import database_url_for

pytestmark = pytest.mark.database

SOURCES = [
    {"name": "sousuo", "kind": "search", "search": {"queries": ["瀚州 代挂号"]}},
    {"name": "bianmin", "kind": "classifieds", "start_urls": ["http://www.hzbianmin.com/jiankang/"],
     "classifieds": {"list_item_selector": "ul#infolist > li"}},
    {"name": "never", "start_urls": ["http://www.hzxww.cn/"], "enabled": False, "obey_robots": False},
]  # fmt: skip


def page(url: str) -> repository.PageRecord:
    return repository.PageRecord(
        canonical_url=url, url=url, final_url=url, domain="www.x.cn", registrable_domain="x.cn", title="t",
        text="t", content_hash="h" * 64, http_status=200, encoding="utf-8", redirect_chain=[], depth=0,
        referer=None, links=[],
    )  # fmt: skip


def setup(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"database": {"url": database_url_for(tmp_path / "db.sqlite")}, "sources": SOURCES}), "utf-8"
    )
    config = load_config(path)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        search = repository.ensure_source(s, "sousuo", "search")
        good = repository.start_run(s, search)
        repository.upsert_page(s, page("http://a.x.cn/"), source_id=search.id, run_id=good.id,
                               seen_at=datetime.now(UTC) - timedelta(hours=5))  # fmt: skip
        ok = repository.RunHealth(requests=9, items=1, source_state="ok", robots_obeyed=True)
        repository.finish_run(s, good.id, status="finished", pages_fetched=3, hits_new=1, health=ok)
        bad = repository.start_run(s, search)
        repository.finish_run(
            s, bad.id, status="finished", pages_fetched=2, hits_new=0, error_reasons={"parser_failure": 2},
            health=repository.RunHealth(requests=4, items=0, source_state="parser_failure", robots_obeyed=True,
                                        extra={"serp_parser_failures_baidu": 2}),
        )  # fmt: skip
        classifieds = repository.ensure_source(s, "bianmin", "classifieds")
        walled = repository.start_run(s, classifieds)
        wall = repository.RunHealth(requests=2, blocked=1, source_state="login_wall")
        repository.finish_run(s, walled.id, status="finished", pages_fetched=1, error_reasons={}, health=wall)
    engine.dispose()
    return path


def test_table_has_chinese_headers_and_one_row_per_configured_source(tmp_path: Path) -> None:
    path = setup(tmp_path)
    result = CliRunner().invoke(main, ["sources", "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for header in ("来源", "类型", "状态", "最近运行", "请求", "页面", "条目", "新命中", "拦截", "最近有效条目"):
        assert header in lines[0]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert list(rows) == ["sousuo", "bianmin", "never"]
    assert "搜索引擎" in rows["sousuo"] and "解析失败" in rows["sousuo"] and "结果页解析失败 2" in rows["sousuo"]
    assert "5小时前" in rows["sousuo"]  # the last good item came from the earlier, good run
    assert "需要登录" in rows["bianmin"] and "从未" in rows["bianmin"]
    assert "从未运行" in rows["never"] and "(停用)" in rows["never"] and "不遵守" in rows["never"]


def test_json_gives_the_latest_run_and_last_item_age(tmp_path: Path) -> None:
    path = setup(tmp_path)
    result = CliRunner().invoke(main, ["sources", "--config", str(path), "--json"], catch_exceptions=False)
    data = {row["source"]: row for row in json.loads(result.output)}
    run = data["sousuo"]["last_run"]
    assert (run["source_state"], run["requests"], run["items"], run["error_reasons"]) == (
        "parser_failure", 4, 0, {"parser_failure": 2},
    )  # fmt: skip
    assert run["health"] == {"serp_parser_failures_baidu": 2} and run["robots_obeyed"] is True
    assert 5 * 3600 - 60 < data["sousuo"]["last_item_age_seconds"] < 5 * 3600 + 60
    assert data["bianmin"]["last_run"]["blocked"] == 1 and data["bianmin"]["last_item_at"] is None
    assert data["never"]["last_run"] is None and data["never"]["enabled"] is False


def test_age_text() -> None:
    assert [age_text(s) for s in (None, 59, 600, 7200, 3 * 86400)] == [
        "从未",
        "0分钟前",
        "10分钟前",
        "2小时前",
        "3天前",
    ]


def test_rows_follow_config_order_without_any_run(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"database": {"url": database_url_for(tmp_path / "db.sqlite")}, "sources": SOURCES}), "utf-8"
    )
    rows: list[dict[str, Any]] = health_rows(load_config(path))
    assert [r["source"] for r in rows] == ["sousuo", "bianmin", "never"] and all(r["last_run"] is None for r in rows)


def test_last_good_item_falls_back_to_the_last_run_with_items(tmp_path: Path) -> None:
    path = setup(tmp_path)
    config = load_config(path)
    engine = make_engine(config.database_url)
    with make_sessionmaker(engine).begin() as s:
        never = repository.ensure_source(s, "never", "site")
        run = repository.start_run(s, never)  # its pages were re-seen later by another source's run
        repository.finish_run(s, run.id, status="finished", health=repository.RunHealth(items=3))
    engine.dispose()
    row = next(r for r in health_rows(config) if r["source"] == "never")
    assert row["last_item_age_seconds"] is not None and row["last_item_age_seconds"] < 60
