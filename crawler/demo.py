"""``touthunt demo``: start the bundled replay web, crawl it through its proxy on the configured database,
print the hit list, write the first referral exports, and tell the user where everything is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from crawler.cli import crawl_sources, open_database
from crawler.config import Config, load_overlay, with_changes
from crawler.hitlist import hit_row, render_table
from replayweb import ReplayWeb, demo_sources_path

# The demo web holds a deliberately slow page; a short timeout shows a timeout failure without a long wait.
DEMO_TIMEOUT_SECONDS = 2.0


def demo_config(config: Config, proxy_url: str) -> Config:
    """The user's config with the demo web's sources (and platform hosts), its proxy and short timeouts."""
    overlay = load_overlay(demo_sources_path())
    network = {
        "proxy": proxy_url,
        "timeout_seconds": min(config.network.timeout_seconds, DEMO_TIMEOUT_SECONDS),
        "download_delay_seconds": 0.0,
        "retries": 0,
    }
    return with_changes(config, str(demo_sources_path()), **overlay, network=network)


def run_demo(config: Config, *, out_dir: Path | None = None) -> None:
    from referrals.export import authority_label, export_unreferred
    from referrals.platforms import load_platforms
    from storage import repository

    started = datetime.now(UTC)
    with ReplayWeb() as web:
        demo = demo_config(config, web.proxy_url)
        click.echo(f"演示网络已启动 (代理 {web.proxy_url})，开始抓取 {len(demo.sources)} 个来源……")
        crawl_sources(demo, None)

    from crawler.sources_cli import health_rows, render_health

    click.echo("\n来源状态:")
    click.echo(render_health(health_rows(demo)))

    sessions = open_database(demo)
    with sessions() as session:
        rows = [hit_row(h) for h in repository.list_hits(session, seen_since=started, min_score=0)]
    click.echo(f"\n本次抓取涉及的命中 ({len(rows)} 条):")
    click.echo(render_table(rows))

    exports_dir = out_dir or demo.resolve_path(demo.referrals.out_dir)
    click.echo("")
    for authority in ("cac", "miit"):
        with sessions.begin() as session:
            result = export_unreferred(
                session,
                authority=authority,
                out_dir=exports_dir,
                institute_code=demo.referrals.institute_code,
                platforms=load_platforms(demo.referrals.platform_domains),
                now=datetime.now(UTC),
            )
        if result is None:
            click.echo(f"移交{authority_label(authority)}: 没有新的待移交命中 (已移交的不再重复导出)")
        else:
            click.echo(f"移交{authority_label(authority)}: {result.hits} 条命中 -> {result.path}")

    click.echo(
        "\n一切就绪:\n"
        f"  数据库      {demo.database_url}\n"
        f"  抓取日志    {demo.var_dir / 'logs'}\n"
        f"  导出文件    {exports_dir}\n"
        f"  取证文件    {demo.resolve_path(demo.evidence.folder)}   (touthunt evidence check 校验)\n"
        "  移交批次    touthunt batch create --authority miit --as 用户名  (审核: touthunt batch approve)\n"
        "  查看命中    touthunt hits --format json   (或 --format csv)\n"
        "  来源状态    touthunt sources              (或 --json)\n"
        "  离线评分    touthunt score --input 记录.jsonl\n"
        "  正式抓取    编辑 config.yaml 中的 sources，然后运行 touthunt crawl"
    )
