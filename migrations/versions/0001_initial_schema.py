"""Initial schema: the tables create_all made before Alembic owned the schema.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_grade"), ["grade"], unique=False)

    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "exam_access_maps",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("exam_code", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "exam_code", name=op.f("pk_exam_access_maps")),
    )
    op.create_table(
        "files",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_files")),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_files_dossier_number"), ["dossier_number"], unique=False)

    op.create_table(
        "generated_documents",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_generated_documents")),
    )
    with op.batch_alter_table("generated_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_generated_documents_dossier_number"), ["dossier_number"], unique=False)

    op.create_table(
        "sent_mails",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_mails")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_staff_accounts")),
    )
    op.create_table(
        "accounts",
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.String(length=200), nullable=False),
        sa.Column("person_key", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("replaced_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_accounts_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("dossier_number", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_person_key"), ["person_key"], unique=False)

    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("dossier_number", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_number"], ["accounts.dossier_number"], name=op.f("fk_password_resets_dossier_number_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_dossier_number"), ["dossier_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_dossier_number"))

    op.drop_table("password_resets")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_person_key"))
        batch_op.drop_index(batch_op.f("ix_accounts_campaign_id"))

    op.drop_table("accounts")
    op.drop_table("staff_accounts")
    op.drop_table("sent_mails")
    with op.batch_alter_table("generated_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generated_documents_dossier_number"))

    op.drop_table("generated_documents")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_files_dossier_number"))

    op.drop_table("files")
    op.drop_table("exam_access_maps")
    op.drop_table("counters")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_grade"))

    op.drop_table("campaigns")
