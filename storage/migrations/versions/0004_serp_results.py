"""search-engine results (organic and ads) of search runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serp_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("query", sa.String(length=255), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("is_ad", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        sa.Column("display_url", sa.String(length=2048), nullable=False),
        sa.Column("serp_url", sa.String(length=2048), nullable=False),
        sa.Column("redirect_url", sa.String(length=2048), nullable=False),
        sa.Column("target_url", sa.String(length=2048), nullable=False),
        sa.Column("target_domain", sa.String(length=255), nullable=False),
        sa.Column("resolution", sa.String(length=20), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_serp_results_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_serp_results_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serp_results")),
    )
    for column in ("run_id", "engine", "query", "is_ad", "target_domain", "page_id"):
        op.create_index(op.f(f"ix_serp_results_{column}"), "serp_results", [column])


def downgrade() -> None:
    op.drop_table("serp_results")
