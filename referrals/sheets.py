"""The referral list of a batch as each authority wants it: Chinese headers and rows for cac (content URLs),
miit (one row per registrable domain, with the ICP number shown and the bureau it routes to), samr (the ad,
its claims and the ad-approval number shown) and police (the operator's contacts), rendered as xlsx
(frozen header row, column widths, hyperlinks) and as CSV (UTF-8 with BOM).

Crawled text is hostile: every cell is bounded, text that a spreadsheet would run as a formula is kept as
text (xlsx) or prefixed with an apostrophe (CSV), and only http(s) URLs become hyperlinks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.labels import category_label
from referrals.routing import icp_for_domain
from storage.models import EvidenceRecord, Hit, ReferralBatch

CHINA = ZoneInfo("Asia/Shanghai")
MAX_CELL = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    link: bool = False


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Cell]]


def china_clock(value: datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def evidence_by_hit(session: Session, hit_ids: Sequence[int]) -> dict[int, EvidenceRecord]:
    """The newest kept capture of each hit."""
    records = session.scalars(
        select(EvidenceRecord)
        .where(EvidenceRecord.hit_id.in_(list(hit_ids)), EvidenceRecord.kind == "capture")
        .where(EvidenceRecord.pruned_at.is_(None))
        .order_by(EvidenceRecord.captured_at, EvidenceRecord.id)
    )
    return {record.hit_id: record for record in records}


def evidence_dir(hit_id: int) -> str:
    """The folder of a hit's evidence inside the batch's evidence zip (generated, never crawled text)."""
    return f"evidence/H{hit_id:06d}"


def _bound(text: str) -> str:
    text = text.replace("\x00", "")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _contacts(hits: Sequence[Hit], *kinds: str) -> str:
    return " ".join(sorted({c.value for h in hits for c in h.page.contacts if c.kind in kinds}))


def _terms(hits: Sequence[Hit], limit: int = 20) -> str:
    terms: list[str] = []
    for hit in hits:
        for reason in hit.reasons:
            text = reason.get("text")
            if reason.get("weight", 0) > 0 and text and text not in terms:
                terms.append(str(text))
    return "、".join(terms[:limit])


def _identifiers(hits: Sequence[Hit], kind: str) -> str:
    return " ".join(sorted({i.value for h in hits for i in h.page.identifiers if i.kind == kind}))


def _evidence_cells(hits: Sequence[Hit], evidence: dict[int, EvidenceRecord]) -> tuple[str, str, str]:
    found = [(h.id, evidence[h.id]) for h in hits if h.id in evidence]
    if not found:
        return "", "未取证", ""
    return (
        "\n".join(china_clock(record.captured_at) for _, record in found),
        "\n".join(evidence_dir(hit_id) for hit_id, _ in found),
        "\n".join(record.manifest_sha256 for _, record in found),
    )


EVIDENCE_COLUMNS = (Column("取证时间(北京时间)", 20), Column("证据目录(见证据包)", 20), Column("证据清单SHA-256", 68))


def _cac(hits: Sequence[Hit], evidence: dict[int, EvidenceRecord], session: Session) -> Sheet:
    columns = (
        Column("序号", 6), Column("线索编号", 10), Column("类别", 14), Column("平台/网站", 24), Column("网页标题", 36),
        Column("网址", 50, link=True), Column("最终网址", 50, link=True), Column("手机号", 16), Column("微信", 18),
        Column("QQ", 14), Column("命中依据", 40), Column("评分", 6), Column("首次发现(北京时间)", 20),
        *EVIDENCE_COLUMNS, Column("建议处置", 22),
    )  # fmt: skip
    rows: list[list[Cell]] = []
    for index, hit in enumerate(hits, start=1):
        rows.append([
            index, hit.id, category_label(hit.category), hit.page.domain, hit.page.title, hit.page.url,
            hit.page.final_url, _contacts([hit], "mobile"), _contacts([hit], "wechat"), _contacts([hit], "qq"),
            _terms([hit]), hit.score, china_clock(hit.page.first_seen), *_evidence_cells([hit], evidence),
            "删除违法信息，处置发布账号",
        ])  # fmt: skip
    return Sheet("网信部门移交清单", columns, rows)


def _miit(hits: Sequence[Hit], evidence: dict[int, EvidenceRecord], session: Session) -> Sheet:
    columns = (
        Column("序号", 6), Column("主域名", 24), Column("网站标示的ICP备案号", 28), Column("备案地", 14),
        Column("建议接收单位", 24), Column("涉及网页数", 10), Column("线索编号", 14), Column("网址", 50, link=True),
        Column("类别", 14), Column("手机号", 16), Column("微信", 18), Column("QQ", 14), Column("命中依据", 40),
        Column("首次发现(北京时间)", 20), *EVIDENCE_COLUMNS, Column("建议处置", 30),
    )  # fmt: skip
    by_domain: dict[str, list[Hit]] = {}
    for hit in hits:
        by_domain.setdefault(hit.page.registrable_domain, []).append(hit)
    rows: list[list[Cell]] = []
    for index, (domain, group) in enumerate(sorted(by_domain.items()), start=1):
        icp = icp_for_domain(session, domain)
        rows.append([
            index, domain, " ".join(icp.numbers) or "网站未标示备案号", icp.region or "未知",
            icp.bureau or "（未标示备案号，请按网站接入地核查）", len(group), " ".join(str(h.id) for h in group),
            "\n".join(h.page.final_url for h in group),
            "、".join(dict.fromkeys(category_label(h.category) for h in group)),
            _contacts(group, "mobile"), _contacts(group, "wechat"), _contacts(group, "qq"), _terms(group),
            china_clock(min(h.page.first_seen for h in group)), *_evidence_cells(group, evidence),
            "依法处置违法网站：责令整改，拒不整改的停止接入或注销备案",
        ])  # fmt: skip
    return Sheet("通信管理局移交清单", columns, rows)


def _samr(hits: Sequence[Hit], evidence: dict[int, EvidenceRecord], session: Session) -> Sheet:
    columns = (
        Column("序号", 6), Column("线索编号", 10), Column("发布网站/平台", 24), Column("网页标题", 36),
        Column("网址", 50, link=True), Column("违法情形(命中内容)", 40), Column("页面标示的医疗广告审查证明文号", 30),
        Column("联系方式", 30), Column("首次发现(北京时间)", 20), *EVIDENCE_COLUMNS, Column("建议处置", 24),
    )  # fmt: skip
    rows: list[list[Cell]] = []
    for index, hit in enumerate(hits, start=1):
        rows.append([
            index, hit.id, hit.page.domain, hit.page.title, hit.page.final_url, _terms([hit]),
            _identifiers([hit], "ad_cert") or "未标示",
            _contacts([hit], "mobile", "wechat", "qq", "landline", "tollfree"),
            china_clock(hit.page.first_seen), *_evidence_cells([hit], evidence), "依法查处违法医疗广告",
        ])  # fmt: skip
    return Sheet("市场监管部门移交清单", columns, rows)


def _police(hits: Sequence[Hit], evidence: dict[int, EvidenceRecord], session: Session) -> Sheet:
    columns = (
        Column("序号", 6), Column("线索编号", 10), Column("类别", 14), Column("手机号", 16), Column("微信", 18),
        Column("QQ", 14), Column("网站/平台", 24), Column("网址", 50, link=True), Column("命中依据", 40),
        Column("首次发现(北京时间)", 20), *EVIDENCE_COLUMNS, Column("建议处置", 30),
    )  # fmt: skip
    rows: list[list[Cell]] = []
    for index, hit in enumerate(hits, start=1):
        rows.append([
            index, hit.id, category_label(hit.category), _contacts([hit], "mobile"), _contacts([hit], "wechat"),
            _contacts([hit], "qq"), hit.page.domain, hit.page.final_url, _terms([hit]),
            china_clock(hit.page.first_seen), *_evidence_cells([hit], evidence),
            "依法调查倒卖号源、医托诱骗等违法行为",
        ])  # fmt: skip
    return Sheet("公安机关移交清单", columns, rows)


BUILDERS: dict[str, Callable[[Sequence[Hit], dict[int, EvidenceRecord], Session], Sheet]] = {
    "cac": _cac,
    "miit": _miit,
    "samr": _samr,
    "police": _police,
}


def batch_sheet(session: Session, batch: ReferralBatch) -> Sheet:
    hits = [item.hit for item in batch.items]
    return BUILDERS[batch.authority](hits, evidence_by_hit(session, [h.id for h in hits]), session)


def _safe_link(value: str) -> str | None:
    first = value.split("\n", 1)[0]
    return first if first.startswith(("http://", "https://")) and len(first) <= 2000 else None


def render_xlsx(sheet: Sheet, *, subject: str, author: str, when: datetime) -> bytes:
    """The sheet as xlsx bytes; core properties carry ``when`` (callers make the archive's times fixed)."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet.title[:31]
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for col, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=1, column=col, value=column.header)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = column.width
    wrap = Alignment(vertical="top", wrap_text=True)
    for r, row in enumerate(sheet.rows, start=2):
        for col, (column, value) in enumerate(zip(sheet.columns, row, strict=True), start=1):
            cell = ws.cell(row=r, column=col)
            if isinstance(value, int):
                cell.value = value
            else:
                cell.value = _bound(value)
                cell.data_type = "s"  # never a formula, whatever the crawled text starts with
                link = _safe_link(value) if column.link else None
                if link:
                    cell.hyperlink = link
                    cell.style = "Hyperlink"
            cell.alignment = wrap
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{max(1, len(sheet.rows) + 1)}"
    props = workbook.properties
    props.creator = author
    props.lastModifiedBy = author
    props.title = sheet.title
    props.subject = subject
    props.created = when.astimezone(UTC).replace(tzinfo=None)
    props.modified = when.astimezone(UTC).replace(tzinfo=None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_cell(value: Cell) -> Cell:
    if isinstance(value, int):
        return value
    value = _bound(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def render_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in sheet.columns])
    writer.writerows([[_csv_cell(v) for v in row] for row in sheet.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
