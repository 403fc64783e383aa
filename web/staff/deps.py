"""Who may do what in the back office, and the services its pages use.

A staff session is the same signed cookie as a candidate's, naming "staff:<login>". Each request
reloads the account, so disabling it, changing its role or changing its password (which ends the
sessions opened with the old one) takes effect at once; what a role may do is one table
(`PERMISSIONS`), checked by the `Reader`, `Instructor`, `Administrator`, `Operator` and `Auditor`
dependencies that routes declare.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import select

from infra import logs
from infra.database import session_revoked
from infra.staff_accounts import StaffAccount, StaffRole
from web.deps import SessionDep, SettingsDep, TokensDep, session_token
from web.errors import LoginRequired
from web.login import refresh_later

STAFF = "staff:"
LOGIN_URL = "/staff/connexion"


class Permission(StrEnum):
    READ = "consulter"  # dossier lists and pages, campaigns
    INSTRUCT = "instruire"  # decisions, letters, results, bulk actions
    ADMINISTER = "administrer"  # create and edit campaigns, extend deadlines, access maps
    OPERATE = "exploiter"  # workflow histories, health
    AUDIT = "auditer"  # the record of staff reads of candidates' data (RGPD)


PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.INSTRUCTOR: frozenset({Permission.READ, Permission.INSTRUCT}),
    StaffRole.ADMINISTRATOR: frozenset(Permission),
    StaffRole.OPERATOR: frozenset({Permission.READ, Permission.OPERATE}),
}

_REFUSED = {
    Permission.READ: "Votre compte ne permet pas de consulter les dossiers.",
    Permission.INSTRUCT: "Votre rôle ne permet pas d'instruire les dossiers.",
    Permission.ADMINISTER: "Seul un administrateur peut créer ou modifier une session.",
    Permission.OPERATE: "Ces pages sont réservées aux opérateurs et aux administrateurs.",
    Permission.AUDIT: "Le journal des consultations est réservé aux administrateurs.",
}


@dataclass
class StaffUser:
    login: str
    full_name: str
    role: StaffRole

    def may(self, permission: Permission | str) -> bool:
        return Permission(permission) in PERMISSIONS[self.role]

    @property
    def signature(self) -> str:
        """How decisions name their author in the dossier's timeline."""
        return f"{self.full_name} ({self.login})"


async def session_account(
    request: Request, db: SessionDep, tokens: TokensDep, settings: SettingsDep
) -> StaffAccount | None:
    """The account the session cookie names, if the cookie is signed, a staff one, opened less
    than `session_hours` ago and used within `staff_idle_minutes`, not ended by its logout, the
    account active and its password the one the session was opened with; None otherwise. A
    session in use is sent back re-signed, so its idle time starts over."""
    token = session_token(request)
    claim = tokens.read(token, idle_seconds=settings.staff_idle_minutes * 60) if token else None
    if claim is None or not claim.subject.startswith(STAFF):
        return None
    account = await db.get(StaffAccount, claim.subject.removeprefix(STAFF))
    revoked = await db.scalar(select(session_revoked(claim.session_id)))
    # End the read transaction: the page may then wait for Temporal, and must not hold a pooled
    # connection meanwhile (the account's fields stay loaded).
    await db.commit()
    if revoked or account is None or not account.active or not tokens.still_valid(claim, account.password_hash):
        return None
    logs.note_staff(account.login)
    refresh_later(request, tokens, claim)
    return account


async def current_staff(
    request: Request, account: Annotated[StaffAccount | None, Depends(session_account)]
) -> StaffUser:
    if account is None:
        raise LoginRequired(LOGIN_URL)
    user = StaffUser(account.login, account.full_name, account.staff_role)
    request.state.staff = user  # the layout shows who is logged in and what they may reach
    return user


StaffDep = Annotated[StaffUser, Depends(current_staff)]


def requires(permission: Permission):
    def check(user: StaffDep) -> StaffUser:
        if not user.may(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, _REFUSED[permission])
        return user

    check.permission = permission  # type: ignore[attr-defined]  # read back by web.access
    return check


Reader = Annotated[StaffUser, Depends(requires(Permission.READ))]
Instructor = Annotated[StaffUser, Depends(requires(Permission.INSTRUCT))]
Administrator = Annotated[StaffUser, Depends(requires(Permission.ADMINISTER))]
Operator = Annotated[StaffUser, Depends(requires(Permission.OPERATE))]
Auditor = Annotated[StaffUser, Depends(requires(Permission.AUDIT))]
