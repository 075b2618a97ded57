"""The first referral export: routing by platform, CSV bytes against golden files, referred once per authority."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.errors import ExportError
from referrals.export import export_unreferred
from referrals.platforms import authority_for, load_platforms
from storage import repository
from tests.golden_files import assert_golden

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

PAGES = [
    ("http://www.hzguahao-vip.com/", "www.hzguahao-vip.com", "hzguahao-vip.com", "瀚州专家号代挂", 88,
     {"mobile": ["13912345678"], "wechat": ["guahao668"], "qq": []}),
    ("http://www.hzguahao-vip.com/price.html", "www.hzguahao-vip.com", "hzguahao-vip.com", "价格表", 71,
     {"mobile": ["13912345678"], "wechat": [], "qq": ["123456789"]}),
    ("https://weibo.com/u/123/post", "weibo.com", "weibo.com", "陪诊服务私聊", 64,
     {"mobile": [], "wechat": ["pz_helper1"], "qq": []}),
]  # fmt: skip


@pytest.fixture
def populated(sessions: Any) -> Any:
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        for url, host, reg, title, score, contacts in PAGES:
            record = repository.PageRecord(
                canonical_url=url, url=url, final_url=url, domain=host, registrable_domain=reg, title=title,
                text=title, content_hash="0" * 64, http_status=200, encoding="utf-8",
            )  # fmt: skip
            page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=T0)
            reasons = [{"rule_id": "service.代挂", "text": "代挂", "start": 0, "end": 2, "weight": 25.0},
                       {"rule_id": "context.提醒", "text": "提醒", "start": 3, "end": 5, "weight": -8.0}]  # fmt: skip
            repository.save_score(
                s, page, repository.ScoreRecord(score, True, "scalper_service", reasons, contacts, "v1"), at=T0
            )
    return sessions


def export(sessions: Any, authority: str, out: Path) -> Any:
    with sessions.begin() as s:
        return export_unreferred(
            s, authority=authority, out_dir=out, institute_code="HZWJS", platforms=load_platforms(), now=NOW
        )


def test_routing_by_platform() -> None:
    platforms = load_platforms(["hz.fenlei-xinxi.com"])
    assert authority_for("weibo.com", platforms) == "cac"
    assert authority_for("m.weibo.com", platforms) == "cac"
    assert authority_for("hz.fenlei-xinxi.com", platforms) == "cac"
    assert authority_for("www.hzguahao-vip.com", platforms) == "miit"
    assert authority_for("notweibo.com", platforms) == "miit"


@pytest.mark.parametrize("authority", ["cac", "miit"])
def test_export_matches_golden_and_is_referred_once(populated: Any, tmp_path: Path, authority: str) -> None:
    result = export(populated, authority, tmp_path)
    assert result is not None
    assert result.path.name == f"HZWJS-{authority}-20261123-100000.csv"
    data = result.path.read_bytes()
    assert data.startswith("\ufeff".encode())
    assert_golden(f"exports/{authority}.csv", data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    if authority == "cac":
        assert (result.hits, result.rows) == (1, 1)
        assert rows[1][5] == "https://weibo.com/u/123/post"
    else:
        assert (result.hits, result.rows) == (2, 1)  # two pages, one registrable domain
        assert rows[1][1] == "hzguahao-vip.com" and rows[1][2] == "2"
        assert rows[1][8] == "guahao668" and rows[1][9] == "123456789"
    assert export(populated, authority, tmp_path / "again") is None


def test_unknown_authority_is_refused(populated: Any, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="--authority: 'samr'"):
        export(populated, "samr", tmp_path)
