"""The first referral export: a CSV (UTF-8 with BOM, Chinese headers) of hits not yet referred to an
authority. cac receives content on platforms, one row per URL; miit receives stand-alone sites, one row per
registrable domain. Which hits go where is ``referrals.routing`` (the same rule as the referral batches, so
an illegal ad never lands in the cac or miit list). Every exported hit is recorded so it is referred once
per authority, whether by this export or by a batch."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from crawler.errors import ExportError
from crawler.hitlist import CHINA
from crawler.labels import AUTHORITIES, category_label
from referrals.routing import routes_to, target_of
from storage import repository
from storage.models import Hit

EXPORT_AUTHORITIES = ("cac", "miit")

CAC_HEADERS = ("序号", "线索编号", "类别", "评分", "网页标题", "网址", "平台/网站", "手机号", "微信", "QQ",
               "命中词", "首次发现(北京时间)", "最近发现(北京时间)", "建议处置")  # fmt: skip
MIIT_HEADERS = ("序号", "主域名", "涉及网页数", "线索编号", "类别", "最高评分", "网址", "手机号", "微信", "QQ",
                "命中词", "首次发现(北京时间)", "最近发现(北京时间)", "建议处置")  # fmt: skip


def china_clock(value: datetime) -> str:
    """A time as people write it in a referral: China time, to the second, no zone suffix."""
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    authority: str
    hits: int
    rows: int
    sha256: str


def _terms(hits: Sequence[Hit]) -> str:
    terms: list[str] = []
    for hit in hits:
        for reason in hit.reasons:
            text = reason.get("text")
            if reason.get("weight", 0) > 0 and text and text not in terms:
                terms.append(text)
    return "、".join(terms)


def _contacts(hits: Sequence[Hit], kind: str) -> str:
    values = sorted({c.value for hit in hits for c in hit.page.contacts if c.kind == kind})
    return " ".join(values)


def _categories(hits: Sequence[Hit]) -> str:
    return "、".join(dict.fromkeys(category_label(h.category) for h in hits))


def cac_rows(hits: Sequence[Hit]) -> list[list[str | int]]:
    return [
        [
            index,
            hit.id,
            category_label(hit.category),
            hit.score,
            hit.page.title,
            hit.page.final_url,
            hit.page.domain,
            _contacts([hit], "mobile"),
            _contacts([hit], "wechat"),
            _contacts([hit], "qq"),
            _terms([hit]),
            china_clock(hit.page.first_seen),
            china_clock(hit.page.last_seen),
            "删除违法信息",
        ]
        for index, hit in enumerate(hits, start=1)
    ]


def miit_rows(hits: Sequence[Hit]) -> list[list[str | int]]:
    by_domain: dict[str, list[Hit]] = {}
    for hit in hits:
        by_domain.setdefault(hit.page.registrable_domain, []).append(hit)
    rows: list[list[str | int]] = []
    for index, (domain, group) in enumerate(sorted(by_domain.items()), start=1):
        rows.append(
            [
                index,
                domain,
                len(group),
                " ".join(str(h.id) for h in group),
                _categories(group),
                max(h.score for h in group),
                "\n".join(h.page.final_url for h in group),
                _contacts(group, "mobile"),
                _contacts(group, "wechat"),
                _contacts(group, "qq"),
                _terms(group),
                china_clock(min(h.page.first_seen for h in group)),
                china_clock(max(h.page.last_seen for h in group)),
                "依法处置违法网站(停止接入/注销备案)",
            ]
        )
    return rows


def render(authority: str, hits: Sequence[Hit]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if authority == "cac":
        writer.writerow(CAC_HEADERS)
        writer.writerows(cac_rows(hits))
    else:
        writer.writerow(MIIT_HEADERS)
        writer.writerows(miit_rows(hits))
    return "\ufeff" + buffer.getvalue()


def export_unreferred(
    session: Session,
    *,
    authority: str,
    out_dir: Path,
    institute_code: str,
    platforms: frozenset[str],
    now: datetime,
) -> ExportResult | None:
    """Write the CSV of hits not yet referred to ``authority``; None when there is nothing to refer."""
    if authority not in EXPORT_AUTHORITIES:
        raise ExportError(f"--authority: {authority!r} is not one of {', '.join(EXPORT_AUTHORITIES)}")
    hits = [h for h in repository.unreferred_hits(session, authority) if routes_to(h, authority, platforms)]
    if not hits:
        return None
    stamp = now.astimezone(CHINA).strftime("%Y%m%d-%H%M%S")
    path = out_dir / f"{institute_code}-{authority}-{stamp}.csv"
    data = render(authority, hits).encode("utf-8")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:  # never overwrite an export already handed over
            handle.write(data)
    except FileExistsError:
        raise ExportError(f"{path} already exists; wait a second and export again") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    repository.record_export(
        session,
        authority=authority,
        path=str(path),
        sha256=digest,
        hits=hits,
        at=now,
        targets=[target_of(h, authority) for h in hits],
    )
    rows = len(hits) if authority == "cac" else len({h.page.registrable_domain for h in hits})
    return ExportResult(path=path, authority=authority, hits=len(hits), rows=rows, sha256=digest)


def authority_label(code: str) -> str:
    return AUTHORITIES.get(code, code)
