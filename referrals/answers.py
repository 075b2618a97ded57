"""Importing an authority's answer to a batch: a CSV (UTF-8, with or without BOM) or xlsx with a header row
naming the target (``网址``/``URL`` or ``主域名``/``域名``), the outcome (``处置结果``) and optionally the
tracking code the authority issued (``受理编号``/``编号``). The whole file is checked first; any bad line
(unknown target, empty outcome, wrong columns, an encoding that is not UTF-8) rejects the file with the line
and the reason, and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crawler.errors import ExportError
from referrals.batches import get_batch
from storage import audit
from storage.users import require_user

TARGET_HEADERS = ("网址", "url", "链接", "主域名", "域名", "domain", "网站")
OUTCOME_HEADERS = ("处置结果", "处理结果", "结果", "outcome")
CODE_HEADERS = ("受理编号", "编号", "回执编号", "tracking_code", "code")
MAX_ROWS = 20000
MAX_FIELD = 200


class AnswerError(ExportError):
    """The answer file cannot be imported; the message lists each bad line."""


@dataclass(frozen=True)
class AnswerImport:
    updated: int


def _rows_from_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AnswerError(f"{path.name}: 第 {line} 行不是 UTF-8 编码；请另存为 UTF-8 CSV") from None
    return [row for row in csv.reader(io.StringIO(text))]


def _rows_from_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise AnswerError(f"{path.name}: 无法读取 xlsx ({exc})") from None
    try:
        sheet = workbook.worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().lower() for h in header]
    for name in names:
        if name in folded:
            return folded.index(name)
    return None


def import_answer(session: Session, number: str, path: Path, *, user: str, now: datetime) -> AnswerImport:
    actor = require_user(session, user, "analyst")
    batch = get_batch(session, number)
    if batch.status not in ("sent", "answered"):
        raise AnswerError(f"批次 {number} 状态为 {batch.status}，发送后才能导入回复")
    rows = _rows_from_xlsx(path) if path.suffix.lower() == ".xlsx" else _rows_from_csv(path)
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise AnswerError(f"{path.name}: 文件为空")
    if len(rows) > MAX_ROWS:
        raise AnswerError(f"{path.name}: 行数过多 ({len(rows)})")
    header = rows[0]
    target_col = _column(header, TARGET_HEADERS)
    outcome_col = _column(header, OUTCOME_HEADERS)
    code_col = _column(header, CODE_HEADERS)
    if target_col is None or outcome_col is None:
        raise AnswerError(
            f"{path.name} 第 1 行: 缺少列 “网址”或“主域名” 以及 “处置结果” (现有列: {'，'.join(header)[:200]})"
        )
    items_by_target: dict[str, list] = {}
    for item in batch.items:
        items_by_target.setdefault(item.target, []).append(item)
        items_by_target.setdefault(item.hit.page.final_url, []).append(item)
        items_by_target.setdefault(item.hit.page.url, []).append(item)
    errors: list[str] = []
    updates = []
    for line, row in enumerate(rows[1:], start=2):
        cells = row + [""] * (len(header) - len(row))
        target = cells[target_col].strip()
        outcome = cells[outcome_col].strip()
        code = cells[code_col].strip() if code_col is not None else ""
        if target not in items_by_target:
            errors.append(f"第 {line} 行: {target[:100]!r} 不在批次 {number} 中")
        elif not outcome:
            errors.append(f"第 {line} 行: 处置结果为空")
        elif len(outcome) > MAX_FIELD or len(code) > 100:
            errors.append(f"第 {line} 行: 内容过长")
        else:
            updates.append((items_by_target[target], outcome, code))
    if errors:
        raise AnswerError(f"{path.name} 未导入:\n" + "\n".join(errors[:50]))
    updated = set()
    for items, outcome, code in updates:
        for item in items:
            item.outcome = outcome
            item.tracking_code = code or item.tracking_code
            item.answered_at = now
            updated.add(item.id)
    batch.status = "answered"
    batch.answered_at = now
    audit.record(session, actor.name, "batch_answer", f"batch:{number}", file=path.name, items=len(updated))
    return AnswerImport(len(updated))
