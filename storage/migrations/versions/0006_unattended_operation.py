"""unattended operation: crawl process on runs, crawl frontier, alert deliveries, scheduler lease

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
    op.create_table(
        "crawl_frontier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("referer", sa.String(length=2048), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("added_run_id", sa.Integer(), nullable=True),
        sa.Column("done_run_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_crawl_frontier_source_id_sources")),
        sa.ForeignKeyConstraint(
            ["added_run_id"], ["crawl_runs.id"], name=op.f("fk_crawl_frontier_added_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(
            ["done_run_id"], ["crawl_runs.id"], name=op.f("fk_crawl_frontier_done_run_id_crawl_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_frontier")),
        sa.UniqueConstraint("source_id", "key", name="uq_crawl_frontier_source_key"),
    )
    op.create_index("ix_crawl_frontier_source_state", "crawl_frontier", ["source_id", "state"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_index(op.f("ix_alert_deliveries_kind"), "alert_deliveries", ["kind"])
    op.create_index(op.f("ix_alert_deliveries_attempted_at"), "alert_deliveries", ["attempted_at"])
    op.create_index("ix_alert_deliveries_key_channel", "alert_deliveries", ["dedupe_key", "channel"])
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_leases")
    op.drop_table("alert_deliveries")
    op.drop_table("crawl_frontier")
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("host")
        batch.drop_column("pid")
