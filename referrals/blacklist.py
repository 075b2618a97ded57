"""The scalper blacklist (号贩子黑名单): the identifiers of confirmed operators -- mobile numbers, WeChat and
QQ IDs, and the stand-alone domains their pages are on -- with first and last seen, the pages that show
them and references to the evidence (manifest SHA-256), as xlsx and CSV for the police and the credit
system. Only confirmed hits count; platform domains are never listed (the platform is not the offender).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from referrals.platforms import is_platform
from referrals.sheets import Column, Sheet, china_clock, evidence_by_hit, render_csv, render_xlsx
from storage.models import Hit, Page

KIND_LABELS = {"mobile": "手机号", "wechat": "微信号", "qq": "QQ号", "domain": "网站域名"}


@dataclass
class Entry:
    kind: str
    value: str
    first_seen: datetime
    last_seen: datetime
    hits: list[int] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BlacklistExport:
    rows: int
    xlsx: Path
    csv: Path


def collect(session: Session, platforms: frozenset[str]) -> list[Entry]:
    hits = session.scalars(
        select(Hit).where(Hit.status == "confirmed").options(selectinload(Hit.page).selectinload(Page.contacts))
        .order_by(Hit.id)
    ).all()  # fmt: skip
    evidence = evidence_by_hit(session, [h.id for h in hits])
    entries: dict[tuple[str, str], Entry] = {}
    for hit in hits:
        page = hit.page
        keys = [(c.kind, c.value) for c in page.contacts if c.kind in ("mobile", "wechat", "qq")]
        if not is_platform(page.domain, platforms):
            keys.append(("domain", page.registrable_domain))
        for key in keys:
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = Entry(key[0], key[1], page.first_seen, page.last_seen)
            entry.first_seen = min(entry.first_seen, page.first_seen)
            entry.last_seen = max(entry.last_seen, page.last_seen)
            entry.hits.append(hit.id)
            entry.urls.append(page.final_url)
            if hit.id in evidence:
                entry.evidence.append(f"H{hit.id:06d}:{evidence[hit.id].manifest_sha256}")
    order = {kind: n for n, kind in enumerate(KIND_LABELS)}
    return sorted(entries.values(), key=lambda e: (order[e.kind], e.value))


def blacklist_sheet(entries: list[Entry]) -> Sheet:
    columns = (
        Column("序号", 6), Column("类型", 10), Column("标识", 24), Column("首次发现(北京时间)", 20),
        Column("最近发现(北京时间)", 20), Column("涉及网页数", 10), Column("线索编号", 16),
        Column("网页", 50, link=True),
        Column("证据(线索:证据清单SHA-256)", 80),
    )  # fmt: skip
    rows: list[list[str | int]] = [
        [n, KIND_LABELS[e.kind], e.value, china_clock(e.first_seen), china_clock(e.last_seen), len(e.urls),
         " ".join(map(str, e.hits)), "\n".join(e.urls[:50]), "\n".join(e.evidence[:50])]
        for n, e in enumerate(entries, start=1)
    ]  # fmt: skip
    return Sheet("号贩子黑名单", columns, rows)


def export_blacklist(
    session: Session, out_dir: Path, *, platforms: frozenset[str], now: datetime, institute: str
) -> BlacklistExport:
    sheet = blacklist_sheet(collect(session, platforms))
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "blacklist-" + china_clock(now).replace("-", "").replace(":", "").replace(" ", "-")
    xlsx = out_dir / f"{stem}.xlsx"
    csv_path = out_dir / f"{stem}.csv"
    xlsx.write_bytes(render_xlsx(sheet, subject="号贩子黑名单", author=institute, when=now))
    csv_path.write_bytes(render_csv(sheet))
    return BlacklistExport(len(sheet.rows), xlsx, csv_path)
