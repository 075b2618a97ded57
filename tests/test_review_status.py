"""The web app's status page (the data of ``touthunt status``) and the hit page's IP line read from the
evidence manifest, through FastAPI's TestClient."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from review.app import create_app
from review.evidence import MAX_MANIFEST_BYTES
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import AlertDelivery, EvidenceRecord, SchedulerLease, utcnow
from tests.crawlweb import source_entry
from tests.review_seed import ANALYST, login, seed

HOSTILE_ERROR = "<script>window.__pwned=1</script>oapi.dingtalk.com answered HTTP 502"


@pytest.fixture
def env(write_config: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TOUTHUNT_WEB_SECRET", raising=False)
    sources = [
        source_entry("hub-hz", schedule="0 6 * * *"),
        source_entry("forum-hz", schedule="30 7 * * 1-5"),
        {**source_entry("old-hz"), "enabled": False},
    ]
    config = write_config({"sources": sources, "network": {"proxy": "http://scout:s3cret@127.0.0.1:8118"}})
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    seeded = seed(config, sessions)

    class Env:
        pass

    e = Env()
    e.config, e.sessions, e.hits = config, sessions, seeded.hits
    e.app = create_app(config, sessions)
    yield e
    engine.dispose()


def signed_in(env: Any) -> TestClient:
    client = TestClient(env.app)
    assert login(client, *ANALYST).status_code == 303
    return client


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# the status page ---------------------------------------------------------------------------------------


def test_status_page_needs_a_session(env: Any) -> None:
    response = TestClient(env.app).get("/status", follow_redirects=True)
    assert response.url.path == "/login"
    assert "运行状态" not in response.text


def test_status_page_shows_runs_health_jobs_and_alerts(env: Any) -> None:
    now = utcnow()
    with env.sessions.begin() as s:
        s.add(
            SchedulerLease(
                name="scheduler",
                token="t",
                host="monitor-hz-01",
                pid=4321,
                acquired_at=now - timedelta(hours=3),
                heartbeat_at=now - timedelta(seconds=20),
                expires_at=now + timedelta(minutes=1),
            )
        )
        s.add(AlertDelivery(kind="urgent_hit", channel="dingtalk", target="oapi.dingtalk.com", status="failed",
                            error=HOSTILE_ERROR, dedupe_key="urgent_hit:9", title="t"))  # fmt: skip
        s.add(AlertDelivery(kind="urgent_hit", channel="email", target="duty@hz.example", status="sent", error="",
                            dedupe_key="urgent_hit:9", title="t"))  # fmt: skip
        s.add(AlertDelivery(kind="digest", channel="email", target="duty@hz.example", status="sent", error="",
                            dedupe_key="digest:old", title="t", attempted_at=now - timedelta(days=3)))  # fmt: skip
    client = signed_in(env)
    assert '<a href="/status">运行状态</a>' in client.get("/hits").text
    response = client.get("/status")
    assert response.status_code == 200
    html = response.text
    text = text_of(html)
    assert "运行中：主机 monitor-hz-01，进程 4321" in text and "秒前" in text and "Asia/Shanghai" in text

    rows = re.findall(r'<tr class="source-row"[^>]*>(.*?)</tr>', html, re.S)
    by_name = {text_of(row).split()[0]: text_of(row) for row in rows}
    assert set(by_name) == {"hub-hz", "forum-hz", "old-hz"}
    forum = by_name["forum-hz"]
    # the seeded failed run: its run status, blocked answers and the source state's Chinese label
    assert "30 7 * * 1-5" in forum and "失败" in forum and "验证码拦截" in forum and " 3 " in f" {forum} "
    assert "07:30" in forum and "按配置推算" in forum
    hub = by_name["hub-hz"]
    assert "已完成" in hub and "06:00" in hub and "正常" in hub
    # requests 5, pages 4 as the seeded run recorded them, in the table's column order
    assert re.search(r"已完成 \d+ 秒 5 4 ", hub), hub
    assert "已停用" in by_name["old-hz"]

    jobs = [text_of(row) for row in re.findall(r'<tr class="job-row">(.*?)</tr>', html, re.S)]
    assert any(j.startswith("每日简报 digest 0 8 * * *") for j in jobs), jobs
    assert any("复查已移交的命中 recheck" in j for j in jobs) and any("evidence" in j for j in jobs)

    assert "成功 1 次，失败 1 次" in text  # the delivery three days ago is outside the 24 hours
    failure = text_of(re.search(r'<p id="alert-failure".*?</p>', html, re.S).group(0))
    assert "钉钉机器人" in failure and "紧急命中" in failure and "answered HTTP 502" in failure
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned=1" in html


def test_status_page_without_scheduler_or_alerts(env: Any) -> None:
    text = text_of(signed_in(env).get("/status").text)
    assert "未运行：请启动 touthunt serve" in text
    assert "成功 0 次，失败 0 次" in text and "没有失败的投递记录" in text


# the hit page's IP line --------------------------------------------------------------------------------


def add_capture(env: Any, hit_id: int, folder: str, manifest: bytes | None, *, pruned: bool = False) -> None:
    root = env.config.resolve_path(env.config.evidence.folder)
    if manifest is not None:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "evidence.json").write_bytes(manifest)
    with env.sessions.begin() as s:
        s.add(EvidenceRecord(hit_id=hit_id, kind="capture", folder=folder, url="http://x.example/",
                             final_url="http://x.example/", http_status=200, manifest_sha256="0" * 64,
                             file_count=1, pruned_at=utcnow() if pruned else None))  # fmt: skip


def manifest(resolved: Any) -> bytes:
    return json.dumps({"format": "touthunt-evidence/1", "resolved_address": resolved}).encode()


def ip_line(env: Any, client: TestClient, key: str) -> str:
    html = client.get(f"/hits/{env.hits[key]}").text
    return text_of(re.search(r'<dd id="ip-facts">.*?</dd>', html, re.S).group(0))


def test_hit_page_shows_the_address_the_capture_recorded(env: Any) -> None:
    client = signed_in(env)
    assert ip_line(env, client, "scalper").startswith("未记录")
    add_capture(env, env.hits["scalper"], "2026/11/20/H000001-20261120T010203Z", manifest({
        "peer_address": "127.0.0.1",
        "method": "through the proxy",
        "proxy": "http://scout:s3cret@127.0.0.1:8118",
        "local_dns": {"host": "guahao-hz.example.cn", "addresses": ["203.0.113.7", "2001:db8::7", "<b>x</b>"],
                      "error": ""},
    }))  # fmt: skip
    line = ip_line(env, client, "scalper")
    assert line.startswith("经代理 127.0.0.1:8118 访问"), line
    assert "代理地址 127.0.0.1" in line and "本机解析 guahao-hz.example.cn：203.0.113.7、2001:db8::7" in line
    assert "s3cret" not in line and "scout" not in line and "<b>" not in line and "取证于" in line

    add_capture(env, env.hits["tout"], "2026/11/20/H000003-20261120T010203Z", manifest({
        "peer_address": "198.51.100.4",
        "method": "direct connection",
        "local_dns": {"host": "laozhongyi.example.com", "addresses": [], "error": "[Errno -2] Name unknown"},
    }))  # fmt: skip
    line = ip_line(env, client, "tout")
    assert "直接访问，连接地址 198.51.100.4（本机 DNS 解析）" in line
    assert "本机解析 laozhongyi.example.com 失败（[Errno -2] Name unknown）" in line


@pytest.mark.parametrize(
    "folder, body",
    [
        ("2026/11/20/broken", b"{not json"),
        ("2026/11/20/binary", b"\xff\xfe\x00garbage"),
        ("2026/11/20/list", b"[1, 2]"),
        ("2026/11/20/huge", b'{"pad": "' + b"x" * MAX_MANIFEST_BYTES + b'"}'),
        ("2026/11/20/no-address", manifest({"peer_address": "not an address", "method": "direct connection"})),
        ("2026/11/20/missing", None),
        ("../../outside", None),
    ],
)
def test_hit_page_ip_is_not_recorded_when_the_manifest_cannot_be_used(env: Any, folder: str, body: Any) -> None:
    if folder == "../../outside":  # a manifest that exists, but outside the evidence folder
        root = env.config.resolve_path(env.config.evidence.folder)
        outside = (root / folder).resolve()
        assert outside.is_relative_to(env.config.base_dir) and not outside.is_relative_to(root.resolve())
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "evidence.json").write_bytes(manifest({"peer_address": "192.0.2.9"}))
    add_capture(env, env.hits["scalper2"], folder, body)
    line = ip_line(env, signed_in(env), "scalper2")
    assert line.startswith("未记录"), line


def test_hit_page_ignores_pruned_captures(env: Any) -> None:
    add_capture(env, env.hits["scalper2"], "2026/11/20/pruned", manifest({"peer_address": "192.0.2.9"}), pruned=True)
    assert ip_line(env, signed_in(env), "scalper2").startswith("未记录")
