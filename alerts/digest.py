"""The daily digest: new hits of the past day by category and by source, the highest-scoring ones with links
to the web app, and a coverage line naming the sources that could not be looked at properly (so "no hit"
is never mistaken for "nothing there")."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from alerts.checks import STATE_LABELS, recent_runs
from alerts.message import Alert, Link, clean, hit_link
from crawler.config import Config
from crawler.hitlist import CHINA
from crawler.labels import category_label
from storage.models import Hit, Page, Source

TOP_HITS = 10


def degraded_sources(session: Session, config: Config, now: datetime) -> list[tuple[str, str]]:
    """(source, why) for enabled sources whose latest run did not look at the source properly, or that did
    not run in the past day."""
    rows = {s.name: s for s in session.scalars(select(Source))}
    since = now - timedelta(days=1)
    out = []
    for source in config.sources:
        if not source.enabled:
            continue
        row = rows.get(source.name)
        runs = recent_runs(session, row.id, 1) if row else []
        if not runs or runs[0].started_at < since:
            out.append((source.name, "近一天未运行"))
            continue
        run = runs[0]
        if run.status == "failed":
            out.append((source.name, "抓取失败"))
        elif run.status == "interrupted":
            out.append((source.name, "抓取中断"))
        elif run.source_state and run.source_state != "ok":
            out.append((source.name, STATE_LABELS.get(run.source_state, run.source_state)))
    return out


def daily_digest(session: Session, config: Config, now: datetime) -> Alert:
    start = now - timedelta(days=1)
    hits = session.scalars(
        select(Hit)
        .join(Hit.page)
        .options(joinedload(Hit.page).joinedload(Page.source))
        .where(Hit.created_at >= start, Hit.created_at < now, Hit.status != "dismissed")
        .order_by(Hit.score.desc(), Hit.id)
    ).all()
    by_category = Counter(category_label(h.category) for h in hits)
    by_source = Counter(h.page.source.name for h in hits)
    enabled = [s.name for s in config.sources if s.enabled]
    degraded = degraded_sources(session, config, now)
    lines: list[str | Link] = [
        f"统计时段：{start.astimezone(CHINA):%m-%d %H:%M} 至 {now.astimezone(CHINA):%m-%d %H:%M}"
    ]
    lines.append(f"新增命中 {len(hits)} 条。")
    if hits:
        lines.append("按类别：" + "，".join(f"{k} {v}" for k, v in by_category.most_common()))
        lines.append("按来源：" + "，".join(f"{k} {v}" for k, v in by_source.most_common()))
    if degraded:
        names = "、".join(f"{name}（{why}）" for name, why in degraded)
        lines.append(f"覆盖情况：{len(enabled)} 个来源中 {len(enabled) - len(degraded)} 个正常；异常：{names}。")
    else:
        lines.append(f"覆盖情况：{len(enabled)} 个来源全部正常。")
    if hits:
        lines.append(f"得分最高的 {min(TOP_HITS, len(hits))} 条：")
        for hit in hits[:TOP_HITS]:
            text = (
                f"#{hit.id} {hit.score}分 {category_label(hit.category)} {clean(hit.page.title or hit.page.domain, 40)}"
            )
            lines.append(Link(text, hit_link(config.web.base_url, hit.id)))
    day = now.astimezone(CHINA).date().isoformat()
    return Alert(
        kind="digest",
        dedupe_key=f"digest:{day}",
        title=f"每日简报 {day}：新增命中 {len(hits)} 条" + (f"，{len(degraded)} 个来源异常" if degraded else ""),
        lines=tuple(lines),
        severity="info",
    )
