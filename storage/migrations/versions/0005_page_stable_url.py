"""stable URL of a self-media post beside the temporary link it was reached by

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("stable_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("stable_url")
