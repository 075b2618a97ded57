"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 05:33:40.167324
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "referral_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_exports")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("pages_stored", sa.Integer(), nullable=False),
        sa.Column("hits_new", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_reasons", sa.JSON(), nullable=False),
        sa.Column("finish_reason", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_crawl_runs_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_runs_source_id"), ["source_id"], unique=False)

    op.create_table(
        "fetch_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_fetch_failures_run_id_crawl_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_failures")),
    )
    with op.batch_alter_table("fetch_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fetch_failures_reason"), ["reason"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_failures_run_id"), ["run_id"], unique=False)

    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.String(length=2048), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("final_url", sa.String(length=2048), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("registrable_domain", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=40), nullable=False),
        sa.Column("redirect_chain", sa.JSON(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("referer", sa.String(length=2048), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["first_run_id"], ["crawl_runs.id"], name=op.f("fk_pages_first_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(["last_run_id"], ["crawl_runs.id"], name=op.f("fk_pages_last_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_pages_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("canonical_url", name=op.f("uq_pages_canonical_url")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_registrable_domain"), ["registrable_domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_pages_source_id"), ["source_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_contacts_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("page_id", "kind", "value", name="uq_contacts_page_kind_value"),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_page_id"), ["page_id"], unique=False)

    op.create_table(
        "hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("lexicon_version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_hits_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hits")),
        sa.UniqueConstraint("page_id", name=op.f("uq_hits_page_id")),
    )
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hits_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_hits_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hits_score"), ["score"], unique=False)
        batch_op.create_index(batch_op.f("ix_hits_status"), ["status"], unique=False)

    op.create_table(
        "referral_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("authority", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"], ["referral_exports.id"], name=op.f("fk_referral_items_export_id_referral_exports")
        ),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_referral_items_hit_id_hits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_items")),
        sa.UniqueConstraint("hit_id", "authority", name="uq_referral_items_hit_authority"),
    )
    with op.batch_alter_table("referral_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_items_export_id"), ["export_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referral_items_hit_id"), ["hit_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("referral_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_items_hit_id"))
        batch_op.drop_index(batch_op.f("ix_referral_items_export_id"))

    op.drop_table("referral_items")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hits_status"))
        batch_op.drop_index(batch_op.f("ix_hits_score"))
        batch_op.drop_index(batch_op.f("ix_hits_created_at"))
        batch_op.drop_index(batch_op.f("ix_hits_category"))

    op.drop_table("hits")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_page_id"))
        batch_op.drop_index("ix_contacts_kind_value")

    op.drop_table("contacts")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pages_source_id"))
        batch_op.drop_index(batch_op.f("ix_pages_registrable_domain"))
        batch_op.drop_index(batch_op.f("ix_pages_last_seen"))
        batch_op.drop_index(batch_op.f("ix_pages_domain"))
        batch_op.drop_index(batch_op.f("ix_pages_content_hash"))

    op.drop_table("pages")
    with op.batch_alter_table("fetch_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fetch_failures_run_id"))
        batch_op.drop_index(batch_op.f("ix_fetch_failures_reason"))

    op.drop_table("fetch_failures")
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_runs_source_id"))

    op.drop_table("crawl_runs")
    op.drop_table("sources")
    op.drop_table("referral_exports")
