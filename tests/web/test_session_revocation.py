"""A password reset ends every session opened with the old password, on pages and the JSON API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer

from devtools.mail_sink import MailSink
from infra.database import Account, Database
from infra.settings import Settings
from tests.web.conftest import NewCandidate
from tests.web.pages import client, submit, text_of
from tests.web.test_pages_auth import reset_link
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
