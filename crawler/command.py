"""How every touthunt command starts: ``--config`` loaded into the typed Config, logging set up, the
database opened and migrated, and touthunt's errors turned into clean exits (2 for configuration errors,
1 for the others) instead of tracebacks. Command modules (``crawler/cli.py``, ``crawler/graph_cli.py``,
``crawler/certs_cli.py``, ``crawler/lexicon_cli.py``) build on it."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crawler.config import DEFAULT_CONFIG_PATH, Config, load_config
from crawler.errors import ConfigError, TouthuntError


def _setup_logging(config: Config) -> None:
    logging.basicConfig(level=config.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # schema upgrades run on every command; their step-by-step notes are not news to the user
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(config.logging.level)))


def with_config(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--config``, load it, and turn touthunt's errors into clean exits."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_CONFIG_PATH,
        show_default=True,
        help="Configuration file.",
    )
    @functools.wraps(func)
    def wrapper(config_path: Path, **kwargs: Any) -> Any:
        try:
            config = load_config(config_path)
            _setup_logging(config)
            return func(config, **kwargs)
        except ConfigError as exc:
            click.echo(f"配置错误 (configuration error): {exc}", err=True)
            sys.exit(2)
        except TouthuntError as exc:
            click.echo(f"错误: {exc}", err=True)
            sys.exit(1)

    return wrapper


def open_database(config: Config) -> Any:
    """Engine + sessionmaker for the configured database, migrated to the newest schema."""
    from storage.db import make_engine, make_sessionmaker, upgrade

    engine = make_engine(config.database_url, busy_timeout_seconds=config.database.busy_timeout_seconds)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.dispose)  # pooled connections closed when the command ends
    upgrade(engine)
    return make_sessionmaker(engine)
