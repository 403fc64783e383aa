"""Rate limits shared by the web processes; replacement requests awaiting the earlier owner.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_ends", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_limits_window_ends"), ["window_ends"], unique=False)

    op.create_table(
        "replacement_requests",
        sa.Column("earlier", sa.String(length=32), nullable=False),
        sa.Column("later", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["earlier"], ["accounts.dossier_number"], name=op.f("fk_replacement_requests_earlier_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["later"], ["accounts.dossier_number"], name=op.f("fk_replacement_requests_later_accounts")
        ),
        sa.PrimaryKeyConstraint("earlier", "later", name=op.f("pk_replacement_requests")),
    )


def downgrade() -> None:
    op.drop_table("replacement_requests")
    with op.batch_alter_table("rate_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limits_window_ends"))

    op.drop_table("rate_limits")
