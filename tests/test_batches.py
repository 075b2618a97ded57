"""Referral batches on a fixed database: routing to the four authorities, numbering, approval by a
supervisor, referred once per authority (unless re-opened), the export package against golden files, byte
equality of two exports, the evidence zip checked by ``touthunt verify`` and by ``sha256sum -c``, tampering
detected, and the authority's answer imported or rejected line by line."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from crawler.cli import main
from crawler.config import Config
from crawler.errors import AccessError
from evidence.files import MANIFEST_NAME, manifest_bytes, write_once
from referrals.answers import AnswerError, import_answer
from referrals.batches import BatchError, approve_batch, create_batch, mark_sent, reopen_hit
from referrals.package import export_batch, verify_zip
from referrals.platforms import load_platforms
from referrals.routing import authorities_for, icp_for_domain
from storage import repository
from storage.models import AuditEvent, EvidenceRecord, Hit, ReferralItem, User
from tests.golden_files import assert_golden

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
CREATED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
APPROVED = datetime(2026, 11, 23, 6, 15, tzinfo=UTC)
PLATFORM = "hz.fenlei-xinxi.com"

# url, title, category, score, contacts, identifiers
PAGES: list[tuple[str, str, str, int, dict[str, list[str]], list[dict[str, Any]]]] = [
    ("http://www.hzguahao-vip.com/", "瀚州专家号代挂", "scalper_service", 88,
     {"mobile": ["13912345678"], "wechat": ["guahao668"]},
     [{"kind": "icp", "value": "京ICP备2024012345号-1", "valid": True}]),
    ("http://www.hzguahao-vip.com/jiage.html", "价格表", "scalper_service", 71, {"qq": ["123456789"]}, []),
    ("http://hz.fenlei-xinxi.com/jiankang/52817340x.shtml", "各大医院挂号服务", "scalper_service", 80,
     {"mobile": ["15268193304"], "wechat": ["hzdgh_zhao"]}, []),
    ("http://www.hzbaoai-pifu.com/liaofa.html", "=HYPERLINK(\"http://x\") 疗法 治愈率98%", "illegal_medical_ad", 89,
     {"landline": ["0571-88886666"]}, [{"kind": "ad_cert", "value": "(瀚)医广【2019】第0101001号", "valid": False}]),
    ("http://www.hzbaoai-pifu.com/", "宝爱皮肤专家助理", "medical_tout", 75, {}, []),
    ("http://www.hz-daiguahao.net/", "代挂号 未确认", "scalper_service", 90, {"mobile": ["13800001111"]}, []),
]  # fmt: skip


def _config(write_config: Any, tmp_path: Path) -> Config:
    return write_config({
        "referrals": {"platform_domains": [PLATFORM], "institute_code": "HZWJS"},
        "evidence": {"folder": str(tmp_path / "evidence")},
    })  # fmt: skip


def _write_evidence(config: Config, session: Any, hit: Hit) -> None:
    """A capture folder with fixed bytes, as evidence.capture writes it."""
    root = Path(config.evidence.folder)
    relative = f"2026/11/20/H{hit.id:06d}-20261120T013000Z"
    folder = root / relative
    folder.mkdir(parents=True)
    warc = f"WARC/1.0 fixed bytes for hit {hit.id}\r\n".encode()
    png = b"\x89PNG fixed " + str(hit.id).encode()
    files = [
        {"name": "response.warc.gz", "sha256": write_once(folder / "response.warc.gz", warc), "size": len(warc)},
        {"name": "screenshot.png", "sha256": write_once(folder / "screenshot.png", png), "size": len(png)},
    ]
    manifest = {"format": "touthunt-evidence/1", "hit_id": hit.id, "url": hit.page.url, "files": files}
    digest = write_once(folder / MANIFEST_NAME, manifest_bytes(manifest))
    session.add(EvidenceRecord(hit_id=hit.id, kind="capture", folder=relative, url=hit.page.url,
                               final_url=hit.page.final_url, http_status=200, captured_at=T0,
                               manifest_sha256=digest, file_count=3, problems=[]))  # fmt: skip


@pytest.fixture
def world(write_config: Any, tmp_path: Path) -> dict[str, Any]:
    from crawler.domains import host_of, registrable_domain
    from storage.db import make_engine, make_sessionmaker, upgrade

    config = _config(write_config, tmp_path)
    engine = make_engine(config.database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        source = repository.ensure_source(s, "hub", "site")
        for url, title, category, score, contacts, identifiers in PAGES:
            host = host_of(url)
            record = repository.PageRecord(
                canonical_url=url, url=url, final_url=url, domain=host, registrable_domain=registrable_domain(host),
                title=title, text=title, content_hash="0" * 64, http_status=200, encoding="utf-8",
            )  # fmt: skip
            page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=T0)
            reasons = [{"rule_id": "service.代挂", "text": "代挂", "start": 0, "end": 2, "weight": 25.0}]
            full = {k: contacts.get(k, []) for k in ("mobile", "wechat", "qq", "landline", "tollfree")}
            hit, _ = repository.save_score(
                s, page, repository.ScoreRecord(score, True, category, reasons, full, "v1", {}, identifiers), at=T0
            )
            assert hit is not None
            s.flush()
            if "未确认" not in title:
                hit.status = "confirmed"
                _write_evidence(config, s, hit)
        s.add_all([User(name="wang", role="analyst"), User(name="zhao", role="supervisor")])
    yield {"config": config, "sessions": sessions, "tmp": tmp_path}
    engine.dispose()


def _create(world: dict[str, Any], authority: str, now: datetime = CREATED) -> str | None:
    with world["sessions"].begin() as s:
        batch = create_batch(s, authority=authority, user="wang", institute_code="HZWJS",
                             platforms=load_platforms([PLATFORM]), now=now)  # fmt: skip
        return batch.number if batch else None


def _approve(world: dict[str, Any], number: str) -> None:
    with world["sessions"].begin() as s:
        approve_batch(s, number, user="zhao", now=APPROVED)


def _export(world: dict[str, Any], number: str, out: Path) -> Any:
    with world["sessions"].begin() as s:
        return export_batch(world["config"], s, number, out)


def test_routing_sends_each_hit_where_it_belongs(world: dict[str, Any]) -> None:
    with world["sessions"]() as s:
        routes = {h.page.url: authorities_for(h, load_platforms([PLATFORM])) for h in s.scalars(select(Hit))}
        icp = icp_for_domain(s, "hzguahao-vip.com")
    assert routes == {
        "http://www.hzguahao-vip.com/": ("miit", "police"),
        "http://www.hzguahao-vip.com/jiage.html": ("miit", "police"),
        "http://hz.fenlei-xinxi.com/jiankang/52817340x.shtml": ("cac", "police"),
        "http://www.hzbaoai-pifu.com/liaofa.html": ("samr",),
        "http://www.hzbaoai-pifu.com/": ("miit",),  # a tout without a personal contact: not a police lead
        "http://www.hz-daiguahao.net/": ("miit", "police"),
    }
    assert (icp.numbers, icp.region, icp.bureau) == (("京ICP备2024012345号-1",), "北京市", "北京市通信管理局")


def test_batches_number_per_authority_and_year_and_refer_once(world: dict[str, Any]) -> None:
    assert _create(world, "miit") == "HZWJS-miit-2026-001"
    assert _create(world, "miit") is None  # everything confirmed is already in a batch
    assert _create(world, "cac") == "HZWJS-cac-2026-001"
    assert _create(world, "samr") == "HZWJS-samr-2026-001"
    assert _create(world, "police") == "HZWJS-police-2026-001"
    with world["sessions"]() as s:
        items = s.scalars(select(ReferralItem).order_by(ReferralItem.id)).all()
        got = sorted((i.authority, i.target) for i in items)
        unconfirmed = s.scalar(select(Hit.id).join(Hit.page).where(Hit.status == "new"))
        assert unconfirmed not in {i.hit_id for i in items}
    assert ("miit", "hzguahao-vip.com") in got and ("cac", "http://hz.fenlei-xinxi.com/jiankang/52817340x.shtml") in got
    assert len([g for g in got if g[0] == "police"]) == 3
    # re-opening a hit lets it join the next batch for that authority (and only that one)
    hit_id = items[0].hit_id
    with world["sessions"].begin() as s:
        reopen_hit(s, hit_id, "miit", user="wang", now=APPROVED)
    assert _create(world, "miit") == "HZWJS-miit-2026-002"
    assert _create(world, "police") is None
    with world["sessions"]() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("batch_create") == 5 and "reopen" in actions


def test_only_a_supervisor_approves_and_only_approved_batches_export(world: dict[str, Any], tmp_path: Path) -> None:
    number = _create(world, "cac")
    assert number
    from crawler.errors import ExportError

    with world["sessions"].begin() as s, pytest.raises(ExportError, match="尚未审批"):
        export_batch(world["config"], s, number, tmp_path / "out")
    with world["sessions"].begin() as s, pytest.raises(AccessError, match="needs a supervisor"):
        approve_batch(s, number, user="wang", now=APPROVED)
    _approve(world, number)
    with world["sessions"].begin() as s, pytest.raises(BatchError, match="不能审批"):
        approve_batch(s, number, user="zhao", now=APPROVED)
    with world["sessions"]() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "batch_approve")).one()
        assert (event.actor, event.target) == ("zhao", f"batch:{number}")


def _xlsx_dump(data: bytes) -> dict[str, Any]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    return {
        "title": sheet.title,
        "freeze": sheet.freeze_panes,
        "rows": [[cell.value for cell in row] for row in sheet.iter_rows()],
        "links": {
            cell.coordinate: cell.hyperlink.target for row in sheet.iter_rows() for cell in row if cell.hyperlink
        },
        "widths": {k: v.width for k, v in sorted(sheet.column_dimensions.items())},
    }


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs) + "\n"


@pytest.mark.parametrize("authority", ["cac", "miit", "samr", "police"])
def test_export_matches_golden_is_identical_twice_and_verifies(
    world: dict[str, Any], tmp_path: Path, authority: str
) -> None:
    number = _create(world, authority)
    assert number
    _approve(world, number)
    first = _export(world, number, tmp_path / "a")
    second = _export(world, number, tmp_path / "b")
    assert first.folder == tmp_path / "a" / number
    names = sorted(p.name for p in first.folder.iterdir())
    assert names == sorted([f"{number}.xlsx", f"{number}.csv", f"{number}-letter.docx", f"{number}-evidence.zip"])
    for name in names:  # the same approved batch gives the same bytes
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes(), name
    csv_data = (first.folder / f"{number}.csv").read_bytes()
    assert csv_data.startswith("\ufeff".encode())
    assert_golden(f"batches/{authority}.csv", csv_data)
    dump = _xlsx_dump((first.folder / f"{number}.xlsx").read_bytes())
    assert dump["freeze"] == "A2"
    assert dump["rows"][0] == next(csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))
    assert_golden(f"batches/{authority}.xlsx.json", (json.dumps(dump, ensure_ascii=False, indent=1) + "\n").encode())
    letter = _docx_text((first.folder / f"{number}-letter.docx").read_bytes())
    assert_golden(f"batches/{authority}.letter.txt", letter.encode())
    archive = zipfile.ZipFile(first.folder / f"{number}-evidence.zip")
    assert_golden(f"batches/{authority}.SHA256SUMS", archive.read("SHA256SUMS"))
    assert verify_zip(first.folder / f"{number}-evidence.zip").ok
    # the receiving authority's own check: unzip and sha256sum -c
    unpacked = tmp_path / "unpacked"
    archive.extractall(unpacked)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(archive.namelist()) - 1


def test_formula_text_from_a_page_stays_text(world: dict[str, Any], tmp_path: Path) -> None:
    number = _create(world, "samr")
    assert number
    _approve(world, number)
    folder = _export(world, number, tmp_path).folder
    workbook = load_workbook(folder / f"{number}.xlsx")
    title = workbook.active["D2"]
    assert title.data_type == "s" and title.value.startswith("=HYPERLINK")
    rows = list(csv.reader(io.StringIO((folder / f"{number}.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][3].startswith("'=HYPERLINK")


def _tamper(src: Path, dst: Path, name: str, data: bytes | None) -> None:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            if info.filename == name:
                if data is not None:
                    new.writestr(info, data)
            else:
                new.writestr(info, old.read(info))


def test_verify_finds_altered_missing_and_extra_files(world: dict[str, Any], tmp_path: Path) -> None:
    number = _create(world, "miit")
    assert number
    _approve(world, number)
    zip_path = _export(world, number, tmp_path).folder / f"{number}-evidence.zip"
    with zipfile.ZipFile(zip_path) as archive:
        shot = next(n for n in archive.namelist() if n.endswith("screenshot.png"))
    altered = tmp_path / "altered.zip"
    _tamper(zip_path, altered, shot, b"edited")
    report = verify_zip(altered)
    assert not report.ok and any(shot in p and "SHA-256 不符" in p for p in report.problems)
    missing = tmp_path / "missing.zip"
    _tamper(zip_path, missing, shot, None)
    assert any(f"{shot}: 文件缺失" in p for p in verify_zip(missing).problems)
    extra = tmp_path / "extra.zip"
    shutil.copy(zip_path, extra)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("evidence/H000001/note.txt", b"added later")
    assert any("未列入 SHA256SUMS" in p for p in verify_zip(extra).problems)
    runner = CliRunner()
    good = runner.invoke(main, ["verify", str(zip_path)])
    assert good.exit_code == 0 and "校验通过" in good.output
    bad = runner.invoke(main, ["verify", str(altered)])
    assert bad.exit_code == 1 and "校验失败" in bad.output
    (tmp_path / "not.zip").write_bytes(b"plain text")
    assert "不是可读的 zip" in verify_zip(tmp_path / "not.zip").problems[0]


def test_altered_evidence_on_disk_stops_the_export(world: dict[str, Any], tmp_path: Path) -> None:
    from crawler.errors import ExportError

    number = _create(world, "cac")
    assert number
    _approve(world, number)
    with world["sessions"]() as s:
        record = s.scalars(select(EvidenceRecord)).first()
        assert record is not None
        shot = Path(world["config"].evidence.folder) / record.folder / "screenshot.png"
    hit_ids = []
    with world["sessions"]() as s:
        hit_ids = [i.hit_id for i in s.scalars(select(ReferralItem).where(ReferralItem.authority == "cac"))]
    target = next(Path(world["config"].evidence.folder).rglob(f"H{hit_ids[0]:06d}-*/screenshot.png"))
    target.chmod(0o644)
    target.write_bytes(b"changed")
    with world["sessions"].begin() as s, pytest.raises(ExportError, match="不一致"):
        export_batch(world["config"], s, number, tmp_path)
    assert shot.exists()


def test_answer_import_updates_items_or_rejects_the_file_with_lines(world: dict[str, Any], tmp_path: Path) -> None:
    number = _create(world, "cac")
    assert number
    _approve(world, number)
    bad = tmp_path / "bad.csv"
    bad.write_text("网址,处置结果,受理编号\nhttp://nowhere.example/,已删除,A1\n"
                   "http://hz.fenlei-xinxi.com/jiankang/52817340x.shtml,,A2\n", encoding="utf-8")  # fmt: skip
    with world["sessions"].begin() as s, pytest.raises(AnswerError, match="发送后"):
        import_answer(s, number, bad, user="wang", now=APPROVED)
    with world["sessions"].begin() as s:
        mark_sent(s, number, user="wang", now=APPROVED)
    with world["sessions"].begin() as s, pytest.raises(AnswerError) as caught:
        import_answer(s, number, bad, user="wang", now=APPROVED)
    assert "第 2 行" in str(caught.value) and "第 3 行: 处置结果为空" in str(caught.value)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("链接地址,结论\nx,y\n", encoding="utf-8")
    with world["sessions"].begin() as s, pytest.raises(AnswerError, match="第 1 行: 缺少列"):
        import_answer(s, number, wrong, user="wang", now=APPROVED)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("网址,处置结果\n".encode("gbk"))
    with world["sessions"].begin() as s, pytest.raises(AnswerError, match="UTF-8"):
        import_answer(s, number, gbk, user="wang", now=APPROVED)
    good = tmp_path / "good.csv"
    good.write_text("\ufeff网址,处置结果,受理编号\nhttp://hz.fenlei-xinxi.com/jiankang/52817340x.shtml,已删除,WX-2026-0042\n",
                    encoding="utf-8")  # fmt: skip
    with world["sessions"].begin() as s:
        assert import_answer(s, number, good, user="wang", now=APPROVED).updated == 1
    with world["sessions"]() as s:
        item = s.scalars(select(ReferralItem).where(ReferralItem.authority == "cac")).one()
        assert (item.outcome, item.tracking_code, item.batch.status) == ("已删除", "WX-2026-0042", "answered")


def test_batch_commands(world: dict[str, Any], tmp_path: Path) -> None:
    config_path = str(world["config"].base_dir / "config.yaml")
    runner = CliRunner()
    created = runner.invoke(main, ["batch", "create", "--authority", "police", "--as", "wang", "--config", config_path])
    assert created.exit_code == 0, created.output
    number = created.stdout.strip()
    assert number.startswith("HZWJS-police-") and number.endswith("-001")
    denied = runner.invoke(main, ["batch", "approve", number, "--as", "wang", "--config", config_path])
    assert denied.exit_code == 1 and "needs a supervisor" in denied.output
    approved = runner.invoke(main, ["batch", "approve", number, "--as", "zhao", "--config", config_path])
    assert approved.exit_code == 0, approved.output
    exported = runner.invoke(main, ["batch", "export", number, "--out", str(tmp_path / "x"), "--config", config_path])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "x" / number / f"{number}-evidence.zip").is_file()
    listed = runner.invoke(main, ["batch", "list", "--config", config_path])
    assert number in listed.output and "已审批" in listed.output


def test_recheck_schedule_closing_and_the_report_figures(world: dict[str, Any]) -> None:
    from datetime import date, timedelta

    from referrals.recheck import due_items
    from referrals.report import build_report, render_text
    from storage.models import Recheck

    sent = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    config, sessions = world["config"], world["sessions"]
    for authority in ("cac", "police"):
        number = _create(world, authority)
        assert number
        _approve(world, number)
        with sessions.begin() as s:
            mark_sent(s, number, user="wang", now=sent)
    with sessions() as s:
        assert due_items(s, config, now=sent + timedelta(hours=23)) == []
        assert len(due_items(s, config, now=sent + timedelta(days=1))) == 4  # cac 1 + police 3
    with sessions.begin() as s:
        items = {(i.authority, i.hit.page.url): i for i in s.scalars(select(ReferralItem))}
        cac = items[("cac", PAGES[2][0])]
        s.add_all([
            Recheck(item_id=cac.id, checked_at=sent + timedelta(days=1), outcome="still_online", reason="same_content"),
            Recheck(item_id=cac.id, checked_at=sent + timedelta(days=3), outcome="removed", reason="http_404"),
            Recheck(item_id=cac.id, checked_at=sent + timedelta(days=7), outcome="removed", reason="http_404"),
        ])  # fmt: skip
        cac.state, cac.closed_at = "closed", sent + timedelta(days=7)
        police = items[("police", PAGES[0][0])]
        s.add_all([
            Recheck(item_id=police.id, checked_at=sent + timedelta(days=1), outcome="removed", reason="dns_error"),
            Recheck(item_id=police.id, checked_at=sent + timedelta(days=3), outcome="changed", reason="text"),
        ])  # fmt: skip
    with sessions() as s:
        due = {(i.authority, i.hit.page.url) for i in due_items(s, config, now=sent + timedelta(days=7))}
        assert ("cac", PAGES[2][0]) not in due  # closed
        assert ("police", PAGES[0][0]) in due  # its third check is due on day 7
        report = build_report(s, date(2026, 11, 20), date(2026, 11, 30))
    assert (report.by_authority["cac"].referred, report.by_authority["cac"].removed) == (1, 1)
    assert report.by_authority["cac"].median_days == 3.0
    police = report.by_authority["police"]
    assert (police.referred, police.removed, police.still_online, police.pending) == (3, 0, 1, 2)
    assert (report.total.hits, report.total.confirmed, report.total.referred) == (6, 5, 4)
    assert report.by_category["scalper_service"].hits == 4
    text = render_text(report, "瀚州市卫生健康监督所")
    assert "移交部门: 网信部门 —— 抓取页面数 0，发现命中数 0，确认违规数 0，移交数 1，已删除/关闭 1" in text
    assert "删除中位天数 3.0" in text
    # a batch sent outside the period does not count
    with sessions() as s:
        assert build_report(s, date(2026, 12, 1), date(2026, 12, 31)).total.referred == 0


def test_a_reappearing_contact_reopens_a_closed_target(world: dict[str, Any]) -> None:
    from datetime import timedelta

    from referrals.recheck import run_due_rechecks

    number = _create(world, "cac")
    assert number
    _approve(world, number)
    sent = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    sessions = world["sessions"]
    with sessions.begin() as s:
        mark_sent(s, number, user="wang", now=sent)
        item = s.scalars(select(ReferralItem).where(ReferralItem.authority == "cac")).one()
        item.state, item.closed_at = "closed", sent + timedelta(days=3)
        source = repository.ensure_source(s, "hub", "site")
        url = "http://hz.fenlei-xinxi.com/jiankang/53000001x.shtml"
        record = repository.PageRecord(
            canonical_url=url, url=url, final_url=url, domain="hz.fenlei-xinxi.com",
            registrable_domain="fenlei-xinxi.com", title="新帖", text="新帖", content_hash="1" * 64, http_status=200,
            encoding="utf-8",
        )  # fmt: skip
        page, _ = repository.upsert_page(s, record, source_id=source.id, run_id=None, seen_at=sent + timedelta(days=5))
        repository.replace_contacts(page, {"mobile": ["15268193304"]})
    summary = run_due_rechecks(world["config"], sessions, now=sent + timedelta(hours=1))
    assert (summary.checked, summary.reopened) == (0, 1)
    with sessions() as s:
        item = s.scalars(select(ReferralItem).where(ReferralItem.authority == "cac")).one()
        assert (item.state, item.closed_at) == ("open", None)


def test_prune_deletes_only_old_evidence_of_hits_never_referred(world: dict[str, Any]) -> None:
    from datetime import timedelta

    from evidence.capture import prune_expired

    config, sessions = world["config"], world["sessions"]
    with sessions.begin() as s:
        unconfirmed = s.scalars(select(Hit).where(Hit.status == "new")).one()
        _write_evidence(config, s, unconfirmed)
    number = _create(world, "samr")
    assert number
    root = Path(config.evidence.folder)
    assert prune_expired(config, sessions, now=T0 + timedelta(days=100)) == 0  # within evidence.retention_days
    assert prune_expired(config, sessions, now=T0 + timedelta(days=800)) == 1
    with sessions() as s:
        records = s.scalars(select(EvidenceRecord)).all()
        pruned = [r for r in records if r.pruned_at is not None]
        assert [r.hit_id for r in pruned] == [unconfirmed.id]
        assert not (root / pruned[0].folder).exists()
        assert all((root / r.folder).is_dir() for r in records if r.pruned_at is None)


def test_evidence_and_recheck_commands(world: dict[str, Any]) -> None:
    config_path = str(world["config"].base_dir / "config.yaml")
    runner = CliRunner()
    checked = runner.invoke(main, ["evidence", "check", "--config", config_path])
    assert checked.exit_code == 0 and "证据完整性检查通过" in checked.output
    shot = next(Path(world["config"].evidence.folder).rglob("screenshot.png"))
    shot.chmod(0o644)
    shot.write_bytes(b"retouched")
    broken = runner.invoke(main, ["evidence", "check", "--config", config_path])
    assert broken.exit_code == 1 and "文件被改动" in broken.output and shot.parent.name in broken.output
    rechecked = runner.invoke(main, ["recheck", "--config", config_path])
    assert rechecked.exit_code == 0 and "复查 0 个目标" in rechecked.output
    created = runner.invoke(main, ["batch", "create", "--authority", "cac", "--as", "wang", "--config", config_path])
    number = created.stdout.strip()
    discarded = runner.invoke(main, ["batch", "discard", number, "--as", "wang", "--config", config_path])
    assert discarded.exit_code == 0, discarded.output
    again = runner.invoke(main, ["batch", "create", "--authority", "cac", "--as", "wang", "--config", config_path])
    assert again.stdout.strip() == number  # the discarded draft freed its hits and its number
    unknown = runner.invoke(main, ["batch", "approve", "HZWJS-cac-2026-999", "--as", "zhao", "--config", config_path])
    assert unknown.exit_code == 1 and "没有编号为" in unknown.output


def test_domain_layout_never_builds_paths_from_hostile_names(world: dict[str, Any]) -> None:
    from crawler.config import with_changes
    from evidence.capture import _folder_for

    config = with_changes(world["config"], "t", evidence={"layout": "domain"})
    with world["sessions"]() as s:
        hit = s.scalars(select(Hit)).first()
        assert hit is not None
        folder, relative = _folder_for(config, hit, "H", T0)
        assert relative == f"hzguahao-vip.com/H{hit.id:06d}-20261120T013000Z" and folder.is_dir()
        hit.page.registrable_domain = "../../etc"
        _, hostile = _folder_for(config, hit, "H", T0)
        assert hostile.startswith("_other/")
        _, second = _folder_for(config, hit, "H", T0)
        assert second == hostile + "-2"  # a capture folder is never reused


def test_answer_as_xlsx_by_domain(world: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import Workbook

    number = _create(world, "miit")
    assert number
    _approve(world, number)
    with world["sessions"].begin() as s:
        mark_sent(s, number, user="wang", now=APPROVED)
    workbook = Workbook()
    workbook.active.append(["主域名", "处置结果", "受理编号"])
    workbook.active.append(["hzguahao-vip.com", "已停止接入", "京通-2026-118"])
    path = tmp_path / "回复.xlsx"
    workbook.save(path)
    with world["sessions"].begin() as s:
        assert import_answer(s, number, path, user="wang", now=APPROVED).updated == 2  # two pages of the domain
    with world["sessions"]() as s:
        answered = {i.hit.page.url: i.outcome for i in s.scalars(select(ReferralItem)) if i.outcome}
    assert answered == {PAGES[0][0]: "已停止接入", PAGES[1][0]: "已停止接入"}
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with world["sessions"].begin() as s, pytest.raises(AnswerError, match="无法读取 xlsx"):
        import_answer(s, number, tmp_path / "broken.xlsx", user="wang", now=APPROVED)


def test_the_batchless_export_and_batches_share_routing_and_refer_once(world: dict[str, Any], tmp_path: Path) -> None:
    from referrals.export import export_unreferred

    with world["sessions"].begin() as s:
        result = export_unreferred(s, authority="miit", out_dir=tmp_path, institute_code="HZWJS",
                                   platforms=load_platforms([PLATFORM]), now=CREATED)  # fmt: skip
    assert result is not None and result.hits == 4  # the ad went to samr, not here; the unconfirmed site too
    with world["sessions"]() as s:
        targets = sorted(i.target for i in s.scalars(select(ReferralItem)))
    assert targets == ["hz-daiguahao.net", "hzbaoai-pifu.com", "hzguahao-vip.com", "hzguahao-vip.com"]
    assert _create(world, "miit") is None  # already referred to miit
    assert _create(world, "samr") == "HZWJS-samr-2026-001"
