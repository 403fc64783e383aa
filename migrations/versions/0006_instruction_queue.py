"""Instruction queue: expiring claims on dossiers (infra.instruction) and the decisions counted
per instructor and per day for the head of service.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 02:45:39.643636
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruction_claims",
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("staff_login", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_number", name=op.f("pk_instruction_claims")),
    )
    with op.batch_alter_table("instruction_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruction_claims_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruction_claims_staff_login"), ["staff_login"], unique=False)

    op.create_table(
        "instruction_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("staff_login", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruction_decisions")),
    )
    with op.batch_alter_table("instruction_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruction_decisions_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruction_decisions_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruction_decisions_dossier_number"), ["dossier_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_instruction_decisions_staff_login"), ["staff_login"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("instruction_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruction_decisions_staff_login"))
        batch_op.drop_index(batch_op.f("ix_instruction_decisions_dossier_number"))
        batch_op.drop_index(batch_op.f("ix_instruction_decisions_decided_at"))
        batch_op.drop_index(batch_op.f("ix_instruction_decisions_campaign_id"))

    op.drop_table("instruction_decisions")
    with op.batch_alter_table("instruction_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruction_claims_staff_login"))
        batch_op.drop_index(batch_op.f("ix_instruction_claims_expires_at"))

    op.drop_table("instruction_claims")
