"""The ``touthunt certs`` commands: import the analyst's CSV list of approved 医疗广告审查证明 and list it.

The CSV (exported from Excel or a 卫生监督 list) is UTF-8 (with or without BOM) or GBK/GB18030, comma- or
tab-separated, with a header row. Columns are found by name, Chinese or English (see `COLUMNS`): the certificate
number is required; institution, valid from and valid until are optional (a single 有效期 column holding
"2025-01-01至2025-12-31" also works). Dates may be written 2025-01-01, 2025/1/1, 2025.1.1, 20250101 or
2025年1月1日. A row that cannot be read is reported by its line number and skipped; the good rows are imported.
Importing a number again updates it. The crawl checks the numbers medical ads show against this list
(`keywords.identifiers.IdentifierSignal`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import click

from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.errors import TouthuntError
from crawler.hitlist import CHINA, fit_cell
from keywords.adcerts import AdCertificate
from keywords.identifiers import normalise_ad_cert_number

__all__ = ["COLUMNS", "CsvImport", "certs", "parse_date", "read_certificates_csv"]

#: Accepted header names per field (compared without spaces, case and a bracketed note such as "（YYYY-MM-DD）").
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": (
        "审查证明文号", "医疗广告审查证明文号", "广告审查证明文号", "审查证明编号", "证明文号", "文号", "证明编号",
        "number", "certificate", "certificate_number", "certificatenumber", "cert_no", "approval_number",
    ),
    "institution": (
        "医疗机构名称", "医疗机构", "机构名称", "单位名称", "广告主", "institution", "institution_name", "name",
    ),
    "valid_from": (
        "有效期起", "有效期自", "有效期开始", "起始日期", "开始日期", "发证日期", "批准日期",
        "valid_from", "from", "start", "issued",
    ),
    "valid_until": (
        "有效期止", "有效期至", "有效期截止", "截止日期", "结束日期", "到期日期", "失效日期",
        "valid_until", "until", "end", "expires", "expiry",
    ),
    "validity": ("有效期", "validity"),
}  # fmt: skip
_HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_RANGE_SEPARATOR = re.compile(r"\s*(?:至|到|~|～|—|--|\s-\s)\s*")


@dataclass
class CsvImport:
    """Certificates read from a CSV, the rejected rows (one message each), notes on rows read but worth a look
    (a number given twice: the later row is kept) and the encoding used."""

    certificates: list[AdCertificate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def parse_date(text: str) -> date | None:
    """A date in one of the usual spellings; None for an empty cell; ValueError otherwise."""
    text = text.strip()
    if not text:
        return None
    m = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"日期无法识别 {text!r}")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"日期不存在 {text!r}") from None


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise TouthuntError(f"文件既不是 UTF-8 也不是 GBK 编码 (byte {exc.start})") from None


def _header_key(name: str) -> str:
    return _HEADER_NOTE.sub("", name).replace(" ", "").replace("\u3000", "").strip().lower()


def _columns(header: list[str]) -> dict[str, int]:
    wanted = {_header_key(alias): fieldname for fieldname, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        fieldname = wanted.get(_header_key(name))
        if fieldname is not None and fieldname not in found:
            found[fieldname] = index
    if "number" not in found:
        raise TouthuntError(
            f"CSV 表头中没有审查证明文号列 (header: {', '.join(header) or 'empty'}; "
            f"accepted: {', '.join(COLUMNS['number'])})"
        )
    return found


def _row(cells: list[str], columns: dict[str, int]) -> AdCertificate:
    def cell(fieldname: str) -> str:
        index = columns.get(fieldname)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw_number = cell("number")
    if not raw_number:
        raise ValueError("缺少审查证明文号")
    number = normalise_ad_cert_number(raw_number)
    if number is None:
        raise ValueError(f"审查证明文号无法识别 {raw_number!r}")
    valid_from, valid_until = parse_date(cell("valid_from")), parse_date(cell("valid_until"))
    validity = cell("validity")
    if validity and valid_from is None and valid_until is None:
        parts = _RANGE_SEPARATOR.split(validity, maxsplit=1)
        if len(parts) != 2:
            raise ValueError(f"有效期无法识别 {validity!r} (例: 2025-01-01至2025-12-31)")
        valid_from, valid_until = parse_date(parts[0]), parse_date(parts[1])
    if valid_from and valid_until and valid_until < valid_from:
        raise ValueError(f"有效期止 {valid_until} 早于有效期起 {valid_from}")
    return AdCertificate(number, cell("institution"), valid_from, valid_until)


def read_certificates_csv(data: bytes) -> CsvImport:
    """Parse the analyst's CSV. Raises TouthuntError when the file as a whole is unusable (encoding, no number
    column); a bad row only adds an error naming its line."""
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = CsvImport(encoding=encoding)
    try:
        header = next(reader, None)
        if header is None:
            raise TouthuntError("CSV 文件是空的")
        columns = _columns(header)
        seen: dict[str, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            try:
                certificate = _row(cells, columns)
            except ValueError as exc:
                result.errors.append(f"第 {line} 行: {exc}")
                continue
            if certificate.number in seen:
                result.notes.append(f"第 {line} 行: 文号与第 {seen[certificate.number]} 行重复, 以本行为准")
                result.certificates = [c for c in result.certificates if c.number != certificate.number]
            seen[certificate.number] = line
            result.certificates.append(certificate)
    except csv.Error as exc:
        result.errors.append(f"第 {reader.line_num} 行: CSV 格式错误 ({exc}), 其后各行未读")
    return result


@click.group()
def certs() -> None:
    """医疗广告审查证明 list: import the analyst's CSV, list it."""


@certs.command("import")
@click.argument("csv_path", type=click.Path(dir_okay=False, path_type=Path))
@with_config
def import_certificates(config: Config, csv_path: Path) -> None:
    """Import (or update) approved certificates from CSV_PATH (UTF-8 or GBK; bad rows are reported by line)."""
    from storage.adcerts import count_certificates, upsert_certificates

    try:
        data = csv_path.read_bytes()
    except OSError as exc:
        raise TouthuntError(f"{csv_path}: 无法读取 ({exc.strerror or exc})") from None
    parsed = read_certificates_csv(data)
    for message in [*parsed.errors, *parsed.notes]:
        click.echo(f"{csv_path}: {message}", err=True)
    sessions = open_database(config)
    with sessions.begin() as session:
        counts = upsert_certificates(session, parsed.certificates, source_file=str(csv_path.resolve()))
        total = count_certificates(session)
    rejected = len(parsed.errors)
    click.echo(
        f"导入审查证明 {len(parsed.certificates)} 条 (新增 {counts.inserted}, 更新 {counts.updated}); "
        f"有误跳过 {rejected} 行; 库中共 {total} 条 [{parsed.encoding}]"
    )
    if rejected:
        sys.exit(1)


def _status(valid_from: date | None, valid_until: date | None, today: date) -> str:
    status = AdCertificate("", "", valid_from, valid_until).status(today)
    return {"expired": "已过期", "not_yet_valid": "未生效", "valid": "有效"}[status]


@certs.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_config
def list_certificates(config: Config, fmt: str) -> None:
    """The imported certificates with their status today (有效 / 已过期 / 未生效)."""
    from storage import adcerts

    today = datetime.now(CHINA).date()
    sessions = open_database(config)
    with sessions() as session:
        rows = [
            {
                "number": row.number,
                "institution": row.institution,
                "valid_from": row.valid_from.isoformat() if row.valid_from else "",
                "valid_until": row.valid_until.isoformat() if row.valid_until else "",
                "status": _status(row.valid_from, row.valid_until, today),
            }
            for row in adcerts.list_certificates(session)
        ]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["number", "institution", "valid_from", "valid_until", "status"])
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.buffer.write(out.getvalue().encode("utf-8"))
    else:
        columns = (("number", "审查证明文号", 34), ("institution", "医疗机构", 28), ("valid_from", "有效期起", 10),
                   ("valid_until", "有效期止", 10), ("status", "状态", 6))  # fmt: skip
        click.echo("  ".join(fit_cell(header, width) for _key, header, width in columns).rstrip())
        click.echo("  ".join("-" * width for _key, _header, width in columns))
        for row in rows:
            click.echo("  ".join(fit_cell(row[key], width) for key, _header, width in columns).rstrip())
        click.echo(f"共 {len(rows)} 条审查证明", err=True)
