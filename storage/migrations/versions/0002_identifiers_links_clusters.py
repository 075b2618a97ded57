"""identifiers, links, clusters, ad certificates, contact sources

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:12:53.841085
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ad_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("institution", sa.String(length=255), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_file", sa.String(length=1024), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_ad_certificates_number")),
    )
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=130), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("domain_count", sa.Integer(), nullable=False),
        sa.Column("contact_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
        sa.UniqueConstraint("key", name=op.f("uq_clusters_key")),
    )
    op.create_table(
        "identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_identifiers_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifiers")),
        sa.UniqueConstraint("page_id", "kind", "value", name="uq_identifiers_page_kind_value"),
    )
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_identifiers_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(batch_op.f("ix_identifiers_page_id"), ["page_id"], unique=False)

    op.create_table(
        "page_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("registrable_domain", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"], name=op.f("fk_page_links_page_id_pages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_links")),
        sa.UniqueConstraint("page_id", "url", name="uq_page_links_page_url"),
    )
    with op.batch_alter_table("page_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_links_page_id"), ["page_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_links_registrable_domain"), ["registrable_domain"], unique=False)

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("found_in", sa.String(length=10), nullable=False, server_default="text"))

    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_pages_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_pages_cluster_id_clusters"), "clusters", ["cluster_id"], ["id"])

    # issue 3 names the scalper category scalper_service
    op.execute("UPDATE hits SET category = 'scalper_service' WHERE category = 'scalper'")


def downgrade() -> None:
    op.execute("UPDATE hits SET category = 'scalper' WHERE category = 'scalper_service'")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_pages_cluster_id_clusters"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_pages_cluster_id"))
        batch_op.drop_column("cluster_id")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("found_in")

    with op.batch_alter_table("page_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_links_registrable_domain"))
        batch_op.drop_index(batch_op.f("ix_page_links_page_id"))

    op.drop_table("page_links")
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifiers_page_id"))
        batch_op.drop_index("ix_identifiers_kind_value")

    op.drop_table("identifiers")
    op.drop_table("clusters")
    op.drop_table("ad_certificates")
