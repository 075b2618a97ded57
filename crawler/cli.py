"""The ``touthunt`` command line: db upgrade, crawl, hits, score, export, demo, serve and worker here; ``status`` in
``crawler/status.py``; the referral commands (batch, verify, evidence, recheck, report, blacklist) in
``crawler/referrals_cli.py``; the web app's (user, review, web) in ``review/cli.py``; ``sources`` in
``crawler/sources_cli.py``.

Every command takes ``--config PATH`` (default ``./config.yaml``). A configuration error ends the command
with its message and exit status 2; other known errors with exit status 1; never with a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import click

from crawler.certs_cli import certs
from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.errors import ConfigError
from crawler.graph_cli import clusters
from crawler.hitlist import CHINA, day_bounds, hit_row, render_csv, render_json, render_table
from crawler.labels import RUN_STATUSES, SOURCE_STATES, failure_label
from crawler.lexicon_cli import lexicon
from crawler.referrals_cli import COMMANDS as REFERRAL_COMMANDS
from crawler.runner import RunSummary, SourceBusy, run_source
from crawler.sources_cli import sources
from crawler.status import status
from review.cli import review, user, web
from storage.clusters import rebuild_clusters

log = logging.getLogger("touthunt")


@click.group()
@click.version_option(package_name="touthunt")
def main() -> None:
    """touthunt: 网络号贩子与医托有害信息监测平台."""


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@with_config
def db_upgrade(config: Config) -> None:
    """Create or migrate the database schema to the newest version."""
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(config.database_url, busy_timeout_seconds=config.database.busy_timeout_seconds)
    try:
        upgrade(engine)
        shown = engine.url.render_as_string(hide_password=True)  # never print a password
        click.echo(f"数据库已是最新结构 (revision {current_revision(engine)}): {shown}")
    finally:
        engine.dispose()


def print_run(summary: RunSummary, out: TextIO | None = None) -> None:
    status = RUN_STATUSES.get(summary.status, summary.status)
    reasons = "，".join(f"{failure_label(k)} {v}" for k, v in sorted(summary.error_reasons.items())) or "无"
    click.echo(
        f"[{summary.source}] 运行 #{summary.run_id} {status}: 抓取 {summary.pages_fetched} 页, "
        f"入库 {summary.pages_stored} 页, 新命中 {summary.hits_new} 条; 失败/丢弃: {reasons}",
        file=out,
    )
    if summary.source_state in ("login_wall", "captcha", "blocked") or summary.status == "blocked":
        state = SOURCE_STATES.get(summary.source_state or "", summary.source_state)
        click.echo(f"    平台拦截 ({state})，本次运行已停止；未尝试绕过。", file=out)
    if summary.message:
        click.echo(f"    {summary.message}", file=out)
    click.echo(f"    日志: {summary.log_file}", file=out)


def crawl_sources(config: Config, source_name: str | None) -> list[RunSummary]:
    sessions = open_database(config)
    sources = [config.source(source_name)] if source_name else [s for s in config.sources if s.enabled]
    if not sources:
        raise ConfigError("sources: no enabled source to crawl; add one to config.yaml")
    summaries = []
    for source in sources:
        try:
            summary = run_source(config, source, sessions)
        except SourceBusy as exc:  # the scheduler (or another crawl command) is crawling it right now
            click.echo(str(exc), err=True)
            continue
        print_run(summary)
        summaries.append(summary)
    with sessions.begin() as session:  # new contacts may join pages of different sites into one operator
        stats = rebuild_clusters(session)
    click.echo(f"团伙: {stats.clusters} 个 (新建 {stats.created}, 变更 {stats.changed}, 删除 {stats.deleted})")
    return summaries


@main.command()
@click.option("--source", "source_name", help="Crawl only this source (default: every enabled source).")
@with_config
def crawl(config: Config, source_name: str | None) -> None:
    """Crawl the configured sources, each in its own process, and store pages, scores and hits."""
    summaries = crawl_sources(config, source_name)
    if not summaries or any(s.status != "finished" for s in summaries):
        sys.exit(1)


def _parse_day(value: str) -> date:
    if value == "today":
        return datetime.now(CHINA).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23 or 'today'") from None


def query_hits(config: Config, *, day: str | None, since: str | None, min_score: int | None) -> list[dict[str, Any]]:
    from storage import repository

    sessions = open_database(config)
    if day and since:
        raise click.UsageError("give --date or --since, not both")
    start = end = None
    if since:
        start = day_bounds(_parse_day(since))[0]
    else:
        start, end = day_bounds(_parse_day(day or "today"))
    threshold = config.scoring.hit_threshold if min_score is None else min_score
    with sessions() as session:
        return [hit_row(h) for h in repository.list_hits(session, since=start, until=end, min_score=threshold)]


@main.command()
@click.option("--date", "day", help="Hits first found on this day (China time), e.g. 2026-11-23. Default: today.")
@click.option("--since", help="Hits first found on or after this day (China time).")
@click.option("--min-score", type=click.IntRange(0, 100), help="Lowest score shown (default: scoring.hit_threshold).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@with_config
def hits(config: Config, day: str | None, since: str | None, min_score: int | None, fmt: str) -> None:
    """The daily hit list, newest first."""
    rows = query_hits(config, day=day, since=since, min_score=min_score)
    if fmt == "json":
        click.echo(render_json(rows))
    elif fmt == "csv":
        sys.stdout.buffer.write(render_csv(rows).encode("utf-8"))
    else:
        click.echo(render_table(rows))
        click.echo(f"共 {len(rows)} 条命中", err=True)


@main.command()
@click.argument("hit_id", type=int)
@with_config
def show(config: Config, hit_id: int) -> None:
    """Explain one hit: its facts, every reason with its rule id, and the text with the matches marked."""
    from crawler.hitview import render_hit
    from storage import repository

    sessions = open_database(config)
    with sessions() as session:
        hit = repository.get_hit(session, hit_id)
        if hit is None:
            raise click.UsageError(f"no hit with id {hit_id}")
        found_by = list(repository.serp_results_for_page(session, hit.page_id))
        click.echo(render_hit(hit, color=sys.stdout.isatty(), found_by=found_by))


def _read_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"line {number}: invalid JSON ({exc.msg})"
            continue
        if not isinstance(record, dict) or not ("text" in record or "html" in record):
            yield number, None, f"line {number}: a record needs an object with 'text' or 'html'"
            continue
        yield number, record, None


@main.command()
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON Lines of {id, url, text} or {id, url, html}; '-' reads standard input.")  # fmt: skip
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the results (JSON Lines). Default: standard output.")  # fmt: skip
@with_config
def score(config: Config, input_path: Path, output_path: Path | None) -> None:
    """Score records offline, without crawling or storing anything."""
    from crawler.scoring import build_scorer, inputs_from_config
    from spiders.extract import html_to_text

    scorer = build_scorer(inputs_from_config(config, with_database=False))
    source = sys.stdin if str(input_path) == "-" else input_path.open(encoding="utf-8")
    sink = output_path.open("w", encoding="utf-8") if output_path else sys.stdout
    scored = skipped = 0
    try:
        records = list(_read_records(source))
        with click.progressbar(
            records, label="评分", file=sys.stderr, show_pos=True, hidden=not sys.stderr.isatty()
        ) as bar:
            for number, record, error in bar:
                if record is None:
                    skipped += 1
                    log.warning("skipped %s", error)
                    sink.write(json.dumps({"line": number, "error": error}, ensure_ascii=False) + "\n")
                    continue
                text = record.get("text")
                if text is None:
                    text = html_to_text(str(record.get("html") or ""))[1]
                result = score_to_output(record, scorer.score(str(text), url=record.get("url")))
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
                scored += 1
    finally:
        if source is not sys.stdin:
            source.close()
        if output_path:
            sink.close()
    click.echo(f"已评分 {scored} 条, 跳过 {skipped} 条", err=True)


def score_to_output(record: dict[str, Any], result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {
        "id": record.get("id"),
        "url": record.get("url"),
        "score": data["score"],
        "hit": data["hit"],
        "category": data["category"],
        "reasons": data["reasons"],
        "contacts": data["contacts"],
        "lexicon_version": data["lexicon_version"],
    }


@main.command()
@click.option("--authority", required=True, type=click.Choice(["cac", "miit"]),
              help="cac: 网信 (content on platforms); miit: 通信管理局 (stand-alone sites).")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the CSV (default: referrals.out_dir).")  # fmt: skip
@with_config
def export(config: Config, authority: str, out_dir: Path | None) -> None:
    """Export hits not yet referred to an authority as a CSV (UTF-8 with BOM, Chinese headers)."""
    from referrals.export import authority_label, export_unreferred
    from referrals.platforms import load_platforms

    sessions = open_database(config)
    with sessions.begin() as session:
        result = export_unreferred(
            session,
            authority=authority,
            out_dir=out_dir or config.resolve_path(config.referrals.out_dir),
            institute_code=config.referrals.institute_code,
            platforms=load_platforms(config.referrals.platform_domains),
            now=datetime.now(UTC),
        )
        if result is not None:  # the audit log names every file handed out
            from storage import audit

            audit.record(
                session, "system", "export", f"referral:{authority}", path=str(result.path), sha256=result.sha256,
                hits=result.hits,
            )  # fmt: skip
    if result is None:
        click.echo(f"没有待移交{authority_label(authority)}的命中。")
        return
    click.echo(
        f"已导出 {result.hits} 条命中 ({result.rows} 行) 待移交{authority_label(authority)}: {result.path}\n"
        f"SHA-256: {result.sha256}"
    )


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo exports (default: referrals.out_dir).")  # fmt: skip
@with_config
def demo(config: Config, out_dir: Path | None) -> None:
    """Crawl the bundled demo web through its local replay proxy, print the hit list, write the exports."""
    from crawler.demo import run_demo

    run_demo(config, out_dir=out_dir)


@main.command()
@click.option(
    "--web-app",
    "web_app",
    default="review.app:create_app",
    show_default=True,
    metavar="MODULE:FUNCTION",
    help="The web app served beside the scheduler (a factory taking the Config, returning an ASGI app).",
)
@click.option("--no-web", is_flag=True, help="Run the scheduler only (the web app runs elsewhere).")  # fmt: skip
@with_config
def serve(config: Config, web_app: str, no_web: bool) -> None:
    """Run unattended: the scheduler and the analysts' web app until SIGTERM or SIGINT."""
    from crawler.serve import ServeOptions, load_factory
    from crawler.serve import serve as run_serve

    config_path = Path(click.get_current_context().params["config_path"])
    factory = None if no_web else load_factory(web_app)
    ready = threading.Event()

    def announce() -> None:
        if ready.wait():
            web = f"，网页 http://{config.web.host}:{config.web.port}" if factory else ""
            click.echo(
                f"touthunt serve 已启动（{config_path}）：调度器运行中{web}。按 Ctrl-C 或发送 SIGTERM 停止。", err=True
            )

    threading.Thread(target=announce, daemon=True).start()
    code = run_serve(config, config_path, ServeOptions(web_app_factory=factory, ready=ready))
    click.echo("touthunt serve 已停止。" if code == 0 else "touthunt serve 异常停止，详见日志。", err=True)
    sys.exit(code)


@main.command()
@click.option("--source", "source_names", multiple=True, help="Join only this source's crawls (repeatable).")
@with_config
def worker(config: Config, source_names: tuple[str, ...]) -> None:
    """Join the shared crawls (frontier.url) of this and other machines until SIGTERM or SIGINT."""
    import signal

    from crawler.worker import run_worker

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("touthunt worker 已启动：等待共享抓取任务。按 Ctrl-C 或发送 SIGTERM 停止。", err=True)
    report = run_worker(config, source_names=list(source_names) or None, stop=stop)
    click.echo(f"touthunt worker 已停止：参与 {len(report.joined)} 次抓取。", err=True)


main.add_command(clusters)
main.add_command(certs)
main.add_command(lexicon)
for _command in REFERRAL_COMMANDS:
    main.add_command(_command)
main.add_command(user)
main.add_command(review)
main.add_command(web)
main.add_command(sources)
main.add_command(status)

if __name__ == "__main__":
    main()
