"""The alert checks and the daily digest over crawl runs and hits written into a real database: each check
fires on its case, stays quiet on the ordinary one, and names what the analyst needs (in Chinese, with links
to the web app); crawled text cannot inject Markdown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerts.checks import check_runs, check_schedules, check_urgent_hits, run_checks
from alerts.digest import daily_digest
from alerts.message import Link
from storage import repository
from storage.models import CrawlRun, Hit, Page, Source, utcnow
from tests.crawlweb import source_entry


def add_run(
    session: Any,
    source: Source,
    *,
    ago: timedelta,
    items: int,
    pages: int | None = None,
    errors: int = 0,
    state: str = "ok",
    status: str = "finished",
    blocked: int = 0,
) -> CrawlRun:
    started = utcnow() - ago
    run = CrawlRun(
        source_id=source.id,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        status=status,
        items=items,
        pages_fetched=items if pages is None else pages,
        errors=errors,
        error_reasons={"timeout": errors} if errors else {},
        requests=items + errors + blocked,
        blocked=blocked,
        source_state=state,
    )
    session.add(run)
    session.flush()
    return run


def add_hit(
    session: Any,
    source: Source,
    n: int,
    *,
    score: int,
    category: str = "scalper_service",
    title: str = "专家号代挂",
    ago: timedelta = timedelta(hours=1),
) -> Hit:
    at = utcnow() - ago
    page = Page(
        canonical_url=f"http://s{n}.cn/",
        url=f"http://s{n}.cn/",
        final_url=f"http://s{n}.cn/",
        domain=f"s{n}.cn",
        registrable_domain=f"s{n}.cn",
        title=title,
        text="",
        content_hash=str(n),
        http_status=200,
        encoding="utf-8",
        source_id=source.id,
        first_seen=at,
        last_seen=at,
    )
    hit = Hit(page=page, score=score, category=category, reasons=[], lexicon_version="v", created_at=at, updated_at=at)
    session.add_all([page, hit])
    session.flush()
    return hit


def setup(sessions: Any, write_config: Any, names: tuple[str, ...] = ("forum", "board"), **sections: Any) -> Any:
    config = write_config({"sources": [source_entry(n) for n in names], **sections})
    with sessions.begin() as s:
        for name in names:
            repository.ensure_source(s, name, "site")
    return config


def source(s: Any, name: str) -> Source:
    return s.query(Source).filter_by(name=name).one()


def test_zero_items_after_runs_that_had_some(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config)
    with sessions.begin() as s:
        forum, board = source(s, "forum"), source(s, "board")
        for hours in (72, 48, 24):
            add_run(s, forum, ago=timedelta(hours=hours), items=40)
            add_run(s, board, ago=timedelta(hours=hours), items=0)  # always empty: nothing changed
        latest = add_run(s, forum, ago=timedelta(hours=1), items=0, errors=2, state="empty")
        add_run(s, board, ago=timedelta(hours=1), items=0)
    with sessions() as s:
        alerts = check_runs(s, config, utcnow())
    assert [(a.kind, a.dedupe_key) for a in alerts] == [("zero_items", f"zero_items:{latest.id}")]
    text = alerts[0].as_text()
    assert "来源 forum 本次抓取零结果" in text and "平均 40 页" in text and "无内容" in text


def test_error_rate_spike_and_not_a_steady_rate(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config)
    with sessions.begin() as s:
        forum, board = source(s, "forum"), source(s, "board")
        for hours in (72, 48, 24):
            add_run(s, forum, ago=timedelta(hours=hours), items=50, errors=2)
            add_run(s, board, ago=timedelta(hours=hours), items=10, errors=12)  # always this bad
        spike = add_run(s, forum, ago=timedelta(hours=1), items=8, errors=30)
        add_run(s, board, ago=timedelta(hours=1), items=10, errors=13)
    with sessions() as s:
        alerts = check_runs(s, config, utcnow())
    assert [a.dedupe_key for a in alerts] == [f"error_spike:{spike.id}"]
    assert "38 个网址中失败 30 个（79%），此前平均 4%" in alerts[0].as_text()
    assert "timeout 30" in alerts[0].as_text()


def test_login_wall_and_captcha(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config)
    with sessions.begin() as s:
        wall = add_run(s, source(s, "forum"), ago=timedelta(hours=1), items=2, blocked=9, state="login_wall")
        captcha = add_run(s, source(s, "board"), ago=timedelta(hours=1), items=0, blocked=4, state="captcha")
        add_run(s, source(s, "board"), ago=timedelta(hours=30), items=0, blocked=4, state="captcha")
    with sessions() as s:
        alerts = {a.dedupe_key: a for a in check_runs(s, config, utcnow())}
    assert set(alerts) == {f"login_wall:{wall.id}", f"login_wall:{captcha.id}"}
    assert "来源 forum 遇到登录墙" in alerts[f"login_wall:{wall.id}"].title
    assert "“没有命中”不代表没有违法信息" in alerts[f"login_wall:{captcha.id}"].as_text()


def test_old_runs_are_not_reported_again(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config, alerts={"lookback_hours": 12})
    with sessions.begin() as s:
        add_run(s, source(s, "forum"), ago=timedelta(hours=48), items=5)
        add_run(s, source(s, "forum"), ago=timedelta(hours=20), items=0, state="login_wall")
    with sessions() as s:
        assert check_runs(s, config, utcnow()) == []


def test_missed_schedule(sessions: Any, write_config: Any) -> None:
    config = write_config(
        {
            "sources": [source_entry("hourly", schedule="0 * * * *"), source_entry("daily", schedule="0 6 * * *")],
            "scheduler": {"misfire_grace_seconds": 600},
        }
    )
    now = datetime.fromisoformat("2026-11-23T10:30:00+08:00")
    with sessions.begin() as s:
        hourly = repository.ensure_source(s, "hourly", "site")
        daily = repository.ensure_source(s, "daily", "site")
        add_run(s, daily, ago=utcnow() - now + timedelta(hours=4, minutes=29), items=5)  # ran at 06:01
        add_run(s, hourly, ago=utcnow() - now + timedelta(hours=2, minutes=25), items=5)  # ran at 08:05, not since
    with sessions() as s:
        alerts = check_schedules(s, config, now, since=now - timedelta(days=2))
    assert [a.dedupe_key for a in alerts] == ["missed_schedule:hourly:2026-11-23T09:00:00+08:00"]
    assert "应在 2026-11-23 09:00 开始抓取" in alerts[0].as_text()
    with sessions() as s:  # within the grace: not yet missed
        assert check_schedules(s, config, datetime.fromisoformat("2026-11-23T09:05:00+08:00")) == []


def test_urgent_hits_link_to_the_web_app_and_escape_crawled_text(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config, web={"base_url": "https://hz-monitor.example/"}, alerts={"urgent_score": 85})
    with sessions.begin() as s:
        forum = source(s, "forum")
        urgent = add_hit(s, forum, 1, score=92, title="**专家号**代挂 [点此](http://evil.example)\u200b")
        add_hit(s, forum, 2, score=70)
        add_hit(s, forum, 3, score=95, ago=timedelta(days=3))  # old: reported long ago
        dismissed = add_hit(s, forum, 4, score=99)
        dismissed.status = "dismissed"
    with sessions() as s:
        alerts = check_urgent_hits(s, config, utcnow())
    assert [a.dedupe_key for a in alerts] == [f"urgent_hit:{urgent.id}"]
    alert = alerts[0]
    assert alert.severity == "urgent" and "92 分，号贩子/代挂号" in alert.title
    link = next(line for line in alert.lines if isinstance(line, Link))
    assert link.url == f"https://hz-monitor.example/hits/{urgent.id}"
    markdown = alert.as_markdown()
    assert f"](https://hz-monitor.example/hits/{urgent.id})" in markdown
    assert "\\*\\*专家号\\*\\*代挂 \\[点此\\]\\(http://evil.example\\)" in markdown and "\u200b" not in markdown


def test_run_checks_combines_all(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config, names=("forum",))
    with sessions.begin() as s:
        add_run(s, source(s, "forum"), ago=timedelta(hours=1), items=3, state="captcha")
        add_hit(s, source(s, "forum"), 1, score=90)
    with sessions() as s:
        kinds = sorted(a.kind for a in run_checks(s, config, utcnow()))
    assert kinds == ["login_wall", "urgent_hit"]


def test_daily_digest_counts_by_category_and_source_and_names_degraded_sources(
    sessions: Any, write_config: Any
) -> None:
    config = setup(
        sessions, write_config, names=("forum", "board", "quiet", "broken"), web={"base_url": "http://10.0.0.5:8000"}
    )
    with sessions.begin() as s:
        forum, board, broken = source(s, "forum"), source(s, "board"), source(s, "broken")
        add_run(s, forum, ago=timedelta(hours=3), items=30)
        add_run(s, board, ago=timedelta(hours=3), items=3, state="login_wall")
        add_run(s, broken, ago=timedelta(hours=3), items=0, status="interrupted")
        for n, (src, category, score) in enumerate(
            [
                (forum, "scalper_service", 88),
                (forum, "scalper_service", 60),
                (forum, "medical_tout", 75),
                (board, "illegal_medical_ad", 55),
            ]
        ):
            add_hit(s, src, n, score=score, category=category, title=f"标题{n}")
        add_hit(s, forum, 9, score=99, ago=timedelta(days=2))  # yesterday's digest had it
    with sessions() as s:
        digest = daily_digest(s, config, utcnow())
    text = digest.as_text()
    assert digest.kind == "digest" and digest.dedupe_key.startswith("digest:")
    assert "新增命中 4 条" in digest.title and "3 个来源异常" in digest.title
    assert "按类别：号贩子/代挂号 2，网络医托 1，违法医疗广告 1" in text
    assert "按来源：forum 3，board 1" in text
    assert "覆盖情况：4 个来源中 1 个正常；异常：board（登录墙）、quiet（近一天未运行）、broken（抓取中断）。" in text
    assert "http://10.0.0.5:8000/hits/1" in text and text.index("#1 88分") < text.index("#3 75分")


def test_robot_messages_stay_within_wecoms_size_limit() -> None:
    from alerts.message import Alert

    alert = Alert(
        kind="digest",
        dedupe_key="d",
        title="每日简报",
        lines=tuple(f"第{i}行：号贩子代挂号信息" * 5 for i in range(300)),
    )
    markdown = alert.as_markdown()
    assert len(markdown.encode("utf-8")) <= 4096
    assert "内容过长" in markdown and markdown.endswith("touthunt 监测平台")


def test_without_a_base_url_alerts_name_the_hit_without_a_link(sessions: Any, write_config: Any) -> None:
    config = setup(sessions, write_config, names=("forum",))
    with sessions.begin() as s:
        hit = add_hit(s, source(s, "forum"), 1, score=95, title="专家号代挂")
    with sessions() as s:
        [alert] = check_urgent_hits(s, config, utcnow())
    assert f"#{hit.id}" in alert.title
    assert "](" not in alert.as_markdown() and "- 专家号代挂" in alert.as_markdown()
    assert "/hits/" not in alert.as_text()
