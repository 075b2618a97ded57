"""``touthunt sources``: the health of every configured source from its latest run (requests, pages, items,
new hits, errors by kind, blocked or login-walled answers, the source's state, the robots policy applied)
and the age of its last good item (the newest page its runs stored). A table with Chinese headers, or
``--json`` for scripts and the alerting that builds on it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.hitlist import china_time, fit_cell
from crawler.labels import RUN_STATUSES, SOURCE_KINDS, SOURCE_STATES, failure_label


def age_text(seconds: float | None) -> str:
    """``3分钟前``, ``5小时前``, ``2天前``; ``从未`` when there was never a good item."""
    if seconds is None:
        return "从未"
    if seconds < 3600:
        return f"{max(int(seconds // 60), 0)}分钟前"
    if seconds < 86400:
        return f"{int(seconds // 3600)}小时前"
    return f"{int(seconds // 86400)}天前"


def health_rows(config: Config, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per configured source, in config order; sources never run have no ``last_run``."""
    from storage import repository

    now = now or datetime.now(UTC)
    sessions = open_database(config)
    with sessions() as session:
        healths = repository.source_health(session, [s.name for s in config.sources])
        rows = []
        for source, health in zip(config.sources, healths, strict=True):
            run = health.last_run
            last_run = None
            if run is not None:
                last_run = {
                    "id": run.id,
                    "status": run.status,
                    "started_at": run.started_at.isoformat(),
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                    "requests": run.requests,
                    "pages_fetched": run.pages_fetched,
                    "pages_stored": run.pages_stored,
                    "items": run.items,
                    "hits_new": run.hits_new,
                    "errors": run.errors,
                    "error_reasons": dict(run.error_reasons or {}),
                    "blocked": run.blocked,
                    "source_state": run.source_state,
                    "robots_obeyed": run.robots_obeyed,
                    "health": dict(run.health or {}),
                }
            age = (now - health.last_item_at).total_seconds() if health.last_item_at else None
            rows.append(
                {
                    "source": source.name,
                    "kind": source.kind,
                    "enabled": source.enabled,
                    "obey_robots": source.obey_robots,
                    "last_run": last_run,
                    "last_item_at": health.last_item_at.isoformat() if health.last_item_at else None,
                    "last_item_age_seconds": int(age) if age is not None else None,
                }
            )
    return rows


COLUMNS = (
    ("source", "来源", 18),
    ("kind", "类型", 14),
    ("state", "状态", 16),
    ("run", "最近运行", 22),
    ("requests", "请求", 6),
    ("pages", "页面", 6),
    ("items", "条目", 6),
    ("hits", "新命中", 6),
    ("blocked", "拦截", 6),
    ("robots", "robots", 8),
    ("age", "最近有效条目", 12),
    ("errors", "错误(按类型)", 0),
)


def _cells(row: dict[str, Any]) -> dict[str, str]:
    run = row["last_run"]
    kind = SOURCE_KINDS.get(row["kind"], row["kind"]) + ("" if row["enabled"] else "(停用)")
    if run is None:
        return {"source": row["source"], "kind": kind, "state": "从未运行", "run": "-", "requests": "-",
                "pages": "-", "items": "-", "hits": "-", "blocked": "-",
                "robots": "遵守" if row["obey_robots"] else "不遵守", "age": "从未", "errors": "-"}  # fmt: skip
    started = datetime.fromisoformat(run["started_at"])
    state = SOURCE_STATES.get(run["source_state"] or "", run["source_state"] or "-")
    errors = "，".join(f"{failure_label(k)} {v}" for k, v in sorted(run["error_reasons"].items())) or "无"
    robots = {True: "遵守", False: "不遵守", None: "-"}[run["robots_obeyed"]]
    when = china_time(started)[5:16].replace("T", " ")
    return {
        "source": row["source"],
        "kind": kind,
        "state": state,
        "run": f"#{run['id']} {when} {RUN_STATUSES.get(run['status'], run['status'])}",
        "requests": str(run["requests"]),
        "pages": str(run["pages_stored"]),
        "items": str(run["items"]),
        "hits": str(run["hits_new"]),
        "blocked": str(run["blocked"]),
        "robots": robots,
        "age": age_text(row["last_item_age_seconds"]),
        "errors": errors,
    }


def render_health(rows: list[dict[str, Any]]) -> str:
    lines = ["  ".join(fit_cell(h, w) if w else h for _k, h, w in COLUMNS)]
    lines.append("  ".join("-" * (w or 12) for _k, _h, w in COLUMNS))
    for row in rows:
        cells = _cells(row)
        lines.append("  ".join(fit_cell(cells[k], w) if w else cells[k] for k, _h, w in COLUMNS))
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_config
def sources(config: Config, as_json: bool) -> None:
    """Source health: each configured source's latest run and the age of its last good item."""
    rows = health_rows(config)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("config.yaml 中没有配置来源 (sources)")
        return
    click.echo(render_health(rows))
