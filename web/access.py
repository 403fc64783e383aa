"""Who may call each route, read from the dependencies the route declares.

A route says who may call it once, by the dependency it takes (`web.deps`, `web.candidate.deps`,
`web.staff.deps`); this module reads that declaration back, so the security matrix
(`tests/web/test_security_matrix.py`), the README's table and any review see the same thing:

- `CandidatePage`, `MySummary`, `MyDossier` (pages of the space): the logged-in candidate, for
  their own dossier only (the number comes from the session, never from the URL);
- `CurrentCandidate` (JSON API): the same, answering 401 rather than redirecting;
- `Reader`, `Instructor`, `Administrator`, `Operator`, `Auditor`: a staff member whose role
  holds that permission (`web.staff.deps.PERMISSIONS`);
- none of these: public.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from infra.staff_accounts import StaffRole
from web.candidate.deps import candidate_page
from web.deps import current_candidate
from web.staff.deps import PERMISSIONS, Permission, current_staff


class Access(StrEnum):
    PUBLIC = "public"
    CANDIDATE_PAGE = "candidat"  # anyone else is sent to /connexion
    CANDIDATE_API = "candidat (API)"  # anyone else gets 401
    STAFF = "agent"  # any staff role; anyone else is sent to /staff/connexion
    READ = "agent : consulter"  # staff without the permission get 403
    INSTRUCT = "agent : instruire"
    ADMINISTER = "agent : administrer"
    OPERATE = "agent : exploiter"
    AUDIT = "agent : auditer"

    @property
    def permission(self) -> Permission | None:
        return _PERMISSION_OF.get(self)

    @property
    def for_staff(self) -> bool:
        return self is Access.STAFF or self.permission is not None

    def allows(self, role: StaffRole) -> bool:
        """Whether a staff member of this role may call a route of this access."""
        permission = self.permission
        return self is Access.STAFF or (permission is not None and permission in PERMISSIONS[role])

    def roles(self) -> list[StaffRole]:
        return [role for role in StaffRole if self.for_staff and self.allows(role)]


_PERMISSION_OF = {
    Access.READ: Permission.READ,
    Access.INSTRUCT: Permission.INSTRUCT,
    Access.ADMINISTER: Permission.ADMINISTER,
    Access.OPERATE: Permission.OPERATE,
    Access.AUDIT: Permission.AUDIT,
}
_ACCESS_OF = {permission: access for access, permission in _PERMISSION_OF.items()}


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def access_of(dependant: Any) -> Access:
    """The access a route's dependency tree declares (the strictest one it holds)."""
    calls = list(_calls(dependant))
    for call in calls:
        permission = getattr(call, "permission", None)  # set by web.staff.deps.requires
        if permission is not None:
            return _ACCESS_OF[permission]
    if current_staff in calls:
        return Access.STAFF
    if current_candidate in calls:
        return Access.CANDIDATE_API
    if candidate_page in calls:
        return Access.CANDIDATE_PAGE
    return Access.PUBLIC


def route_accesses(app: FastAPI) -> dict[tuple[str, str], Access]:
    """Every (method, path) the app answers, with who may call it. HEAD goes with GET; a mounted
    folder (static files) is one GET entry."""
    table: dict[tuple[str, str], Access] = {}
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        path = route.path or ""
        if isinstance(original, Mount):
            table[("GET", path)] = Access.PUBLIC
            continue
        dependant = getattr(route, "dependant", None)
        access = access_of(dependant) if dependant is not None else Access.PUBLIC
        for method in sorted((route.methods or set()) - {"HEAD"}):
            table[(method, path)] = access
    return table
