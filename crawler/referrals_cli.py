"""The referral commands: ``touthunt batch`` (create, list, approve, send, discard, reopen, export, answer),
``touthunt verify`` (check an evidence zip), ``touthunt evidence`` (capture, check, prune),
``touthunt recheck`` (take-down re-checks), ``touthunt report`` (the work summary) and
``touthunt blacklist export``. Output for analysts is Chinese."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.labels import AUTHORITIES, BATCH_STATUSES

AUTHORITY_CHOICE = click.Choice(["cac", "miit", "samr", "police"])


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def batch() -> None:
    """Referral batches for one authority: create, approve, export, send, answer."""


@batch.command("create")
@click.option(
    "--authority", required=True, type=AUTHORITY_CHOICE, help="cac 网信, miit 通信管理局, samr 市场监管, police 公安."
)
@click.option("--as", "user", required=True, help="The analyst creating the batch.")
@with_config
def batch_create(config: Config, authority: str, user: str) -> None:
    """Gather confirmed hits not yet referred to AUTHORITY into a draft batch and print its number."""
    from referrals.batches import create_batch
    from referrals.platforms import load_platforms
    from referrals.sheets import evidence_by_hit

    sessions = open_database(config)
    with sessions.begin() as session:
        created = create_batch(
            session,
            authority=authority,
            user=user,
            institute_code=config.referrals.institute_code,
            platforms=load_platforms(config.referrals.platform_domains),
            now=_now(),
        )
        if created is None:
            click.echo(f"没有待移交{AUTHORITIES[authority]}的已确认命中。")
            return
        ids = [item.hit_id for item in created.items]
        without = sorted(set(ids) - set(evidence_by_hit(session, ids)))
        number = created.number
    click.echo(number)
    click.echo(f"已创建移交{AUTHORITIES[authority]}的批次 {number}: {len(ids)} 条命中 (草稿，待审核人审批)", err=True)
    if without:
        click.echo(f"注意: {len(without)} 条命中尚无取证文件 (线索编号 {', '.join(map(str, without))}); "
                   "可运行 touthunt evidence capture 补充取证", err=True)  # fmt: skip


@batch.command("list")
@with_config
def batch_list(config: Config) -> None:
    """Every batch with its state."""
    from sqlalchemy import select

    from referrals.sheets import china_clock
    from storage.models import ReferralBatch

    sessions = open_database(config)
    with sessions() as session:
        batches = session.scalars(select(ReferralBatch).order_by(ReferralBatch.id)).all()
        for b in batches:
            click.echo(f"{b.number}\t{AUTHORITIES[b.authority]}\t{BATCH_STATUSES.get(b.status, b.status)}\t"
                       f"{len(b.items)} 条\t创建 {china_clock(b.created_at)} {b.created_by}\t"
                       f"审批 {china_clock(b.approved_at)} {b.approved_by or ''}")  # fmt: skip
        if not batches:
            click.echo("还没有移交批次。")


@batch.command("approve")
@click.argument("number")
@click.option("--as", "user", required=True, help="The supervisor approving the batch.")
@with_config
def batch_approve(config: Config, number: str, user: str) -> None:
    """Approve a draft batch (supervisor); from then on its export is fixed."""
    from referrals.batches import approve_batch

    sessions = open_database(config)
    with sessions.begin() as session:
        approve_batch(session, number, user=user, now=_now())
    click.echo(f"批次 {number} 已审批。导出: touthunt batch export {number} --out 目录")


@batch.command("send")
@click.argument("number")
@click.option("--as", "user", required=True, help="The analyst who handed the batch over.")
@with_config
def batch_send(config: Config, number: str, user: str) -> None:
    """Record that an approved batch was handed to the authority; take-down re-checks start from now."""
    from referrals.batches import mark_sent

    sessions = open_database(config)
    with sessions.begin() as session:
        mark_sent(session, number, user=user, now=_now())
    click.echo(f"批次 {number} 已标记为已发送，将按计划复查。")


@batch.command("discard")
@click.argument("number")
@click.option("--as", "user", required=True, help="The analyst discarding the draft.")
@with_config
def batch_discard(config: Config, number: str, user: str) -> None:
    """Delete a draft batch; its hits can join another batch."""
    from referrals.batches import discard_batch

    sessions = open_database(config)
    with sessions.begin() as session:
        discard_batch(session, number, user=user)
    click.echo(f"草稿批次 {number} 已删除。")


@batch.command("reopen")
@click.argument("hit_id", type=int)
@click.option("--authority", required=True, type=AUTHORITY_CHOICE)
@click.option("--as", "user", required=True, help="The analyst re-opening the hit.")
@with_config
def batch_reopen(config: Config, hit_id: int, authority: str, user: str) -> None:
    """Re-open a referred hit so it can be referred to AUTHORITY again."""
    from referrals.batches import reopen_hit

    sessions = open_database(config)
    with sessions.begin() as session:
        reopen_hit(session, hit_id, authority, user=user, now=_now())
    click.echo(f"命中 {hit_id} 已重新开放，可再次移交{AUTHORITIES[authority]}。")


@batch.command("export")
@click.argument("number")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder; the files go to OUT/NUMBER/ (default: referrals.out_dir).")  # fmt: skip
@with_config
def batch_export(config: Config, number: str, out_dir: Path | None) -> None:
    """Write the approved batch's xlsx, CSV, letter (docx) and evidence zip into OUT/NUMBER/."""
    from referrals.package import export_batch

    sessions = open_database(config)
    with sessions.begin() as session:
        result = export_batch(config, session, number, out_dir or config.resolve_path(config.referrals.out_dir))
    click.echo(f"已导出批次 {number}: {result.hits} 条命中, {result.rows} 行 -> {result.folder}")
    for name, digest in result.files.items():
        click.echo(f"  {name}  SHA-256 {digest}")
    if result.missing_evidence:
        click.echo(f"注意: {len(result.missing_evidence)} 条命中没有取证文件 (线索编号 "
                   f"{', '.join(map(str, result.missing_evidence))})", err=True)  # fmt: skip


@batch.command("answer")
@click.argument("number")
@click.argument("answer_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "user", required=True, help="The analyst importing the answer.")
@with_config
def batch_answer(config: Config, number: str, answer_file: Path, user: str) -> None:
    """Import the authority's answer (CSV or xlsx: 网址 or 主域名, 处置结果, 受理编号)."""
    from referrals.answers import import_answer

    sessions = open_database(config)
    with sessions.begin() as session:
        result = import_answer(session, number, answer_file, user=user, now=_now())
    click.echo(f"已导入批次 {number} 的回复: {result.updated} 条记录已更新")


@click.command()
@click.argument("zip_path", type=click.Path(dir_okay=False, path_type=Path))
def verify(zip_path: Path) -> None:
    """Re-hash every file of an evidence zip against its SHA256SUMS, manifest.json and capture manifests."""
    from referrals.package import verify_zip

    report = verify_zip(zip_path)
    if report.ok:
        click.echo(f"校验通过: {zip_path} 中 {report.checked} 个文件与清单一致。")
        return
    for problem in report.problems:
        click.echo(f"校验失败: {problem}", err=True)
    click.echo(f"共 {len(report.problems)} 个问题: {zip_path} 与清单不一致。", err=True)
    sys.exit(1)


@click.group()
def evidence() -> None:
    """Evidence files: capture what is missing, check integrity, prune expired captures."""


@evidence.command("capture")
@click.option("--hit", "hit_ids", type=int, multiple=True, help="Capture these hits (default: every hit lacking one).")
@with_config
def evidence_capture(config: Config, hit_ids: tuple[int, ...]) -> None:
    """Capture evidence for hits at or above evidence.threshold that have none yet (or the given hits)."""
    from evidence.capture import capture_new_hits

    sessions = open_database(config)
    summary = capture_new_hits(config, sessions, hit_ids=list(hit_ids) if hit_ids else None)
    click.echo(f"取证完成: {summary.captured} 条 (其中 {summary.with_problems} 条不完整), 失败 {summary.failed} 条")
    if summary.failed:
        sys.exit(1)


@evidence.command("check")
@with_config
def evidence_check(config: Config) -> None:
    """Re-hash every kept evidence folder against its manifest and the hash in the database."""
    from evidence.capture import check_integrity

    sessions = open_database(config)
    with sessions() as session:
        problems = check_integrity(config, session)
    labels = {"missing": "文件缺失", "altered": "文件被改动", "unlisted": "多出未登记文件",
              "manifest_altered": "清单被改动", "manifest_missing": "清单缺失",
              "bad_manifest": "清单格式错误"}  # fmt: skip
    for p in problems:
        click.echo(f"线索 {p.hit_id} 证据 {p.folder}/{p.name}: {labels.get(p.problem, p.problem)}", err=True)
    if problems:
        click.echo(f"证据完整性检查发现 {len(problems)} 个问题。", err=True)
        sys.exit(1)
    click.echo("证据完整性检查通过。")


@evidence.command("prune")
@with_config
def evidence_prune(config: Config) -> None:
    """Delete evidence of never-referred hits older than evidence.retention_days."""
    from evidence.capture import prune_expired

    sessions = open_database(config)
    click.echo(f"已删除过期证据 {prune_expired(config, sessions)} 份。")


@click.command()
@click.option("--all", "everything", is_flag=True, help="Check every open target now, not only those due.")
@with_config
def recheck(config: Config, everything: bool) -> None:
    """Fetch referred targets again (on the recheck.schedule_days schedule) and record if they were taken down."""
    from crawler.labels import RECHECK_OUTCOMES
    from referrals.recheck import run_due_rechecks

    sessions = open_database(config)
    summary = run_due_rechecks(config, sessions, force=everything)
    parts = "，".join(f"{RECHECK_OUTCOMES.get(k, k)} {v}" for k, v in sorted(summary.outcomes.items())) or "无"
    click.echo(f"复查 {summary.checked} 个目标: {parts}; 销号 {summary.closed} 个")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23") from None


@click.command()
@click.option("--from", "start", required=True, help="First day (China time), e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Last day (China time), inclusive.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the xlsx and text (default: referrals.out_dir).")  # fmt: skip
@with_config
def report(config: Config, start: str, end: str, out_dir: Path | None) -> None:
    """The work summary (工作汇总表) of a period, as xlsx and text."""
    from referrals.report import build_report, write_report

    first, last = _day(start), _day(end)
    if last < first:
        raise click.BadParameter("--to is before --from")
    sessions = open_database(config)
    with sessions() as session:
        summary = build_report(session, first, last, platforms=_platforms(config))
    xlsx, text = write_report(summary, out_dir or config.resolve_path(config.referrals.out_dir),
                              institute=config.referrals.institute_name)  # fmt: skip
    click.echo(text.read_text(encoding="utf-8"))
    click.echo(f"已写入: {xlsx}\n        {text}", err=True)


def _platforms(config: Config) -> frozenset[str]:
    from referrals.platforms import load_platforms

    return load_platforms(config.referrals.platform_domains)


@click.group()
def blacklist() -> None:
    """The scalper blacklist (号贩子黑名单) of confirmed operators' identifiers."""


@blacklist.command("export")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the xlsx and CSV (default: referrals.out_dir).")  # fmt: skip
@with_config
def blacklist_export(config: Config, out_dir: Path | None) -> None:
    """Write the confirmed operators' mobile numbers, WeChat and QQ IDs and domains as xlsx and CSV."""
    from referrals.blacklist import export_blacklist

    sessions = open_database(config)
    with sessions() as session:
        result = export_blacklist(session, out_dir or config.resolve_path(config.referrals.out_dir),
                                  platforms=_platforms(config), now=_now(),
                                  institute=config.referrals.institute_name)  # fmt: skip
    click.echo(f"已导出黑名单 {result.rows} 条: {result.xlsx}\n                {result.csv}")


COMMANDS = (batch, verify, evidence, recheck, report, blacklist)
