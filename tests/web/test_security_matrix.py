"""The security matrix: every route × every kind of caller → the answer it must get.

Who may call a route is declared once, by the dependency the route takes (`web.access` reads it
back). `DECLARED` below is the reviewed copy of those declarations, one line per route: a route
added without a line here, a line left for a removed route, or a line that disagrees with the
route's dependencies fails the suite. Then every route is called for real, by an anonymous
visitor, the candidate who owns the data, another candidate, and a staff member of each role:

- public: answered to all (never a server error);
- candidate pages: the candidate's own dossier; anyone else is sent to the login page; another
  candidate asking for the first one's file (an ID in the URL) gets 404;
- candidate JSON API: the same, with 401 for anyone else;
- staff pages: the roles holding the permission; other roles get 403; candidates and anonymous
  visitors are sent to the staff login page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from temporalio.client import Client

from infra.database import Account, Database
from infra.staff_accounts import StaffAccount, StaffRole
from tests.backoffice import new_staff
from tests.web.conftest import NewCandidate
from tests.web.pages import PDF, Candidate, deposit, log_in_as, token_in
from tests.web.test_pages_documents import stored_rows, upload
from web.access import Access, route_accesses
from web.deps import SESSION_COOKIE
from web.staff.deps import STAFF
from workflows.dossier import DossierWorkflow, Validate

P = Access.PUBLIC
C = Access.CANDIDATE_PAGE
API = Access.CANDIDATE_API
READ, INSTRUCT, ADMINISTER, OPERATE, AUDIT = (
    Access.READ,
    Access.INSTRUCT,
    Access.ADMINISTER,
    Access.OPERATE,
    Access.AUDIT,
)

DECLARED: dict[tuple[str, str], Access] = {
    # Framework and static files
    ("GET", "/openapi.json"): P,
    ("GET", "/docs"): P,
    ("GET", "/docs/oauth2-redirect"): P,
    ("GET", "/redoc"): P,
    ("GET", "/static"): P,
    ("GET", "/healthz"): P,
    ("GET", "/accessibilite"): P,
    ("GET", "/metrics"): P,  # no personal data; the reverse proxy keeps it for Prometheus (README)
    # JSON API
    ("GET", "/api/campagnes"): P,
    ("POST", "/api/preinscriptions"): P,
    ("POST", "/api/session"): P,
    ("DELETE", "/api/session"): P,
    ("GET", "/api/dossier"): API,
    ("POST", "/api/dossier/validation"): API,
    ("POST", "/api/dossier/desistement"): API,
    ("POST", "/api/dossier/adresse"): API,
    ("POST", "/api/dossier/pieces"): API,
    # Public pages of the candidate space
    ("GET", "/"): P,
    ("GET", "/preinscription/{campaign_id}"): P,
    ("POST", "/preinscription/{campaign_id}"): P,
    ("GET", "/connexion"): P,
    ("POST", "/connexion"): P,
    ("POST", "/deconnexion"): P,
    ("GET", "/mot-de-passe-oublie"): P,
    ("POST", "/mot-de-passe-oublie"): P,
    ("GET", "/mot-de-passe/nouveau"): P,
    ("POST", "/mot-de-passe/nouveau"): P,
    # The new e-mail address's link: opened from the mailbox, maybe in another browser; the
    # signed token names the dossier.
    ("GET", "/adresse-electronique/confirmer"): P,
    ("POST", "/adresse-electronique/confirmer"): P,
    # The candidate's space
    ("GET", "/preinscription/confirmation"): C,
    ("GET", "/espace"): C,
    ("POST", "/espace/remplacement"): C,
    ("GET", "/espace/calendrier.ics"): C,
    ("GET", "/espace/formulaire-inscription.pdf"): C,
    ("GET", "/espace/validation"): C,
    ("POST", "/espace/validation"): C,
    ("GET", "/espace/mes-donnees"): C,
    ("GET", "/espace/mes-donnees/export.json"): C,
    ("GET", "/espace/mes-donnees/export.pdf"): C,
    ("GET", "/espace/adresse"): C,
    ("POST", "/espace/adresse"): C,
    ("GET", "/espace/adresse-electronique"): C,
    ("POST", "/espace/adresse-electronique"): C,
    ("GET", "/espace/desistement"): C,
    ("GET", "/espace/desistement/confirmation"): C,
    ("POST", "/espace/desistement"): C,
    ("GET", "/espace/pieces"): C,
    ("POST", "/espace/pieces"): C,
    ("GET", "/espace/pieces/{ref}"): C,
    ("GET", "/espace/documents"): C,
    ("GET", "/espace/documents/{ref}"): C,
    ("GET", "/espace/amenagements"): C,
    ("POST", "/espace/amenagements"): C,
    # Staff back office
    ("GET", "/staff"): P,
    ("GET", "/staff/staff.css"): P,
    ("GET", "/staff/connexion"): P,
    ("POST", "/staff/connexion"): P,
    ("POST", "/staff/deconnexion"): P,
    ("GET", "/staff/dossiers"): READ,
    ("GET", "/staff/dossiers.{extension}"): READ,
    ("GET", "/staff/instruction"): INSTRUCT,
    ("POST", "/staff/instruction/suivant"): INSTRUCT,
    ("GET", "/staff/instruction/{number}"): INSTRUCT,
    ("POST", "/staff/instruction/{number}/decision"): INSTRUCT,
    ("POST", "/staff/instruction/{number}/liberer"): INSTRUCT,
    ("GET", "/staff/instruction-statistiques"): ADMINISTER,
    ("GET", "/staff/instruction-statistiques.{extension}"): ADMINISTER,
    ("GET", "/staff/dossiers/{number}"): READ,
    ("GET", "/staff/dossiers/{number}/fichiers/{ref}"): READ,
    ("POST", "/staff/dossiers/{number}/decision"): INSTRUCT,
    ("POST", "/staff/dossiers/{number}/resultat"): INSTRUCT,
    ("POST", "/staff/dossiers/{number}/courriers"): INSTRUCT,
    ("POST", "/staff/dossiers/{number}/amenagements"): INSTRUCT,
    ("GET", "/staff/dossiers/{number}/historique"): OPERATE,
    ("GET", "/staff/dossiers/{number}/historique.json"): OPERATE,
    ("GET", "/staff/sessions"): READ,
    ("GET", "/staff/sessions.{extension}"): READ,
    ("GET", "/staff/sessions/{campaign_id}/apercu"): READ,
    ("GET", "/staff/sessions/{campaign_id}/apercu.svg"): READ,
    ("GET", "/staff/sessions/nouvelle"): ADMINISTER,
    ("POST", "/staff/sessions/nouvelle"): ADMINISTER,
    ("GET", "/staff/sessions/{campaign_id}"): READ,
    ("GET", "/staff/sessions/{campaign_id}/modifier"): ADMINISTER,
    ("POST", "/staff/sessions/{campaign_id}/modifier"): ADMINISTER,
    ("POST", "/staff/sessions/{campaign_id}/prolongation"): ADMINISTER,
    ("POST", "/staff/sessions/{campaign_id}/epreuves/transmettre"): ADMINISTER,
    ("GET", "/staff/sessions/{campaign_id}/plans/{exam_code}"): READ,
    ("POST", "/staff/sessions/{campaign_id}/plans/{exam_code}"): ADMINISTER,
    ("POST", "/staff/sessions/{campaign_id}/lots"): INSTRUCT,
    ("GET", "/staff/lots/{workflow_id}"): READ,
    ("GET", "/staff/lots/{workflow_id}/fichiers/{ref}"): READ,
    ("GET", "/staff/sante"): OPERATE,
    ("GET", "/staff/sante.json"): OPERATE,
    ("GET", "/staff/direct"): OPERATE,
    ("GET", "/staff/consultations"): AUDIT,
}

# Requests that end the caller's session get a session of their own; the one that withdraws
# the dossier goes last, so the other routes see a dossier still open.
ENDS_SESSION = {("DELETE", "/api/session"), ("POST", "/deconnexion"), ("POST", "/staff/deconnexion")}
LAST = {("POST", "/api/dossier/desistement")}

CANDIDATE_LOGIN = "/connexion"
STAFF_LOGIN = "/staff/connexion"
REDIRECTS = (302, 303, 307)
# A documentation address (RFC 5737): these requests count against no other test's login limits.
CLIENT_ADDRESS = ("192.0.2.77", 40000)


def test_every_route_has_a_line_in_the_table(app: FastAPI) -> None:
    routes = route_accesses(app)
    missing = sorted(set(routes) - set(DECLARED))
    stale = sorted(set(DECLARED) - set(routes))
    assert not missing, f"routes without a line in DECLARED (say who may call them): {missing}"
    assert not stale, f"lines of DECLARED for routes that no longer exist: {stale}"


def test_the_table_says_what_each_route_declares(app: FastAPI) -> None:
    routes = route_accesses(app)
    wrong = {key: (DECLARED[key].value, access.value) for key, access in routes.items() if DECLARED.get(key) != access}
    assert not wrong, f"(declared in the table, declared by the route's dependencies): {wrong}"


@dataclass
class Caller:
    name: str
    fresh: Callable[[], Awaitable[httpx.AsyncClient]]  # a new client, logged in as this caller
    role: StaffRole | None = None
    owner: bool = False  # the candidate whose IDs fill the URLs
    candidate: bool = False


@dataclass
class Expect:
    kind: str  # "answered", "allowed", "redirect", "status"
    code: int = 0
    to: str = ""

    def check(self, response: httpx.Response) -> str | None:
        """None when the answer is right; otherwise what is wrong."""
        status, location = response.status_code, response.headers.get("location", "")
        if status >= 500:
            return f"server error {status}"
        if self.kind == "allowed":
            if status in (401, 403) or (
                status in REDIRECTS and location.split("?")[0] in (CANDIDATE_LOGIN, STAFF_LOGIN)
            ):
                return f"refused ({status} {location})"
        elif self.kind == "redirect":
            if status not in REDIRECTS or location.split("?")[0] != self.to:
                return f"expected a redirect to {self.to}, got {status} {location}"
        elif self.kind == "status" and status != self.code:
            return f"expected {self.code}, got {status}"
        return None


def expected(access: Access, caller: Caller, path: str) -> Expect:
    if access is Access.PUBLIC:
        return Expect("answered")
    if access in (Access.CANDIDATE_PAGE, Access.CANDIDATE_API):
        if caller.candidate:
            # Another candidate naming the owner's file in the URL finds nothing.
            return Expect("allowed") if caller.owner or "{" not in path else Expect("status", 404)
        return Expect("status", 401) if access is Access.CANDIDATE_API else Expect("redirect", to=CANDIDATE_LOGIN)
    if caller.role is None:
        return Expect("redirect", to=STAFF_LOGIN)
    return Expect("allowed") if access.allows(caller.role) else Expect("status", 403)


async def call(http: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    if method == "GET":
        return await http.get(path)
    # A CSRF token of this client's own session, from a public form page.
    token = token_in(await http.get("/mot-de-passe-oublie"))
    headers = {"x-csrf-token": token}
    if path.startswith("/api/"):
        return await http.request(method, path, json={}, headers=headers)
    return await http.request(method, path, data={"csrf_token": token}, headers=headers)


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


async def test_every_route_answers_each_caller_as_declared(
    app: FastAPI, database: Database, client: Client, new_candidate: NewCandidate
) -> None:
    owner = await new_candidate()
    other = await new_candidate(last_name="Kerbrat", first_name="Yann")
    assert (await upload(owner, "diplome", PDF, "diplome.pdf")).status_code == 303
    [upload_row] = await stored_rows(database, owner.number)
    # Validated, so that the centre can deposit a document in the space.
    await client.get_workflow_handle(owner.number).execute_update(DossierWorkflow.validate, Validate(True))
    document = await deposit(client, app.state.files, database, owner.number, "Courrier de test")
    async with database.sessions() as session:
        account = await session.get(Account, owner.number)
        assert account is not None
        campaign_id = account.campaign_id
    values = {
        "number": owner.number,
        "campaign_id": campaign_id,
        "exam_code": "ecrit",
        "workflow_id": "batch-inconnu",
        "extension": "xlsx",
    }
    refs = {
        "/espace/pieces/{ref}": upload_row.ref,
        "/espace/documents/{ref}": document,
        "/staff/dossiers/{number}/fichiers/{ref}": upload_row.ref,
        "/staff/lots/{workflow_id}/fichiers/{ref}": "fichier-inconnu",  # of the unknown batch
    }
    clients: list[httpx.AsyncClient] = []

    def new_client() -> httpx.AsyncClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=CLIENT_ADDRESS), base_url="http://testserver"
        )
        clients.append(http)
        return http

    def as_candidate(candidate: Candidate) -> Callable[[], Awaitable[httpx.AsyncClient]]:
        async def make() -> httpx.AsyncClient:
            http = new_client()
            await log_in_as(app, http, candidate.number)
            return http

        return make

    def as_staff(login: str) -> Callable[[], Awaitable[httpx.AsyncClient]]:
        async def make() -> httpx.AsyncClient:
            # The session the staff login page opens (as tests.backoffice.staff_client does).
            async with database.sessions() as session:
                staff = await session.get(StaffAccount, login)
            assert staff is not None
            http = new_client()
            http.cookies.set(SESSION_COOKIE, app.state.tokens.issue(STAFF + login, staff.password_hash))
            return http

        return make

    async def anonymous() -> httpx.AsyncClient:
        return new_client()

    callers = [
        Caller("anonyme", anonymous),
        Caller("candidat (titulaire)", as_candidate(owner), owner=True, candidate=True),
        Caller("autre candidat", as_candidate(other), candidate=True),
        *[Caller(role.value, as_staff(await new_staff(database, role)), role=role) for role in StaffRole],
    ]
    sessions = {c.name: await c.fresh() for c in callers}
    order = sorted(DECLARED, key=lambda key: (key in LAST, key))
    failures = []
    try:
        for method, template in order:
            access = DECLARED[(method, template)]
            path = fill(template.replace("{ref}", refs.get(template, "{ref}")), values)
            if template == "/static":
                path = "/static/style.css"
            for caller in callers:
                http = await caller.fresh() if (method, template) in ENDS_SESSION else sessions[caller.name]
                response = await call(http, method, path)
                problem = expected(access, caller, template).check(response)
                if problem:
                    failures.append(f"{method} {template} as {caller.name} ({access.value}): {problem}")
    finally:
        for http in clients:
            await http.aclose()
    assert not failures, "\n".join(failures)
