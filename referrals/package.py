"""A batch's export package and its verification.

``export_batch`` writes ``DIR/NUMBER/``: ``NUMBER.xlsx``, ``NUMBER.csv``, ``NUMBER-letter.docx`` and
``NUMBER-evidence.zip`` (every evidence file of the batch's hits, a ``manifest.json`` and a ``SHA256SUMS``
that ``sha256sum -c`` reads). Exporting the same approved batch again gives the same bytes: every archive
(xlsx and docx are zip files too) is re-packed with the approval time as the time of each entry and in the
core properties, entries in a fixed order. Names inside the zip are generated from hit ids, never taken
from crawled data. Evidence is checked against its manifests and the database before it is packed, so
altered or missing evidence stops the export instead of being handed over.

``verify_zip`` re-hashes every member of an evidence zip against ``SHA256SUMS`` and ``manifest.json`` and
each capture's ``evidence.json``; it needs nothing but the zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import ExportError
from evidence.capture import evidence_root
from evidence.files import MANIFEST_NAME, check_folder, manifest_bytes
from referrals.batches import get_batch
from referrals.letter import LetterFacts, render_letter
from referrals.routing import icp_for_domain
from referrals.sheets import batch_sheet, china_clock, evidence_by_hit, evidence_dir, render_csv, render_xlsx
from storage import audit

CHINA = ZoneInfo("Asia/Shanghai")
SUMS_NAME = "SHA256SUMS"
ZIP_MANIFEST = "manifest.json"
README_NAME = "README.txt"
MAX_VERIFY_BYTES = 4 * 1024**3

README_TEXT = """证据包说明
==========
本证据包由移交单位的监测系统生成，包含每条线索的取证文件：
  evidence/H<线索编号>/response.warc.gz  网页原始请求与响应（WARC 格式，可用 warcio 等工具读取）
  evidence/H<线索编号>/screenshot.png    浏览器整页截图
  evidence/H<线索编号>/evidence.json     该次取证的清单：网址、最终网址、跳转链、解析地址、取证时间、
                                          工具版本、各文件 SHA-256
  manifest.json                           本批次清单：批次编号、线索列表、每个文件的 SHA-256
  SHA256SUMS                              全部文件（SHA256SUMS 本身除外）的 SHA-256

核对方法：解压后进入本目录，运行
  sha256sum -c SHA256SUMS
每个文件显示“成功”/“OK”即表示与移交时一致。也可运行 touthunt verify <证据包.zip>。
"""


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = moment.astimezone(CHINA)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def write_fixed_zip(entries: list[tuple[str, bytes]], when: datetime) -> bytes:
    """A zip whose bytes depend only on the entries and ``when``: fixed entry times and attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_zip_time(when))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def fix_office_file(data: bytes, when: datetime) -> bytes:
    """Re-pack an xlsx/docx with fixed entry times and the created/modified core properties set to ``when``
    (openpyxl stamps the save time into ``docProps/core.xml``)."""
    stamp = _w3c(when).encode("ascii")
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIMES.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            entries.append((info.filename, content))
    return write_fixed_zip(entries, when)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ExportedBatch:
    folder: Path
    files: dict[str, str]  # file name -> sha256
    hits: int
    rows: int
    missing_evidence: list[int]
    zip_manifest_sha256: str


def _evidence_entries(
    config: Config, session: Session, batch_hits: list[int]
) -> tuple[list[tuple[str, bytes]], list[dict[str, object]], list[int]]:
    root = evidence_root(config)
    records = evidence_by_hit(session, batch_hits)
    entries: list[tuple[str, bytes]] = []
    items: list[dict[str, object]] = []
    missing = []
    for hit_id in batch_hits:
        record = records.get(hit_id)
        if record is None:
            missing.append(hit_id)
            continue
        folder = root / record.folder
        problems = check_folder(folder, record.manifest_sha256)
        if problems:
            listed = ", ".join(f"{p.name}: {p.problem}" for p in problems)
            raise ExportError(f"线索 {hit_id} 的证据文件与证据清单不一致 ({folder}: {listed})，已停止导出")
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        prefix = evidence_dir(hit_id)
        entries.append((f"{prefix}/{MANIFEST_NAME}", (folder / MANIFEST_NAME).read_bytes()))
        for entry in sorted(manifest["files"], key=lambda f: f["name"]):
            name = PurePosixPath(entry["name"]).name  # names written by evidence.capture; never a path
            entries.append((f"{prefix}/{name}", (folder / name).read_bytes()))
        items.append({
            "hit_id": hit_id,
            "evidence_dir": prefix,
            "evidence_manifest_sha256": record.manifest_sha256,
            "captured_at_china": china_clock(record.captured_at),
            "url": record.url,
            "final_url": record.final_url,
        })  # fmt: skip
    return entries, items, missing


def _write_file(path: Path, data: bytes) -> None:
    """Write a package file; an identical existing file is kept, a different one is never overwritten."""
    if path.exists():
        if path.read_bytes() == data:
            return
        raise ExportError(f"{path} 已存在且内容不同；请换一个输出目录 (--out)")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def export_batch(
    config: Config, session: Session, number: str, out_dir: Path, *, user: str = "system"
) -> ExportedBatch:
    batch = get_batch(session, number)
    if batch.status == "draft" or batch.approved_at is None:
        raise ExportError(f"批次 {number} 尚未审批，不能导出 (touthunt batch approve {number} --as 审核人)")
    when = batch.approved_at
    institute = config.referrals.institute_name
    hits = [item.hit for item in batch.items]
    hit_ids = [h.id for h in hits]
    sheet = batch_sheet(session, batch)
    entries, items, missing = _evidence_entries(config, session, hit_ids)
    by_hit = {item["hit_id"]: item for item in items}
    for item in batch.items:
        entry = by_hit.get(item.hit_id)
        if entry is not None:
            entry["target"] = item.target
    zip_manifest = {
        "format": "touthunt-referral-evidence/1",
        "batch": number,
        "authority": batch.authority,
        "institute": institute,
        "approved_at_china": china_clock(when),
        "hits": hit_ids,
        "items": items,
        "hits_without_evidence": missing,
        "files": [{"name": name, "sha256": _sha(data), "size": len(data)} for name, data in entries],
    }
    manifest_data = manifest_bytes(zip_manifest)
    readme = README_TEXT.encode("utf-8")
    listed = sorted([(ZIP_MANIFEST, manifest_data), (README_NAME, readme), *entries])
    sums = "".join(f"{_sha(data)}  {name}\n" for name, data in listed).encode("utf-8")
    zip_data = write_fixed_zip([*listed, (SUMS_NAME, sums)], when)

    names = {
        "xlsx": f"{number}.xlsx",
        "csv": f"{number}.csv",
        "docx": f"{number}-letter.docx",
        "zip": f"{number}-evidence.zip",
    }
    bureaus: list[str] = []
    if batch.authority == "miit":
        unrouted = False
        for domain in sorted({h.page.registrable_domain for h in hits}):
            bureau = icp_for_domain(session, domain).bureau
            unrouted = unrouted or not bureau
            if bureau and bureau not in bureaus:
                bureaus.append(bureau)
        if unrouted and bureaus:  # sites showing no filing number go to the bureau where they are hosted
            bureaus.append("网站接入地通信管理局")
    facts = LetterFacts(
        number=number,
        authority=batch.authority,
        institute=institute,
        categories=[h.category for h in hits],
        rows=len(sheet.rows),
        bureaus=bureaus,
        approved_at=when,
        sheet_name=names["xlsx"],
        csv_name=names["csv"],
        zip_name=names["zip"],
        zip_manifest_sha256=_sha(manifest_data),
    )
    contents = {
        names["xlsx"]: fix_office_file(render_xlsx(sheet, subject=number, author=institute, when=when), when),
        names["csv"]: render_csv(sheet),
        names["docx"]: fix_office_file(render_letter(facts), when),
        names["zip"]: zip_data,
    }
    folder = out_dir / number
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in contents.items():
            _write_file(folder / name, data)
    except OSError as exc:
        raise ExportError(f"cannot write {folder}: {exc}") from exc
    files = {name: _sha(data) for name, data in contents.items()}
    audit.record(session, user, "batch_export", f"batch:{number}", folder=str(folder), files=files)
    return ExportedBatch(folder, files, len(hits), len(sheet.rows), missing, _sha(manifest_data))


# Verification ---------------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name and name == name.strip()


def verify_zip(path: Path) -> VerifyReport:
    """Re-hash every file of an evidence zip against SHA256SUMS, manifest.json and each evidence.json."""
    report = VerifyReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: 不是可读的 zip 文件 ({exc})")
        return report
    with archive:
        hashes: dict[str, str] = {}
        total = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            if not _safe_member(info.filename):
                report.problems.append(f"{info.filename!r}: 不安全的文件名")
                continue
            total += info.file_size
            if total > MAX_VERIFY_BYTES:
                report.problems.append("证据包解压后过大，停止校验")
                return report
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError) as exc:  # a CRC error is an altered file too
                report.problems.append(f"{info.filename}: 无法读取 ({exc})")
                continue
            hashes[info.filename] = _sha(data)
        if SUMS_NAME not in hashes:
            report.problems.append(f"缺少 {SUMS_NAME}")
            return report
        sums: dict[str, str] = {}
        for number, line in enumerate(archive.read(SUMS_NAME).decode("utf-8", "replace").splitlines(), start=1):
            match = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
            if not match:
                report.problems.append(f"{SUMS_NAME} 第 {number} 行格式错误")
                continue
            sums[match.group(2)] = match.group(1)
        for name, digest in sorted(sums.items()):
            if name not in hashes:
                report.problems.append(f"{name}: 文件缺失")
            elif hashes[name] != digest:
                report.problems.append(f"{name}: SHA-256 不符 (应为 {digest}，实为 {hashes[name]})")
            else:
                report.checked += 1
        for name in sorted(set(hashes) - set(sums) - {SUMS_NAME}):
            report.problems.append(f"{name}: 未列入 {SUMS_NAME}")
        if ZIP_MANIFEST not in hashes:
            report.problems.append(f"缺少 {ZIP_MANIFEST}")
            return report
        try:
            manifest = json.loads(archive.read(ZIP_MANIFEST).decode("utf-8"))
            listed = {f["name"]: f["sha256"] for f in manifest["files"]}
            items = list(manifest["items"])
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"{ZIP_MANIFEST}: 格式错误")
            return report
        for name, digest in sorted(listed.items()):
            if hashes.get(name) != digest:
                report.problems.append(f"{name}: 与 {ZIP_MANIFEST} 记载的 SHA-256 不符或缺失")
        for item in items:
            prefix = str(item.get("evidence_dir", ""))
            evidence_manifest = f"{prefix}/{MANIFEST_NAME}"
            if hashes.get(evidence_manifest) != item.get("evidence_manifest_sha256"):
                report.problems.append(f"{evidence_manifest}: 与取证时记录的清单 SHA-256 不符或缺失")
                continue
            try:
                capture = json.loads(archive.read(evidence_manifest).decode("utf-8"))
                files = {f["name"]: f["sha256"] for f in capture["files"]}
            except (ValueError, KeyError, TypeError):
                report.problems.append(f"{evidence_manifest}: 格式错误")
                continue
            for name, digest in sorted(files.items()):
                if hashes.get(f"{prefix}/{name}") != digest:
                    report.problems.append(f"{prefix}/{name}: 与取证清单不符或缺失")
    return report
