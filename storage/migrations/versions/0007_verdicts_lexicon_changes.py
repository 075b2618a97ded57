"""review verdicts, attributed lexicon changes, a session epoch per account

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_verdicts_hit_id_hits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdicts")),
    )
    op.create_index(op.f("ix_verdicts_hit_id"), "verdicts", ["hit_id"])
    op.create_index(op.f("ix_verdicts_at"), "verdicts", ["at"])
    op.create_index(op.f("ix_verdicts_actor"), "verdicts", ["actor"])
    op.create_table(
        "lexicon_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("flags", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lexicon_changes")),
    )


def downgrade() -> None:
    op.drop_table("lexicon_changes")
    op.drop_index(op.f("ix_verdicts_actor"), table_name="verdicts")
    op.drop_index(op.f("ix_verdicts_at"), table_name="verdicts")
    op.drop_index(op.f("ix_verdicts_hit_id"), table_name="verdicts")
    op.drop_table("verdicts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
