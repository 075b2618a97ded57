"""Commands for accounts and review: ``touthunt user add``, ``touthunt review confirm|dismiss|reopen`` (the same
verdicts as the web app, through `storage.verdicts.record_verdicts`) and ``touthunt web`` (the web app alone,
served by uvicorn, for development and small set-ups)."""

from __future__ import annotations

import sys

import click

from crawler.command import open_database, with_config
from crawler.config import Config
from crawler.errors import AccessError
from crawler.labels import HIT_STATUSES
from keywords.result import CATEGORIES as CATEGORY_CODES
from storage.models import USER_ROLES
from storage.users import require_user
from storage.verdicts import VerdictError, record_verdicts


@click.group()
def user() -> None:
    """Accounts of the web app (分析员 analyst / 主管 supervisor)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(USER_ROLES), required=True, help="analyst reviews; supervisor also approves.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_config
def user_add(config: Config, name: str, role: str, password_stdin: bool) -> None:
    """Create an account, or set a new password and role for an existing one."""
    from review.auth import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    sessions = open_database(config)
    with sessions.begin() as session:
        add_user(session, name, role, password)
    click.echo(f"账号已保存: {name} ({'主管' if role == 'supervisor' else '分析员'})")


@click.group()
def review() -> None:
    """Verdicts on hits from the command line, recorded exactly like those given in the web app."""


def _verdict(config: Config, hit_ids: tuple[int, ...], actor: str, verdict: str, **fields: str | None) -> None:
    sessions = open_database(config)
    with sessions.begin() as session:
        account = require_user(session, actor, "analyst")
        try:
            outcome = record_verdicts(session, hit_ids, actor=account.name, verdict=verdict, via="cli", **fields)
        except VerdictError as exc:
            raise AccessError(str(exc)) from None
        statuses = {v.hit_id: HIT_STATUSES[{"reopened": "new"}.get(v.verdict, v.verdict)] for v in outcome.verdicts}
    for hit_id, status in statuses.items():
        click.echo(f"命中 #{hit_id}: {status}")


@review.command("confirm")
@click.argument("hit_ids", nargs=-1, type=int, required=True)
@click.option("--as", "actor", required=True, help="The analyst's account name.")
@click.option("--category", type=click.Choice(CATEGORY_CODES), help="Confirm as this category (default: keep).")
@click.option("--note", default="", help="A note kept with the verdict.")
@with_config
def review_confirm(config: Config, hit_ids: tuple[int, ...], actor: str, category: str | None, note: str) -> None:
    """Confirm hits as violations."""
    _verdict(config, hit_ids, actor, "confirmed", category=category, note=note)


@review.command("dismiss")
@click.argument("hit_ids", nargs=-1, type=int, required=True)
@click.option("--as", "actor", required=True, help="The analyst's account name.")
@click.option("--reason", required=True, help="Why the hits are not violations.")
@click.option("--note", default="", help="A note kept with the verdict.")
@with_config
def review_dismiss(config: Config, hit_ids: tuple[int, ...], actor: str, reason: str, note: str) -> None:
    """Dismiss hits as false positives."""
    _verdict(config, hit_ids, actor, "dismissed", reason=reason, note=note)


@review.command("reopen")
@click.argument("hit_ids", nargs=-1, type=int, required=True)
@click.option("--as", "actor", required=True, help="The analyst's account name.")
@click.option("--reason", required=True, help="Why the verdict is withdrawn.")
@with_config
def review_reopen(config: Config, hit_ids: tuple[int, ...], actor: str, reason: str) -> None:
    """Put confirmed or dismissed hits back into review."""
    _verdict(config, hit_ids, actor, "reopened", reason=reason)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.port).")
@with_config
def web(config: Config, host: str | None, port: int | None) -> None:
    """Serve the analysts' web app (development; `touthunt serve` runs it with the scheduler)."""
    import uvicorn

    from review.app import create_app

    app = create_app(config)
    host, port = host or config.web.host, port or config.web.port
    click.echo(f"网页端: http://{host}:{port}/ (Ctrl-C 停止)")
    uvicorn.run(app, host=host, port=port, log_level=config.logging.level.lower(), access_log=False)


__all__ = ["review", "user", "web"]
