"""Schema migrations: the models match the newest revision, and upgrading a database that already holds data
keeps every row (SQLite rebuilds altered tables, which must not trip over foreign keys)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import alembic_config, current_revision, make_engine, upgrade
from storage.models import Base


def test_models_match_the_newest_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_upgrade_keeps_existing_rows_and_renames_the_category(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/db.sqlite")
    upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'hub', 'site', '2026-11-20')"))
        c.execute(text(
            "INSERT INTO pages (id, canonical_url, url, final_url, domain, registrable_domain, title, text,"
            " content_hash, http_status, encoding, redirect_chain, depth, source_id, first_seen, last_seen)"
            " VALUES (1, 'http://a.cn/', 'http://a.cn/', 'http://a.cn/', 'a.cn', 'a.cn', 't', '代挂号', 'h', 200,"
            " 'utf-8', '[]', 0, 1, '2026-11-20', '2026-11-20')"
        ))  # fmt: skip
        c.execute(text(
            "INSERT INTO hits (id, page_id, score, category, reasons, lexicon_version, status, created_at, updated_at)"
            " VALUES (1, 1, 80, 'scalper', '[]', 'v', 'new', '2026-11-20', '2026-11-20')"
        ))  # fmt: skip
        c.execute(text("INSERT INTO contacts (id, page_id, kind, value) VALUES (1, 1, 'mobile', '13912345678')"))
    upgrade(engine)
    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as c:
        assert c.execute(text("SELECT category FROM hits")).scalar() == "scalper_service"
        assert c.execute(text("SELECT found_in FROM contacts")).scalar() == "text"
        assert c.execute(text("SELECT count(*) FROM pages")).scalar() == 1
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as c:
        assert c.execute(text("SELECT category FROM hits")).scalar() == "scalper"
    engine.dispose()
