"""``touthunt status``: is the scheduler running, what is scheduled and when, how each source's last runs
went (its health: requests, pages, blocked answers, the source's state, URLs left to resume), and how the
last alerts fared. Printed in Chinese, or as JSON with ``--json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import redis
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from crawler.command import open_database, with_config
from crawler.config import Config, SourceConfig
from crawler.crontab import cron_trigger
from crawler.hitlist import CHINA
from crawler.jobs import JOB_KINDS
from crawler.labels import RUN_STATUSES, SOURCE_STATES
from crawler.lease import current_holder
from crawler.schedule import CRAWL_PREFIX, JOBS_TABLE, KIND_PREFIX
from storage import frontier
from storage.models import AlertDelivery, CrawlRun, Source, utcnow


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(CHINA).isoformat(timespec="seconds") if value else None


def _stored_next_runs(session: Session) -> dict[str, datetime]:
    """Next run times the scheduler keeps in its job store (empty before serve ever ran)."""
    bind = session.get_bind()
    if not inspect(bind).has_table(JOBS_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    return {job_id: datetime.fromtimestamp(ts, UTC) for job_id, ts in rows if ts is not None}


def _run(run: CrawlRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "pages_fetched": run.pages_fetched,
        "pages_stored": run.pages_stored,
        "hits_new": run.hits_new,
        "errors": run.errors,
        "requests": run.requests,
        "items": run.items,
        "blocked": run.blocked,
        "source_state": run.source_state,
        "message": run.message,
    }


def _shared_frontier(config: Config, source: SourceConfig) -> dict[str, Any] | None:
    """The source's crawl on the shared frontier (None when it has none); Redis is asked once, without the
    crawlers' patience, so a status page never hangs on it."""
    from crawler.settings import uses_shared_frontier
    from crawler.sharedfrontier import Fleet, Keys, connect

    if not uses_shared_frontier(config, source):
        return None
    try:
        server = connect(config.frontier_url, retry_seconds=1)
        return Fleet(server, Keys(config.frontier.key_prefix, source.name), worker="status").snapshot()
    except redis.RedisError as exc:
        return {"error": f"Redis unreachable: {exc}"}


def status_data(config: Config, session: Session, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    tz = config.scheduler.timezone
    holder = current_holder(session)
    stored = _stored_next_runs(session)
    rows = {s.name: s for s in session.scalars(select(Source))}
    sources = []
    for source in config.sources:
        row = rows.get(source.name)
        runs = (
            session.scalars(
                select(CrawlRun).where(CrawlRun.source_id == row.id).order_by(CrawlRun.id.desc()).limit(5)
            ).all()
            if row
            else []
        )
        job_id = f"{CRAWL_PREFIX}{source.name}"
        next_run = stored.get(job_id)
        if next_run is None and source.enabled:
            next_run = cron_trigger(source.schedule, tz).get_next_fire_time(None, now)
        left = frontier.counts(session, row.id).get("pending", 0) if row else 0
        shared = _shared_frontier(config, source)
        last = runs[0] if runs else None
        sources.append(
            {
                "name": source.name,
                "enabled": source.enabled,
                "schedule": source.schedule,
                "next_run": _iso(next_run) if source.enabled else None,
                "next_run_from": "scheduler" if job_id in stored else "config",
                "last_run": _run(last),
                "recent_statuses": [r.status for r in runs],
                "health": last.source_state if last else None,
                "resume_pending_urls": left,
                "shared_frontier": shared,
            }
        )
    kinds = []
    for kind in JOB_KINDS.values():
        cron = kind.schedule(config)
        job_id = f"{KIND_PREFIX}{kind.name}"
        next_run = stored.get(job_id) or (cron_trigger(cron, tz).get_next_fire_time(None, now) if cron else None)
        kinds.append({"kind": kind.name, "description": kind.description, "schedule": cron, "next_run": _iso(next_run)})
    since = now - timedelta(hours=24)
    alert_counts = dict(
        session.execute(
            select(AlertDelivery.status, func.count())
            .where(AlertDelivery.attempted_at >= since)
            .group_by(AlertDelivery.status)
        ).all()
    )
    last_failure = session.scalar(
        select(AlertDelivery).where(AlertDelivery.status == "failed").order_by(AlertDelivery.id.desc()).limit(1)
    )
    return {
        "now": _iso(now),
        "scheduler": {
            "running": holder is not None,
            "host": holder.host if holder else None,
            "pid": holder.pid if holder else None,
            "since": _iso(holder.acquired_at) if holder else None,
            "heartbeat": _iso(holder.heartbeat_at) if holder else None,
            "timezone": tz,
        },
        "sources": sources,
        "jobs": kinds,
        "alerts_24h": {"sent": int(alert_counts.get("sent", 0)), "failed": int(alert_counts.get("failed", 0))},
        "last_alert_failure": (
            {
                "channel": last_failure.channel,
                "kind": last_failure.kind,
                "error": last_failure.error,
                "at": _iso(last_failure.attempted_at),
            }
            if last_failure
            else None
        ),
    }


def _short(value: str | None) -> str:
    return value[5:16].replace("T", " ") if value else "—"


def render_status(data: dict[str, Any]) -> str:
    sched = data["scheduler"]
    lines = []
    if sched["running"]:
        lines.append(
            f"调度器：运行中（主机 {sched['host']}，进程 {sched['pid']}，自 {_short(sched['since'])} 起，"
            f"最近心跳 {_short(sched['heartbeat'])}；时区 {sched['timezone']}）"
        )
    else:
        lines.append("调度器：未运行（请启动 touthunt serve；下表的下次运行时间按配置推算）")
    lines.append("")
    lines.append("来源:")
    for s in data["sources"]:
        if not s["enabled"]:
            lines.append(f"  {s['name']}  已停用")
            continue
        last = s["last_run"]
        if last:
            status = RUN_STATUSES.get(last["status"], last["status"])
            health = SOURCE_STATES.get(last["source_state"] or "", last["source_state"] or "—")
            detail = (
                f"上次 #{last['id']} {_short(last['started_at'])} {status}，请求 {last['requests']}，"
                f"页面 {last['items']}，入库 {last['pages_stored']}，新命中 {last['hits_new']}，"
                f"失败 {last['errors']}，拦截 {last['blocked']}，状态 {health}"
            )
        else:
            detail = "从未运行"
        resume = f"，待续抓 {s['resume_pending_urls']} 个网址" if s["resume_pending_urls"] else ""
        lines.append(f"  {s['name']}  计划 {s['schedule']}  下次 {_short(s['next_run'])}  {detail}{resume}")
        shared = s["shared_frontier"]
        if shared and "error" in shared:
            lines.append(f"      共享队列 (Redis) 无法连接：{shared['error']}")
        elif shared:
            run = f"运行 #{shared['run']} 进行中" if shared["run"] else "无进行中的运行"
            lines.append(
                f"      共享队列：{run}，排队 {shared['queued']} 个，处理中 {shared['leased']} 个，"
                f"在线工作进程 {len(shared['workers'])} 个"
            )
        if last and last["status"] != "finished" and last["message"]:
            lines.append(f"      {last['message']}")
    lines.append("")
    lines.append("定时任务:")
    for job in data["jobs"]:
        lines.append(
            f"  {job['description']}（{job['kind']}）  计划 {job['schedule'] or '未安排'}  "
            f"下次 {_short(job['next_run'])}"
        )
    alerts = data["alerts_24h"]
    lines.append("")
    lines.append(f"近24小时告警投递：成功 {alerts['sent']} 次，失败 {alerts['failed']} 次")
    failure = data["last_alert_failure"]
    if failure:
        lines.append(
            f"  最近一次失败：{_short(failure['at'])} {failure['channel']} {failure['kind']}：{failure['error'][:200]}"
        )
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the Chinese summary.")
@with_config
def status(config: Config, as_json: bool) -> None:
    """The scheduler, the schedule, next and last runs, each source's health."""
    sessions = open_database(config)
    with sessions() as session:
        data = status_data(config, session)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2) if as_json else render_status(data))
