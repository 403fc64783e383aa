"""Sent mails: a « sending » mark written just before DATA, turned « sent » at the server's 250
(activities/mail.py), so that a retry knows a mail whose fate an interrupted attempt left unknown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every row written before this revision is a mail the server took.
    with op.batch_alter_table("sent_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=10), server_default="sent", nullable=False))


def downgrade() -> None:
    # A « sending » row becomes a sent one: the older code then never sends it again.
    with op.batch_alter_table("sent_mails", schema=None) as batch_op:
        batch_op.drop_column("state")
