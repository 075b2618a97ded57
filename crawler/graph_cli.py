"""The ``touthunt clusters`` command: operator clusters (pages on any number of domains sharing a contact) as
a table or JSON, and one cluster's pages with their contacts and hit scores (``--show KEY``).

The clusters are those `storage.clusters.rebuild_clusters` stored; ``--rebuild`` recomputes them first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import click

from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.errors import TouthuntError
from crawler.hitlist import china_time, fit_cell
from crawler.labels import HIT_STATUSES, category_label
from storage.clusters import ClusterDetail, ClusterSummary, cluster_detail, list_clusters, rebuild_clusters

__all__ = ["clusters", "render_cluster_detail", "render_clusters"]


def _time(value: datetime | None) -> str:
    return china_time(value)[:16].replace("T", " ") if value else ""


def _table(columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows under Chinese headers; every column but the last (whose width is ignored) padded or cut to its width."""
    *fixed, (last, _width) = columns
    lines = ["  ".join([*(fit_cell(header, width) for header, width in fixed), last])]
    lines.append("  ".join([*("-" * width for _header, width in fixed), "-" * 8]))
    for row in rows:
        cells = [fit_cell(cell, width) for cell, (_header, width) in zip(row[:-1], columns[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def render_clusters(summaries: Sequence[ClusterSummary]) -> str:
    columns = (("团伙键", 30), ("页面", 4), ("域名", 4), ("联系方式", 8), ("最新命中", 16), ("主要域名", 0))
    rows = [
        (
            s.key,
            str(s.page_count),
            str(s.domain_count),
            str(s.contact_count),
            _time(s.newest_hit),
            " ".join(s.top_domains),
        )
        for s in summaries
    ]
    return "\n".join(_table(columns, rows))


def _contacts(contacts: dict[str, list[str]]) -> str:
    return " ".join(f"{kind}:{value}" for kind in sorted(contacts) for value in contacts[kind])


def render_cluster_detail(detail: ClusterDetail) -> str:
    s = detail.summary
    lines = [
        f"团伙 {s.key}  页面 {s.page_count}  域名 {s.domain_count}  联系方式 {s.contact_count}  "
        f"最新命中 {_time(s.newest_hit) or '无'}  更新于 {_time(s.updated_at)}",
        f"共用联系方式 {' '.join(detail.shared) or '无'}",
        "",
    ]
    columns = (("页面", 6), ("评分", 4), ("类别", 13), ("状态", 6), ("域名", 24), ("联系方式", 36), ("网址", 0))
    rows = [
        (
            str(p.id),
            "" if p.hit_score is None else str(p.hit_score),
            category_label(p.hit_category) if p.hit_category else "未命中",
            HIT_STATUSES.get(p.hit_status or "", p.hit_status or ""),
            p.domain,
            _contacts(p.contacts),
            p.url,
        )
        for p in detail.pages
    ]
    return "\n".join(lines + _table(columns, rows))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return china_time(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@click.command()
@click.option("--min-pages", type=click.IntRange(2), default=2, show_default=True, help="Smallest cluster listed.")
@click.option("--min-domains", type=click.IntRange(1), default=1, show_default=True,
              help="Fewest registrable domains a listed cluster spans (2: operators on several sites).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--rebuild", is_flag=True, help="Recompute the clusters from the stored contacts first.")
@click.option("--show", "show_key", metavar="KEY", help="List one cluster's pages, contacts and hit scores.")
@with_config
def clusters(config: Config, min_pages: int, min_domains: int, fmt: str, rebuild: bool, show_key: str | None) -> None:
    """Operator clusters: pages, across domains, that share a phone number, WeChat or QQ ID."""
    sessions = open_database(config)
    if rebuild:
        with sessions.begin() as session:
            stats = rebuild_clusters(session)
        click.echo(
            f"已重建团伙: {stats.clusters} 个团伙, {stats.pages} 个页面 (新建 {stats.created}, 变更 {stats.changed}, "
            f"删除 {stats.deleted})",
            err=True,
        )
    with sessions() as session:
        if show_key is not None:
            detail = cluster_detail(session, show_key)
            if detail is None:
                raise TouthuntError(f"没有团伙 {show_key} (no cluster with this key; run with --rebuild?)")
            click.echo(json.dumps(_jsonable(asdict(detail)), ensure_ascii=False, indent=2) if fmt == "json"
                       else render_cluster_detail(detail))  # fmt: skip
            return
        summaries = list_clusters(session, min_pages=min_pages, min_domains=min_domains)
    if fmt == "json":
        click.echo(json.dumps([_jsonable(asdict(s)) for s in summaries], ensure_ascii=False, indent=2))
    else:
        click.echo(render_clusters(summaries))
        click.echo(f"共 {len(summaries)} 个团伙", err=True)
