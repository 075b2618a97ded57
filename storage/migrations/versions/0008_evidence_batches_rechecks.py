"""evidence records, referral batches, take-down re-checks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def upgrade() -> None:
    op.create_table(
        "referral_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_batches")),
        sa.UniqueConstraint("number", name=op.f("uq_referral_batches_number")),
        sa.UniqueConstraint("authority", "year", "seq", name="uq_referral_batches_authority_year_seq"),
    )
    op.create_index(op.f("ix_referral_batches_authority"), "referral_batches", ["authority"])
    op.create_table(
        "evidence_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("folder", sa.String(length=1024), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("final_url", sa.String(length=2048), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_evidence_records_hit_id_hits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_records")),
    )
    op.create_index(op.f("ix_evidence_records_hit_id"), "evidence_records", ["hit_id"])
    op.create_index(op.f("ix_evidence_records_captured_at"), "evidence_records", ["captured_at"])
    with op.batch_alter_table("referral_items", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_referral_items_hit_authority", type_="unique")
        batch.alter_column("export_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("target", sa.String(length=2048), nullable=False, server_default=""))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reopened_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("state", sa.String(length=20), nullable=False, server_default="open"))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("tracking_code", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_referral_items_batch_id_referral_batches"), "referral_batches", ["batch_id"], ["id"]
        )
        batch.create_index(op.f("ix_referral_items_batch_id"), ["batch_id"])
        batch.create_index(op.f("ix_referral_items_authority"), ["authority"])
    op.create_table(
        "rechecks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence_records.id"], name=op.f("fk_rechecks_evidence_id_evidence_records")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["referral_items.id"], name=op.f("fk_rechecks_item_id_referral_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rechecks")),
    )
    op.create_index(op.f("ix_rechecks_item_id"), "rechecks", ["item_id"])
    op.create_index(op.f("ix_rechecks_checked_at"), "rechecks", ["checked_at"])


def downgrade() -> None:
    op.drop_table("rechecks")
    with op.batch_alter_table("referral_items", naming_convention=NAMING) as batch:
        batch.drop_index(op.f("ix_referral_items_authority"))
        batch.drop_index(op.f("ix_referral_items_batch_id"))
        batch.drop_constraint(op.f("fk_referral_items_batch_id_referral_batches"), type_="foreignkey")
        for column in ("answered_at", "tracking_code", "outcome", "closed_at", "state", "reopened_by",
                       "reopened_at", "active", "target", "batch_id"):  # fmt: skip
            batch.drop_column(column)
        batch.alter_column("export_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_referral_items_hit_authority", ["hit_id", "authority"])
    op.drop_table("evidence_records")
    op.drop_table("referral_batches")
