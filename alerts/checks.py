"""The checks: read the crawl runs and hits, return the alerts that are due. Nothing is sent here and nothing
is written; each alert's ``dedupe_key`` makes running a check again harmless (``alerts/deliver.py`` never
sends a key twice over a channel).

- ``zero_items``: a source's latest run produced no item while its recent runs all had some.
- ``error_spike``: the share of failed URLs of the latest run is at least ``alerts.error_rate_threshold`` and
  ``alerts.error_rate_factor`` times the recent runs' share (runs of fewer than ``error_rate_min_urls`` URLs
  never count).
- ``login_wall``: the latest run met a login wall or a captcha (``CrawlRun.source_state``).
- ``missed_schedule``: a scheduled time of an enabled source passed more than ``scheduler.misfire_grace_seconds``
  ago with no run started since.
- ``urgent_hit``: a new hit scoring at least ``alerts.urgent_score``.

Runs and hits older than ``alerts.lookback_hours`` are not looked at (they were reported when they were new).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from alerts.message import Alert, Link, clean, hit_link
from crawler.config import Config, SourceConfig
from crawler.crontab import cron_trigger
from crawler.hitlist import CHINA
from crawler.labels import category_label
from storage.models import CrawlRun, Hit, Page, Source

STATE_LABELS = {
    "login_wall": "登录墙",
    "captcha": "验证码",
    "blocked": "被屏蔽",
    "empty": "无内容",
    "parser_failure": "解析失败",
}


def _state(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or "未知") if state != "ok" else "正常"


def china(value: datetime) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def error_rate(run: CrawlRun) -> tuple[float, int]:
    """(share of failed URLs, URLs) of a run."""
    urls = run.pages_fetched + run.errors
    return (run.errors / urls if urls else 0.0), urls


def recent_runs(session: Session, source_id: int, limit: int) -> Sequence[CrawlRun]:
    """Ended runs of a source, newest first."""
    return session.scalars(
        select(CrawlRun)
        .where(CrawlRun.source_id == source_id, CrawlRun.status != "running")
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(limit)
    ).all()


def _sources(session: Session, config: Config) -> list[tuple[SourceConfig, Source | None]]:
    rows = {s.name: s for s in session.scalars(select(Source))}
    return [(source, rows.get(source.name)) for source in config.sources if source.enabled]


def check_runs(session: Session, config: Config, now: datetime) -> list[Alert]:
    """Zero items, error-rate spikes and login walls of each enabled source's latest run."""
    settings = config.alerts
    since = now - timedelta(hours=settings.lookback_hours)
    alerts: list[Alert] = []
    for source, row in _sources(session, config):
        if row is None:
            continue
        runs = recent_runs(session, row.id, settings.recent_runs + 1)
        if not runs or (runs[0].finished_at or runs[0].started_at) < since:
            continue
        latest, previous = runs[0], runs[1:]
        when = china(latest.started_at)
        if latest.items == 0 and previous and all(r.items > 0 for r in previous):
            usual = round(sum(r.items for r in previous) / len(previous))
            alerts.append(
                Alert(
                    kind="zero_items",
                    dedupe_key=f"zero_items:{latest.id}",
                    title=f"来源 {source.name} 本次抓取零结果",
                    lines=(
                        f"运行 #{latest.id}（{when}）没有得到任何页面，而此前 {len(previous)} 次运行平均 {usual} 页。",
                        f"请求 {latest.requests} 次，失败 {latest.errors} 个，来源状态{_state(latest.source_state)}。",
                        "可能是网站改版、屏蔽了抓取或网络故障，请检查该来源。",
                    ),
                )
            )
        rate, urls = error_rate(latest)
        rated = [error_rate(r) for r in previous]
        rated = [r for r, n in rated if n >= settings.error_rate_min_urls]
        baseline = sum(rated) / len(rated) if rated else 0.0
        if (
            urls >= settings.error_rate_min_urls
            and rate >= settings.error_rate_threshold
            and rate >= baseline * settings.error_rate_factor
        ):
            reasons = sorted((latest.error_reasons or {}).items(), key=lambda kv: -int(kv[1]))[:5]
            alerts.append(
                Alert(
                    kind="error_spike",
                    dedupe_key=f"error_spike:{latest.id}",
                    title=f"来源 {source.name} 错误率突增",
                    lines=(
                        f"运行 #{latest.id}（{when}）{urls} 个网址中失败 {latest.errors} 个（{rate:.0%}），"
                        f"此前平均 {baseline:.0%}。",
                        "主要原因：" + ("，".join(f"{clean(k, 40)} {v}" for k, v in reasons) or "无"),
                    ),
                )
            )
        if latest.source_state in ("login_wall", "captcha"):
            alerts.append(
                Alert(
                    kind="login_wall",
                    dedupe_key=f"login_wall:{latest.id}",
                    title=f"来源 {source.name} 遇到{STATE_LABELS[latest.source_state]}",
                    lines=(
                        f"运行 #{latest.id}（{when}）的 {latest.requests} 次请求中 {latest.blocked} 次被"
                        f"{STATE_LABELS[latest.source_state]}拦截，得到 {latest.items} 个页面。",
                        "该来源的结果不完整：“没有命中”不代表没有违法信息。请人工核查或调整抓取方式。",
                    ),
                )
            )
    return alerts


def check_schedules(session: Session, config: Config, now: datetime, *, since: datetime | None = None) -> list[Alert]:
    """Enabled sources whose scheduled time passed more than the misfire grace ago with no run since.
    ``since``: when scheduling began (times before it are not expected; default: the lookback window)."""
    grace = timedelta(seconds=config.scheduler.misfire_grace_seconds)
    start = since or (now - timedelta(hours=config.alerts.lookback_hours))
    alerts = []
    for source, row in _sources(session, config):
        last = None
        if row is not None:
            last = session.scalar(
                select(CrawlRun.started_at)
                .where(CrawlRun.source_id == row.id)
                .order_by(CrawlRun.started_at.desc())
                .limit(1)
            )
        after = max(last, start) if last else start
        expected = cron_trigger(source.schedule, config.scheduler.timezone).get_next_fire_time(None, after)
        if expected is None or expected + grace >= now:
            continue
        alerts.append(
            Alert(
                kind="missed_schedule",
                dedupe_key=f"missed_schedule:{source.name}:{expected.isoformat()}",
                title=f"来源 {source.name} 未按计划运行",
                lines=(
                    f"按计划（{source.schedule}）应在 {china(expected)} 开始抓取，至今 {china(now)} 仍未运行。",
                    "上次运行：" + (china(last) if last else "从未运行") + "。",
                    "请检查 touthunt serve 是否在运行（touthunt status），以及服务器是否过载或曾停机。",
                ),
            )
        )
    return alerts


def check_urgent_hits(session: Session, config: Config, now: datetime) -> list[Alert]:
    """New hits scoring at least ``alerts.urgent_score``, one alert each."""
    since = now - timedelta(hours=config.alerts.lookback_hours)
    hits = session.scalars(
        select(Hit)
        .join(Hit.page)
        .options(joinedload(Hit.page).joinedload(Page.source))
        .where(Hit.score >= config.alerts.urgent_score, Hit.status == "new", Hit.created_at >= since)
        .order_by(Hit.id)
    ).all()
    alerts = []
    for hit in hits:
        page = hit.page
        alerts.append(
            Alert(
                kind="urgent_hit",
                dedupe_key=f"urgent_hit:{hit.id}",
                title=f"发现高分命中 #{hit.id}（{hit.score} 分，{category_label(hit.category)}）",
                severity="urgent",
                lines=(
                    Link(page.title or page.final_url, hit_link(config.web.base_url, hit.id)),
                    f"网址：{clean(page.final_url, 200)}",
                    f"来源：{page.source.name}；首次发现：{china(page.first_seen)}",
                    "请尽快审核并固定证据。",
                ),
            )
        )
    return alerts


def run_checks(session: Session, config: Config, now: datetime, *, since: datetime | None = None) -> list[Alert]:
    """Every check except the digest."""
    return [
        *check_runs(session, config, now),
        *check_schedules(session, config, now, since=since),
        *check_urgent_hits(session, config, now),
    ]


def config_invalid_alert(path: str, error: str, fingerprint: str) -> Alert:
    """The configuration file was edited into an invalid state; the last good one stays in force."""
    return Alert(
        kind="config_invalid",
        dedupe_key=f"config_invalid:{fingerprint}",
        title="配置文件修改后无效，仍沿用上一份有效配置",
        lines=(f"文件：{path}", *error.splitlines()[:10], "请修正后保存，系统会自动重新加载。"),
    )


def missed_job_alert(job_id: str, scheduled: datetime) -> Alert:
    """The scheduler skipped a job whose time passed beyond the misfire grace (e.g. the server was down)."""
    return Alert(
        kind="missed_schedule",
        dedupe_key=f"missed_job:{job_id}:{scheduled.isoformat()}",
        title=f"计划任务 {job_id} 错过了运行时间",
        lines=(
            f"应在 {china(scheduled)} 运行，但超过允许的延迟仍未能开始（服务器停机或过载），本次已跳过。",
            "下一次计划时间会照常运行；如需立即抓取，请运行 touthunt crawl --source 来源名。",
        ),
    )
