"""End to end through the replay web: a crawl captures evidence for its hits (WARC read back with warcio,
screenshots with Chinese text really rendered), the hits are confirmed, batches for every authority are
created, approved, exported and verified (``touthunt verify`` and ``sha256sum -c``), sent, and re-checked
after pages disappear from a modified copy of the web; then the summary report and the blacklist."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image, ImageChops
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import main
from crawler.config import Config, load_config, with_changes
from crawler.runner import run_source
from evidence.capture import Screenshotter, capture, check_integrity, evidence_root
from evidence.files import MANIFEST_NAME, EvidenceFileError, check_folder, sha256_file, write_once
from referrals.recheck import run_due_rechecks
from replayweb import DEFAULT_WEB_DIR, ReplayWeb
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import EvidenceRecord, Hit, Recheck, ReferralBatch, ReferralItem, User
from tests.conftest import database_url_for

pytestmark = pytest.mark.database

START_URLS = [
    "http://www.hzguahao-vip.com/index.php",  # 301 -> /
    "http://www.hzguahao-vip.com/jiage.html",
    "http://hz.fenlei-xinxi.com/jiankang/52817340x.shtml",  # a platform: cac
    "http://www.hzbaoai-pifu.com/liaofa.html",  # an illegal medical ad: samr
]
ICP_FOOTER = '<p class="beian">京ICP备2024012345号-1</p>'
# Glyph test page: each character alone in a fixed 120x120 cell. U+0378..U+037A are unassigned code points,
# which every font lacks: what a browser draws for them is what a missing CJK font would look like.
CJK = "挂号专家医院瀚州"
MISSING = "\u0378\u0379\u037a"
CELL = 120


def _glyph_page() -> str:
    cells = "".join(
        f'<div style="position:absolute;left:{i * CELL}px;top:0;width:{CELL}px;height:{CELL}px;font-size:90px;'
        f'line-height:{CELL}px;text-align:center">{ch}</div>'
        for i, ch in enumerate(CJK + MISSING)
    )
    return f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>字形</title></head><body style="margin:0;background:#fff">{cells}</body></html>'  # noqa: E501


def _make_web(root: Path) -> Path:
    web = root / "web"
    shutil.copytree(DEFAULT_WEB_DIR, web)
    index = web / "www.hzguahao-vip.com" / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace("</body>", ICP_FOOTER + "</body>"), encoding="utf-8")
    glyphs = web / "www.ziti-ceshi.cn"
    glyphs.mkdir()
    (glyphs / "_site.yaml").write_text("defaults: {charset: utf-8}\nroutes:\n  /glyphs.html: {file: glyphs.html}\n",
                                      encoding="utf-8")  # fmt: skip
    (glyphs / "glyphs.html").write_text(_glyph_page(), encoding="utf-8")
    busy = web / "www.sisuo-xunhuan.cn"  # a hostile page whose script never yields
    busy.mkdir()
    (busy / "_site.yaml").write_text("defaults: {charset: utf-8}\nroutes:\n  /: {file: index.html}\n", encoding="utf-8")
    (busy / "index.html").write_text(
        "<html><head><meta charset='utf-8'><title>代挂号</title></head><body><p>专家号代挂 微信 busy_loop01</p>"
        "<script>while (true) {}</script></body></html>", encoding="utf-8")  # fmt: skip
    return web


def _config(tmp: Path, proxy: str) -> Config:
    (tmp / "config.yaml").write_text(
        yaml.safe_dump({"database": {"url": database_url_for(tmp / "e2e.sqlite")}}), encoding="utf-8"
    )
    return with_changes(
        load_config(tmp / "config.yaml"),
        "e2e",
        network={"proxy": proxy, "timeout_seconds": 5.0, "retries": 0, "download_delay_seconds": 0.0},
        sources=[{"name": "probe", "start_urls": START_URLS, "max_depth": 0, "obey_robots": False}],
        referrals={"platform_domains": ["hz.fenlei-xinxi.com"]},
        evidence={"threshold": 60},
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("referrals")
    web_dir = _make_web(tmp)
    web = ReplayWeb(web_dir).start()
    config = _config(tmp, web.proxy_url)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    summary = run_source(config, config.sources[0], sessions, show_progress=False)
    with sessions.begin() as s:
        s.add_all([User(name="wang", role="analyst"), User(name="zhao", role="supervisor")])
    state = {"tmp": tmp, "web_dir": web_dir, "web": web, "config": config, "sessions": sessions, "summary": summary}
    yield state
    state["web"].stop()
    engine.dispose()


def test_every_hit_above_the_threshold_has_evidence(crawled: Any) -> None:
    assert crawled["summary"].status == "finished"
    config, sessions = crawled["config"], crawled["sessions"]
    with sessions() as s:
        hits = s.scalars(select(Hit)).all()
        assert len(hits) == 4
        records = {r.hit_id: r for r in s.scalars(select(EvidenceRecord))}
        assert {h.id for h in hits if h.score >= 60} == set(records)
        by_url = {h.page.url: records[h.id] for h in hits}
        assert check_integrity(config, s) == []
    for url, record in by_url.items():
        folder = evidence_root(config) / record.folder
        assert record.problems == [] and record.file_count == 3
        assert sha256_file(folder / MANIFEST_NAME) == record.manifest_sha256
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        assert manifest["url"] == url and manifest["captured_at_china"].endswith("+08:00")
        assert manifest["tools"]["chromium"] and manifest["tools"]["warcio"]
        assert manifest["resolved_address"]["peer_address"] == "127.0.0.1"
        assert "proxy" in manifest["resolved_address"]["method"]
        for entry in manifest["files"]:
            path = folder / entry["name"]
            assert sha256_file(path) == entry["sha256"]
            assert path.stat().st_mode & 0o222 == 0  # read-only
        with Image.open(folder / "screenshot.png") as shot:
            assert shot.width == 1280 and shot.height >= 600
    redirected = by_url["http://www.hzguahao-vip.com/index.php"]
    manifest = json.loads((evidence_root(config) / redirected.folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert [(h["status"], h["url"]) for h in manifest["redirect_chain"]] == [
        (301, "http://www.hzguahao-vip.com/index.php"),
        (200, "http://www.hzguahao-vip.com/"),
    ]
    assert redirected.final_url == "http://www.hzguahao-vip.com/"


def test_warc_records_read_back_with_warcio(crawled: Any) -> None:
    config, sessions = crawled["config"], crawled["sessions"]
    with sessions() as s:
        record = s.scalars(
            select(EvidenceRecord).where(EvidenceRecord.url == "http://www.hzguahao-vip.com/index.php")
        ).one()
    with (evidence_root(config) / record.folder / "response.warc.gz").open("rb") as handle:
        records = [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(handle)
        ]
    assert [r[0] for r in records] == ["warcinfo", "request", "response", "request", "response"]
    _, _, request_http, _ = records[1]
    assert request_http.protocol.startswith("GET")
    for _, headers, _, _ in records[1:]:
        assert headers.get_header("WARC-Target-URI").startswith("http://www.hzguahao-vip.com/")
        assert headers.get_header("WARC-Date").endswith("Z")
        assert headers.get_header("WARC-Payload-Digest")
    _, response_headers, response_http, body = records[4]
    assert response_http.get_statuscode() == "200"
    assert response_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert response_headers.get_header("WARC-Target-URI") == "http://www.hzguahao-vip.com/"
    assert ICP_FOOTER in body.decode("utf-8")
    assert records[3][1].get_header("WARC-Concurrent-To") == response_headers.get_header("WARC-Record-ID")


def test_chinese_text_renders_in_the_screenshot(crawled: Any) -> None:
    """Every CJK character must come out as its own glyph with ink: without a CJK font they would all be the
    same missing-glyph box (the one drawn for unassigned code points) or nothing."""
    with Screenshotter(crawled["config"]) as shooter:
        png = shooter.shoot("http://www.ziti-ceshi.cn/glyphs.html")
    image = Image.open(io.BytesIO(png)).convert("L")
    cells = [image.crop((i * CELL, 0, (i + 1) * CELL, CELL)) for i in range(len(CJK + MISSING))]
    glyphs, missing = cells[: len(CJK)], cells[len(CJK) :]

    def ink(cell: Image.Image) -> int:
        return int((np.asarray(cell) < 128).sum())

    def differ(a: Image.Image, b: Image.Image) -> int:
        return int((np.asarray(ImageChops.difference(a, b)) > 64).sum())

    assert all(ink(g) > 300 for g in glyphs), [ink(g) for g in glyphs]
    for i, a in enumerate(glyphs):
        for b in glyphs[i + 1 :]:
            assert differ(a, b) > 200
        for box in missing:
            assert differ(a, box) > 200


def test_evidence_files_are_never_overwritten_and_changes_are_found(crawled: Any, tmp_path: Path) -> None:
    config, sessions = crawled["config"], crawled["sessions"]
    with sessions() as s:
        record = s.scalars(select(EvidenceRecord)).first()
        assert record is not None
    folder = evidence_root(config) / record.folder
    with pytest.raises(EvidenceFileError, match="never overwritten"):
        write_once(folder / "screenshot.png", b"new")
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "screenshot.png").chmod(0o644)
    (copy / "screenshot.png").write_bytes(b"changed")
    (copy / "extra.txt").write_bytes(b"x")
    problems = {(p.name, p.problem) for p in check_folder(copy, record.manifest_sha256)}
    assert problems == {("screenshot.png", "altered"), ("extra.txt", "unlisted")}
    (copy / "response.warc.gz").unlink()
    assert ("response.warc.gz", "missing") in {(p.name, p.problem) for p in check_folder(copy, None)}


def test_the_scheduled_evidence_job_alerts_an_altered_file(crawled: Any, tmp_path: Path) -> None:
    from alerts.channels import WeComChannel
    from crawler import jobs
    from tests.receivers import Webhook

    config, sessions = crawled["config"], crawled["sessions"]
    copy = tmp_path / "evidence"
    shutil.copytree(evidence_root(config), copy)
    with sessions() as s:
        record = s.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id)).first()
        assert record is not None
    altered = copy / record.folder / "screenshot.png"
    altered.chmod(0o644)
    altered.write_bytes(b"not the screenshot")
    checked = with_changes(config, "test", evidence={"folder": str(copy), "retention_days": 0})
    with Webhook() as robot:
        channel = WeComChannel(url_env="ROBOT", timeout=5, environ={"ROBOT": robot.url})
        jobs.set_context(
            jobs.Context(config=checked, config_path=tmp_path / "c.yaml", sessions=sessions, channels=[channel])
        )
        try:
            jobs.evidence_job()
        finally:
            jobs.set_context(None)
    [(_path, _query, body)] = robot.received
    content = body["markdown"]["content"]
    assert "取证文件校验失败" in content and f"{record.hit_id} {record.folder}/screenshot.png: altered" in content
    assert "evidence" in jobs.JOB_KINDS and "recheck" in jobs.JOB_KINDS


def _cli(config: Config, *args: str) -> Any:
    result = CliRunner().invoke(main, [*args, "--config", str(config.base_dir / "config.yaml")])
    return result


def test_batches_recheck_and_report(crawled: Any) -> None:
    config, sessions, tmp = crawled["config"], crawled["sessions"], crawled["tmp"]
    # the config file on disk must name the live proxy for the commands
    (tmp / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    with sessions.begin() as s:
        for hit in s.scalars(select(Hit)):
            hit.status = "confirmed"
    numbers = {}
    for authority in ("cac", "miit", "samr", "police"):
        created = _cli(config, "batch", "create", "--authority", authority, "--as", "wang")
        assert created.exit_code == 0, created.output
        numbers[authority] = created.stdout.strip()
        approved = _cli(config, "batch", "approve", numbers[authority], "--as", "zhao")
        assert approved.exit_code == 0, approved.output
        out = tmp / "out"
        exported = _cli(config, "batch", "export", numbers[authority], "--out", str(out))
        assert exported.exit_code == 0, exported.output
        zip_path = out / numbers[authority] / f"{numbers[authority]}-evidence.zip"
        verified = CliRunner().invoke(main, ["verify", str(zip_path)])  # needs no config: the authority runs it
        assert verified.exit_code == 0 and "校验通过" in verified.output
        unpacked = tmp / "unpacked" / authority
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(unpacked)
            names = archive.namelist()
        assert any(n.endswith("response.warc.gz") for n in names) and any(n.endswith("screenshot.png") for n in names)
        check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        sheet = load_workbook(out / numbers[authority] / f"{numbers[authority]}.xlsx").active
        assert sheet.freeze_panes == "A2" and sheet.max_row >= 2
        if authority == "miit":
            row = [c.value for c in sheet[2]]
            assert row[1] == "hzguahao-vip.com" and row[2] == "京ICP备2024012345号-1" and row[4] == "北京市通信管理局"
        sent = _cli(config, "batch", "send", numbers[authority], "--as", "wang")
        assert sent.exit_code == 0, sent.output
    assert numbers["cac"].startswith("HZWJS-cac-")

    # nothing is due before the first scheduled day
    assert run_due_rechecks(config, sessions).checked == 0

    # the web changes: the classifieds post shows a deletion notice, the ad site is gone from DNS, the price
    # page no longer sells anything; the scalper's home page stays.
    crawled["web"].stop()
    web_dir = crawled["web_dir"]
    (web_dir / "hz.fenlei-xinxi.com" / "jiankang" / "52817340x.html").write_text(
        "<html><head><meta charset='utf-8'><title>信息不存在</title></head><body><p>该帖子不存在或已被删除。</p>"
        "<a href='/'>返回首页</a></body></html>", encoding="utf-8")  # fmt: skip
    shutil.rmtree(web_dir / "www.hzbaoai-pifu.com")
    (web_dir / "www.hzguahao-vip.com" / "jiage.html").write_text(
        "<html><head><meta charset='utf-8'><title>本站暂停服务</title></head><body><p>本站暂停服务，感谢支持。</p>"
        "</body></html>", encoding="utf-8")  # fmt: skip
    crawled["web"] = ReplayWeb(web_dir).start()
    config = with_changes(config, "e2e", network={"proxy": crawled["web"].proxy_url})
    day_two = datetime.now(UTC) + timedelta(days=1, minutes=1)
    first = run_due_rechecks(config, sessions, now=day_two)
    with sessions() as s:
        items = s.scalars(select(ReferralItem)).all()
        assert first.checked == len(items)
        outcomes = {}
        for item in items:
            check = item.rechecks[-1]
            outcomes[(item.authority, item.hit.page.url)] = (check.outcome, check.reason)
            evidence = s.get(EvidenceRecord, check.evidence_id)
            assert evidence is not None and evidence.kind == "recheck"
    assert outcomes[("cac", START_URLS[2])] == ("removed", "deletion_notice")
    assert outcomes[("samr", START_URLS[3])] == ("removed", "dns_error")
    assert outcomes[("miit", START_URLS[1])] == ("removed", "no_longer_matching")
    assert outcomes[("miit", START_URLS[0])] == ("still_online", "same_content")
    assert outcomes[("police", START_URLS[0])] == ("still_online", "same_content")
    second = run_due_rechecks(config, sessions, force=True)
    assert second.closed == 5
    with sessions() as s:
        closed = {(i.authority, i.hit.page.url) for i in s.scalars(select(ReferralItem)) if i.state == "closed"}
        assert closed == {("cac", START_URLS[2]), ("samr", START_URLS[3]), ("miit", START_URLS[1]),
                          ("police", START_URLS[1]), ("police", START_URLS[2])}  # fmt: skip
        assert s.query(Recheck).count() == first.checked + second.checked
        assert all(b.status == "sent" for b in s.scalars(select(ReferralBatch)))

    reported = _cli(config, "report", "--from", "2026-01-01", "--to", "2099-12-31", "--out", str(tmp / "report"))
    assert reported.exit_code == 0, reported.output
    assert "工作汇总表" in reported.stdout and "网信部门" in reported.stdout
    workbook = load_workbook(tmp / "report" / "touthunt-report-2026-01-01-2099-12-31.xlsx")
    rows = {r[0]: r for r in workbook["按移交部门"].iter_rows(min_row=2, values_only=True)}
    # columns: pages, hits, confirmed, referred, removed, still online, pending, rate, median days
    assert rows["网信部门"][4:9] == (1, 1, 0, 0, "100%")
    assert rows["市场监管部门"][4:9] == (1, 1, 0, 0, "100%")
    assert rows["通信管理局"][4:9] == (2, 1, 1, 0, "50%")
    assert rows["公安机关"][4:9] == (3, 2, 1, 0, "67%")
    assert all(
        isinstance(rows[name][9], int | float) for name in ("网信部门", "市场监管部门", "通信管理局", "公安机关")
    )
    total = next(workbook["总体"].iter_rows(min_row=2, values_only=True))
    assert total[1:9] == (4, 4, 4, 7, 5, 2, 0, "71%")

    blacklisted = _cli(config, "blacklist", "export", "--out", str(tmp / "blacklist"))
    assert blacklisted.exit_code == 0, blacklisted.output
    csv_file = next((tmp / "blacklist").glob("blacklist-*.csv"))
    listed = {(row[1], row[2]) for row in csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig")))}
    assert ("网站域名", "hzguahao-vip.com") in listed and ("微信号", "hzdgh_zhao") in listed
    assert ("网站域名", "fenlei-xinxi.com") not in listed  # a platform is not the offender


def test_capture_of_a_vanished_host_records_the_failure(crawled: Any) -> None:
    config, sessions = crawled["config"], crawled["sessions"]
    config = with_changes(config, "e2e", network={"proxy": crawled["web"].proxy_url})
    with sessions.begin() as s:
        hit = s.scalars(select(Hit)).first()
        assert hit is not None
        outcome = capture(config, s, hit, kind="recheck", url="http://www.no-such-host.cn/")
        assert outcome.record.http_status == 503
        assert outcome.fetch is not None and outcome.fetch.final.header(
            "X-Squid-Error",
        ).startswith("ERR_DNS_FAIL")


def test_a_page_that_hangs_the_browser_keeps_the_rest_of_its_evidence(crawled: Any) -> None:
    config = with_changes(
        crawled["config"], "e2e", network={"proxy": crawled["web"].proxy_url}, browser={"navigation_timeout_seconds": 3}
    )
    sessions = crawled["sessions"]
    with sessions.begin() as s, Screenshotter(config) as shooter:
        hit = s.scalars(select(Hit)).first()
        assert hit is not None
        outcome = capture(config, s, hit, kind="recheck", url="http://www.sisuo-xunhuan.cn/", screenshotter=shooter)
        folder = evidence_root(config) / outcome.record.folder
        assert any(p.startswith("screenshot failed") for p in outcome.problems)
        assert sorted(p.name for p in folder.iterdir()) == ["evidence.json", "response.warc.gz"]
        assert check_folder(folder, outcome.record.manifest_sha256) == []
        # the same browser still works for the next capture
        assert shooter.shoot("http://www.ziti-ceshi.cn/glyphs.html").startswith(b"\x89PNG")
