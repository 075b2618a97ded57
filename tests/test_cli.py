"""The command line as users call it: score, hits (table/json/csv), export, db upgrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from crawler.cli import main
from storage import repository


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": database_url}}), encoding="utf-8")
    return path


def run(*args: str, input: str | None = None) -> Any:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_score_jsonl_text_html_and_bad_lines(config_file: Path, tmp_path: Path) -> None:
    records = [
        {"id": "a", "url": "http://www.hzguahao-vip.com/",
         "text": "协和医院专家号代挂，号满可加，服务费500元，加V信 gh_daigua88"},
        {"id": "b", "url": "http://www.hzguahao-vip.com/2",
         "html": "<p>代<b>挂</b>号，保证挂上，电话<span>139</span>1234 5678</p>"},
        {"id": "c", "url": "http://wsjkw.hanzhou.gov.cn/t.html",
         "text": "关于开展集中整治号贩子专项行动的通知。各地要依法查处代挂号行为。"},
    ]  # fmt: skip
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    source.write_text("\n".join([lines[0], "{broken", lines[1], "", "[1, 2]", lines[2]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("score", "--config", str(config_file), "--input", str(source), "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id", r.get("line")) for r in rows] == ["a", 2, "b", 5, "c"]
    scored = {r["id"]: r for r in rows if "id" in r}
    for row in scored.values():
        assert set(row) >= {"id", "score", "hit", "category", "reasons", "contacts"}
        assert set(row["contacts"]) == {"mobile", "wechat", "qq", "landline", "tollfree"}
        assert row["hit"] == (row["score"] >= 50)
    assert scored["a"]["hit"] and scored["a"]["category"] == "scalper_service"
    assert scored["a"]["contacts"]["wechat"] == ["gh_daigua88"]
    assert scored["b"]["hit"] and scored["b"]["contacts"]["mobile"] == ["13912345678"]
    assert not scored["c"]["hit"]
    reason = scored["a"]["reasons"][0]
    assert set(reason) == {"rule_id", "text", "start", "end", "weight"}
    assert records[0]["text"][reason["start"] : reason["end"]] == reason["text"]
    assert "invalid JSON" in rows[1]["error"]


def _populate(config_file: Path) -> None:
    from crawler.cli import open_database
    from crawler.config import load_config

    sessions = open_database(load_config(config_file))
    now = datetime.now(UTC)
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        for n, score in enumerate((45, 62, 90)):
            url = f"http://www.hzguahao-vip.com/{n}.html"
            record = repository.PageRecord(
                canonical_url=url, url=url, final_url=url, domain="www.hzguahao-vip.com",
                registrable_domain="hzguahao-vip.com", title=f"专家号{n}", text="代挂号", content_hash="0" * 64,
                http_status=200, encoding="utf-8",
            )  # fmt: skip
            page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=now)
            contacts = {"mobile": ["13912345678"], "wechat": ["gh_daigua88"], "qq": []}
            reasons = [{"rule_id": "service.代挂号", "text": "代挂号", "start": 0, "end": 3, "weight": 30.0}]
            repository.save_score(
                s, page, repository.ScoreRecord(score, True, "scalper_service", reasons, contacts, "v1"), at=now
            )
    sessions.kw["bind"].dispose()


def test_hits_json_fields_order_and_threshold(config_file: Path) -> None:
    _populate(config_file)
    result = run("hits", "--config", str(config_file), "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["score"] for r in rows] == [90, 62]  # 45 is below scoring.hit_threshold
    for row in rows:
        assert set(row) >= {"id", "url", "domain", "score", "category", "contacts", "reasons", "source", "first_seen"}
        assert row["contacts"] == {
            "mobile": ["13912345678"], "wechat": ["gh_daigua88"], "qq": [], "landline": [], "tollfree": []
        }  # fmt: skip
        assert row["first_seen"].endswith("+08:00")
    low = json.loads(run("hits", "--config", str(config_file), "--format", "json", "--min-score", "0").stdout)
    assert len(low) == 3
    none = json.loads(run("hits", "--config", str(config_file), "--format", "json", "--date", "2020-01-01").stdout)
    assert none == []
    since = json.loads(run("hits", "--config", str(config_file), "--format", "json", "--since", "2020-01-01").stdout)
    assert len(since) == 2


def test_hits_table_and_csv(config_file: Path) -> None:
    _populate(config_file)
    table = run("hits", "--config", str(config_file))
    assert table.exit_code == 0
    assert "号贩子/代挂号" in table.stdout and "http://www.hzguahao-vip.com/2.html" in table.stdout
    csv_out = CliRunner().invoke(main, ["hits", "--config", str(config_file), "--format", "csv"])
    assert csv_out.stdout_bytes.startswith("\ufeff编号,评分,类别".encode())


def test_hits_rejects_bad_dates(config_file: Path) -> None:
    result = run("hits", "--config", str(config_file), "--date", "yesterday-ish")
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_export_command_and_db_upgrade(config_file: Path, tmp_path: Path) -> None:
    assert run("db", "upgrade", "--config", str(config_file)).exit_code == 0
    _populate(config_file)
    first = run("export", "--config", str(config_file), "--authority", "miit", "--out", str(tmp_path / "out"))
    assert first.exit_code == 0 and "已导出 3 条命中 (1 行)" in first.stdout
    again = run("export", "--config", str(config_file), "--authority", "miit", "--out", str(tmp_path / "out"))
    assert "没有待移交通信管理局的命中" in again.stdout
    assert len(list((tmp_path / "out").glob("*.csv"))) == 1
