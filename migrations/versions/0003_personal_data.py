"""Personal data (RGPD): staff reads, campaign purges and the anonymised counts they leave.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 02:17:44.056263
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_login", sa.String(length=64), nullable=False),
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("file_ref", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_reads")),
    )
    with op.batch_alter_table("staff_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_reads_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_reads_dossier_number"), ["dossier_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_reads_staff_login"), ["staff_login"], unique=False)

    op.create_table(
        "campaign_purges",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_purges_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_purges")),
    )
    op.create_table(
        "purged_counts",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_purged_counts_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", "status", "route", name=op.f("pk_purged_counts")),
    )


def downgrade() -> None:
    op.drop_table("purged_counts")
    op.drop_table("campaign_purges")
    with op.batch_alter_table("staff_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_reads_staff_login"))
        batch_op.drop_index(batch_op.f("ix_staff_reads_dossier_number"))
        batch_op.drop_index(batch_op.f("ix_staff_reads_at"))

    op.drop_table("staff_reads")
