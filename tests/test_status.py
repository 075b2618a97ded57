"""touthunt status: the scheduler's holder, each source's schedule, next and last run and health, URLs left
to resume, the job kinds, alert deliveries; in Chinese and as JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import load_config
from storage import frontier, repository
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import AlertDelivery, CrawlRun, SchedulerLease, utcnow
from tests.conftest import database_url_for
from tests.crawlweb import source_entry

pytestmark = pytest.mark.database


def test_status_in_chinese_and_json(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    sources = [
        source_entry("forum", schedule="0 6 * * *"),
        source_entry("board", schedule="30 7 * * 1-5"),
        {**source_entry("old"), "enabled": False},
    ]
    path.write_text(
        yaml.safe_dump({"database": {"url": database_url_for(path.parent / "db.sqlite")}, "sources": sources}), "utf-8"
    )
    config = load_config(path)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    with sessions.begin() as s:
        forum = repository.ensure_source(s, "forum", "site")
        s.add(
            CrawlRun(
                source_id=forum.id,
                status="finished",
                started_at=now - timedelta(days=1),
                finished_at=now - timedelta(days=1) + timedelta(minutes=3),
                requests=120,
                items=100,
                pages_stored=98,
                hits_new=4,
                errors=3,
                source_state="ok",
            )
        )
        s.add(
            CrawlRun(
                source_id=forum.id,
                status="interrupted",
                started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(minutes=50),
                requests=40,
                items=30,
                pages_stored=30,
                blocked=5,
                source_state=None,
                message="crawl stopped at the time limit of 600 s; the next run resumes it",
            )
        )
        frontier.settle(
            s, forum.id, None, added=[frontier.Entry(key=f"k{i}", url=f"http://f.cn/{i}") for i in range(7)]
        )
        s.add(
            SchedulerLease(
                name="scheduler",
                token="t",
                host="monitor-01",
                pid=4242,
                acquired_at=now - timedelta(hours=2),
                heartbeat_at=now,
                expires_at=now + timedelta(minutes=1),
            )
        )
        s.add(
            AlertDelivery(
                kind="urgent_hit",
                channel="dingtalk",
                target="oapi.dingtalk.com",
                status="failed",
                error="oapi.dingtalk.com answered HTTP 500",
                dedupe_key="urgent_hit:1",
                title="t",
            )
        )
        s.add(
            AlertDelivery(
                kind="urgent_hit",
                channel="email",
                target="a@hz.example",
                status="sent",
                error="",
                dedupe_key="urgent_hit:1",
                title="t",
            )
        )
    engine.dispose()

    result = CliRunner().invoke(main, ["status", "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "调度器：运行中（主机 monitor-01，进程 4242" in out
    forum_line = next(line for line in out.splitlines() if line.startswith("  forum"))
    assert "计划 0 6 * * *" in forum_line and "已中断" in forum_line and "待续抓 7 个网址" in forum_line
    assert "拦截 5" in forum_line
    assert "crawl stopped at the time limit" in out
    assert "board  计划 30 7 * * 1-5" in out and "从未运行" in out
    assert "old  已停用" in out
    assert "每日简报（digest）  计划 0 8 * * *" in out
    assert "近24小时告警投递：成功 1 次，失败 1 次" in out and "answered HTTP 500" in out

    as_json = CliRunner().invoke(main, ["status", "--config", str(path), "--json"], catch_exceptions=False)
    data = json.loads(as_json.output)
    assert data["scheduler"]["running"] and data["scheduler"]["pid"] == 4242
    by_name = {s["name"]: s for s in data["sources"]}
    assert by_name["forum"]["recent_statuses"] == ["interrupted", "finished"]
    assert by_name["forum"]["last_run"]["blocked"] == 5 and by_name["forum"]["resume_pending_urls"] == 7
    assert by_name["forum"]["next_run"].endswith("T06:00:00+08:00") and by_name["forum"]["next_run_from"] == "config"
    board_next = by_name["board"]["next_run"]
    assert board_next.endswith("T07:30:00+08:00")
    assert by_name["old"]["next_run"] is None
    assert data["alerts_24h"] == {"sent": 1, "failed": 1}


def test_status_without_scheduler_says_so(write_config: Any) -> None:
    config = write_config({"sources": [source_entry("forum")]})
    result = CliRunner().invoke(main, ["status", "--config", str(config.base_dir / "config.yaml")])
    assert result.exit_code == 0
    assert "调度器：未运行" in result.output and "从未运行" in result.output
