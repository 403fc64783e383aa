"""Sessions end: a password reset ends every session opened with the old password, a logout
ends its session for every copy of the token, a staff session ends after 30 idle minutes."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from devtools.mail_sink import MailSink
from infra.database import Account, Database, RevokedSession, revoke_session
from infra.settings import Settings
from infra.staff_accounts import StaffAccount, StaffRole
from tests.backoffice import new_staff, staff_client
from tests.web.conftest import NewCandidate
from tests.web.pages import client, submit, text_of, token_in
from tests.web.test_pages_auth import reset_link
from web.app import create_app
from web.deps import SESSION_COOKIE

LOG_IN_AGAIN = "Veuillez vous connecter à votre espace sécurisé."


async def test_a_password_reset_ends_the_sessions_open_elsewhere(
    app: FastAPI, new_candidate: NewCandidate, mail_sink: MailSink, database: Database, settings: Settings
) -> None:
    candidate = await new_candidate()
    async with client(app) as laptop, client(app) as phone:
        # Two real logins: the page form on one device, the JSON API on the other.
        page_login = await submit(
            laptop, "/connexion", {"dossier_number": candidate.number, "password": candidate.password}
        )
        assert page_login.status_code == 303
        api_login = await phone.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert api_login.status_code == 200
        for http in (laptop, phone):
            assert f"Mon dossier n° {candidate.number}" in text_of(await http.get("/espace"))
            assert (await http.get("/api/dossier")).json()["dossier_number"] == candidate.number

        # The token names the password by a short fingerprint, never by its hash.
        async with database.sessions() as session:
            account = await session.get(Account, candidate.number)
            assert account is not None
            old_hash = account.password_hash
        token = phone.cookies[SESSION_COOKIE]
        payload = URLSafeTimedSerializer(settings.secret_key, salt="session").loads(token)
        assert payload[0] == f"candidate:{candidate.number}" and len(payload[1]) == 16
        assert old_hash not in json.dumps(payload) and old_hash.split("$")[-1] not in json.dumps(payload)

        # The reset, through the emailed link, on the laptop.
        link = await reset_link(laptop, mail_sink, candidate.number)
        new = "Nouveau-Secret-2027"
        token_in_link = parse_qs(urlparse(link).query)["jeton"][0]
        done = await submit(
            laptop,
            "/mot-de-passe/nouveau",
            {"jeton": token_in_link, "password": new, "password_confirmation": new},
            page=link,
        )
        assert done.status_code == 303 and done.headers["location"] == "/connexion?ok=mot-de-passe"

        # Both old sessions are refused: pages send to the login page, the API answers 401.
        for http in (phone, laptop):
            dashboard = await http.get("/espace")
            assert dashboard.status_code == 303 and dashboard.headers["location"] == "/connexion"
            api = await http.get("/api/dossier")
            assert api.status_code == 401 and api.json()["detail"] == LOG_IN_AGAIN
            # The login page shows its form (no redirect back to /espace with the stale cookie).
            assert (await http.get("/connexion")).status_code == 200

        # The old password is refused, the new one opens a session again on either device.
        old = await phone.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert old.status_code == 401
        again = await phone.post("/api/session", json={"dossier_number": candidate.number, "password": new})
        assert again.status_code == 200
        assert (await phone.get("/api/dossier")).json()["dossier_number"] == candidate.number
        relogin = await submit(laptop, "/connexion", {"dossier_number": candidate.number, "password": new})
        assert relogin.status_code == 303
        assert f"Mon dossier n° {candidate.number}" in text_of(await laptop.get("/espace"))


async def test_tokens_of_the_former_format_are_refused(
    app: FastAPI, new_candidate: NewCandidate, settings: Settings
) -> None:
    """A token naming only the subject (before sessions were bound to passwords) no longer opens
    anything, although its signature is good."""
    candidate = await new_candidate()
    bare = URLSafeTimedSerializer(settings.secret_key, salt="session").dumps(f"candidate:{candidate.number}")
    async with client(app) as http:
        http.cookies.set(SESSION_COOKIE, bare)
        assert (await http.get("/espace")).headers["location"] == "/connexion"
        assert (await http.get("/api/dossier")).status_code == 401
    assert (await candidate.http.get("/espace")).status_code == 200  # a current session still works


def _copy_of(http: httpx.AsyncClient) -> str:
    """The session token as an attacker who read it (a shared computer, a proxy log) holds it."""
    return http.cookies[SESSION_COOKIE]


async def _replayed(app: FastAPI, token: str, path: str) -> httpx.Response:
    async with client(app) as thief:
        thief.cookies.set(SESSION_COOKIE, token)
        return await thief.get(path)


async def test_logout_from_the_page_ends_the_session_for_every_copy_and_every_web_process(
    app: FastAPI, new_candidate: NewCandidate, settings: Settings, database: Database
) -> None:
    candidate = await new_candidate()
    async with client(app) as laptop:
        assert (
            await submit(laptop, "/connexion", {"dossier_number": candidate.number, "password": candidate.password})
        ).status_code == 303
        copied = _copy_of(laptop)
        assert (await _replayed(app, copied, "/espace")).status_code == 200  # the copy works before logout

        out = await submit(laptop, "/deconnexion", page="/espace")
        assert out.status_code == 303 and out.headers["location"] == "/connexion?ok=deconnexion"

        # The signed token has not expired, yet it opens nothing any more: not the pages, not the
        # API, not on a second web process sharing the database (revocation is not in memory).
        refused = await _replayed(app, copied, "/espace")
        assert refused.status_code == 303 and refused.headers["location"] == "/connexion"
        api = await _replayed(app, copied, "/api/dossier")
        assert api.status_code == 401 and api.json()["detail"] == LOG_IN_AGAIN
        other_process = create_app(settings)
        async with other_process.router.lifespan_context(other_process):
            assert (await _replayed(other_process, copied, "/api/dossier")).status_code == 401
    async with database.sessions() as session:
        session_id = app.state.tokens.read(copied).session_id
        assert await session.get(RevokedSession, session_id) is not None
    # Other sessions of the same account live on.
    assert (await candidate.http.get("/espace")).status_code == 200


async def test_logout_through_the_api_ends_the_session(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as phone:
        login = await phone.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert login.status_code == 200
        copied = _copy_of(phone)
        assert (await phone.delete("/api/session")).status_code == 204
        assert (await phone.delete("/api/session")).status_code == 204  # twice is harmless
        assert (await _replayed(app, copied, "/api/dossier")).status_code == 401
        # Logging in again opens a new session, which works.
        again = await phone.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert again.status_code == 200
        assert (await phone.get("/api/dossier")).json()["dossier_number"] == candidate.number


async def test_staff_logout_ends_the_session(app: FastAPI, database: Database) -> None:
    login = await new_staff(database, StaffRole.INSTRUCTOR)
    async with await staff_client(app, login) as http:
        copied = _copy_of(http)
        page = await http.get("/staff/dossiers")
        assert page.status_code == 200
        out = await http.post("/staff/deconnexion", data={"csrf_token": token_in(page)})
        assert out.status_code == 303
        assert (await _replayed(app, copied, "/staff/dossiers")).headers["location"] == "/staff/connexion"


def _staff_token(secret: str, payload: list, signed_seconds_ago: int) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - signed_seconds_ago

    return URLSafeTimedSerializer(secret, salt="session", signer=PastSigner).dumps(payload)


async def test_staff_sessions_end_after_30_idle_minutes_and_live_on_while_used(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    assert settings.staff_idle_minutes == 30  # OWASP: 15 to 30 minutes
    login = await new_staff(database, StaffRole.INSTRUCTOR)
    async with database.sessions() as session:
        account = await session.get(StaffAccount, login)
        assert account is not None
    tokens = app.state.tokens
    opened = int(time.time()) - 2 * 3600  # logged in two hours ago
    payload = [f"staff:{login}", tokens.fingerprint(account.password_hash), uuid.uuid4().hex, opened]

    # Last used 31 minutes ago: the session has ended, although its 8 hours have not.
    idle = await _replayed(app, _staff_token(settings.secret_key, payload, 31 * 60), "/staff/dossiers")
    assert idle.status_code == 303 and idle.headers["location"] == "/staff/connexion"

    # Last used 29 minutes ago: it works, and the answer sends it back re-signed, so the idle
    # time starts over (the same session, the same opening instant).
    used = await _replayed(app, _staff_token(settings.secret_key, payload, 29 * 60), "/staff/dossiers")
    assert used.status_code == 200
    refreshed = next(c for c in used.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in refreshed and "Max-Age=" in refreshed
    claim = tokens.read(refreshed.split(";")[0].split("=", 1)[1], idle_seconds=60)
    assert claim is not None and claim.session_id == payload[2] and claim.issued_at == opened
    max_age = int(refreshed.split("Max-Age=")[1].split(";")[0])
    assert 6 * 3600 - 60 <= max_age <= 6 * 3600  # what is left of the 8 hours, not 8 more

    # Used a minute ago but opened more than 8 hours ago: re-signing never extends a session.
    payload[3] = int(time.time()) - tokens.max_age - 5
    stale = await _replayed(app, _staff_token(settings.secret_key, payload, 60), "/staff/dossiers")
    assert stale.headers["location"] == "/staff/connexion"


async def test_candidate_sessions_have_no_idle_limit(
    app: FastAPI, new_candidate: NewCandidate, settings: Settings
) -> None:
    """A candidate filling a long form is not logged out under them; only the 8 hours count."""
    candidate = await new_candidate()
    claim = app.state.tokens.read(_copy_of(candidate.http))
    payload = [claim.subject, claim.password_fingerprint, uuid.uuid4().hex, int(time.time()) - 3 * 3600]
    assert (await _replayed(app, _staff_token(settings.secret_key, payload, 2 * 3600), "/espace")).status_code == 200


async def test_revocations_are_forgotten_once_their_tokens_would_have_expired(database: Database) -> None:
    """The table holds only what can still matter: a logout deletes rows past their expiry."""
    past, future = uuid.uuid4().hex, uuid.uuid4().hex
    async with database.sessions() as session:
        session.add(RevokedSession(session_id=past, expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        session.add(RevokedSession(session_id=future, expires_at=datetime.now(UTC) + timedelta(hours=1)))
        await session.commit()
    async with database.sessions() as session:
        await revoke_session(session, uuid.uuid4().hex, datetime.now(UTC) + timedelta(hours=8))
    async with database.sessions() as session:
        assert await session.get(RevokedSession, past) is None
        assert await session.get(RevokedSession, future) is not None
