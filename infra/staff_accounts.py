"""Staff accounts of the back office: instructors, administrators, operators.

Created and managed from the command line (`python -m ops.staff_cli`), never from the web: no
page can grant itself a role. Passwords are argon2id hashes (`web.security`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.clock import now
from infra.database import Base


class StaffRole(StrEnum):
    INSTRUCTOR = "instructeur"  # instructs dossiers: decisions, letters, bulk actions
    ADMINISTRATOR = "administrateur"  # all of it, and sets campaigns up
    OPERATOR = "operateur"  # runs the system: histories, health; reads dossiers

    @property
    def label(self) -> str:
        return {"instructeur": "Instructeur", "administrateur": "Administrateur", "operateur": "Opérateur"}[self.value]


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def staff_role(self) -> StaffRole:
        return StaffRole(self.role)
