"""Login with the dossier number, logout, rate limiting, password reset by emailed link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import Response

from devtools.mail_sink import MailSink
from infra.database import Account, Database, PasswordReset
from infra.settings import Settings
from tests.conftest import mail_with_subject
from tests.web.conftest import NewCandidate
from tests.web.pages import client, submit, text_of
from web.csrf import CsrfProtection
from web.deps import SESSION_COOKIE
from web.login import close_session, open_candidate_session
from web.password_reset import token_hash
from web.security import SessionTokens

WRONG = "Identifiant ou mot de passe incorrect."


async def test_login_with_dossier_number_opens_the_space_and_logout_closes_it(
    app: FastAPI, new_candidate: NewCandidate
) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        assert (await http.get("/espace")).headers["location"] == "/connexion"

        # The number is accepted whatever its case and spacing.
        response = await submit(
            http, "/connexion", {"dossier_number": f"  {candidate.number.lower()} ", "password": candidate.password}
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/espace"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # test env
        dashboard = await http.get("/espace")
        assert f"Mon dossier n° {candidate.number}" in text_of(dashboard)

        out = await submit(http, "/deconnexion", page="/espace")
        assert out.status_code == 303
        assert "Vous êtes déconnecté(e)" in text_of(await http.get(out.headers["location"]))
        assert (await http.get("/espace")).status_code == 303


async def test_wrong_password_and_unknown_number_get_the_same_answer(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        wrong = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": "Pas-le-bon-1"})
        unknown = await submit(http, "/connexion", {"dossier_number": "XX-99999", "password": "Pas-le-bon-1"})

        for response in (wrong, unknown):
            assert response.status_code == 401
            assert WRONG in text_of(response)
            assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert f'value="{candidate.number}"' in wrong.text  # the number stays typed
        assert (await http.get("/espace")).status_code == 303


async def test_login_is_rate_limited_per_address_and_dossier(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        for _ in range(5):
            response = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": "Mauvais-123"})
            assert response.status_code == 401
        # Even the right password waits now: the attacker cannot tell when they found it.
        blocked = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": candidate.password})

        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion" in text_of(blocked)
        assert int(blocked.headers["retry-after"]) > 0
        # The JSON API shares the same counter.
        api = await http.post("/api/session", json={"dossier_number": candidate.number, "password": candidate.password})
        assert api.status_code == 429


async def test_login_form_without_csrf_token_is_refused(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        await http.get("/connexion")
        response = await http.post(
            "/connexion", data={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert response.status_code == 403
        forged = await http.post(
            "/connexion",
            data={"dossier_number": candidate.number, "password": candidate.password, "csrf_token": "forged"},
        )
        assert forged.status_code == 403


async def reset_link(http: httpx.AsyncClient, mail_sink: MailSink, number: str) -> str:
    requested = await submit(http, "/mot-de-passe-oublie", {"dossier_number": number})
    assert requested.status_code == 200
    assert "un lien de réinitialisation vient d'y être envoyé" in text_of(requested)
    mail = await mail_with_subject(mail_sink, number, "Réinitialisation de votre mot de passe")
    match = re.search(r"http://testserver(/mot-de-passe/nouveau\?jeton=[\w-]+)", mail.body)
    assert match, mail.body
    return match.group(1)


async def test_password_reset_by_emailed_link_works_once(
    app: FastAPI, new_candidate: NewCandidate, mail_sink: MailSink, database: Database
) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        link = await reset_link(http, mail_sink, candidate.number)
        token = parse_qs(urlparse(link).query)["jeton"][0]
        async with database.sessions() as session:
            stored = (
                await session.scalars(select(PasswordReset).where(PasswordReset.dossier_number == candidate.number))
            ).all()
        assert [r.token_hash for r in stored] == [token_hash(token)]  # only its hash is kept

        weak = await submit(
            http,
            "/mot-de-passe/nouveau",
            {"jeton": token, "password": "court", "password_confirmation": "court"},
            page=link,
        )
        assert weak.status_code == 422
        assert "au moins 10 caractères" in text_of(weak)
        common = await submit(
            http,
            "/mot-de-passe/nouveau",
            {"jeton": token, "password": "Soleil12345", "password_confirmation": "Soleil12345"},
            page=link,
        )
        assert common.status_code == 422
        assert "Ce mot de passe est trop facile à deviner" in text_of(common)

        new = "Nouveau-Secret-2027"
        done = await submit(
            http, "/mot-de-passe/nouveau", {"jeton": token, "password": new, "password_confirmation": new}, page=link
        )
        assert done.status_code == 303
        assert "Votre mot de passe est modifié" in text_of(await http.get(done.headers["location"]))

        old = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": candidate.password})
        assert old.status_code == 401
        ok = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": new})
        assert ok.status_code == 303
        await submit(http, "/deconnexion", page="/espace")

        # Used: the link is dead, on display and on submission.
        again = await http.get(link)
        assert again.status_code == 410
        assert "il a déjà servi ou il a expiré" in text_of(again)
        replay = await submit(
            http,
            "/mot-de-passe/nouveau",
            {"jeton": token, "password": "Encore-Autre-33", "password_confirmation": "Encore-Autre-33"},
            page="/mot-de-passe-oublie",
        )
        assert replay.status_code == 410
        still = await submit(http, "/connexion", {"dossier_number": candidate.number, "password": "Encore-Autre-33"})
        assert still.status_code == 401


async def test_expired_reset_link_is_refused(
    app: FastAPI, new_candidate: NewCandidate, mail_sink: MailSink, database: Database
) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        link = await reset_link(http, mail_sink, candidate.number)
        token = parse_qs(urlparse(link).query)["jeton"][0]
        async with database.sessions() as session:  # an hour and a second later
            await session.execute(
                update(PasswordReset)
                .where(PasswordReset.token_hash == token_hash(token))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()

        shown = await http.get(link)
        assert shown.status_code == 410
        assert "il a déjà servi ou il a expiré" in text_of(shown)
        used = await submit(
            http,
            "/mot-de-passe/nouveau",
            {"jeton": token, "password": "Tardif-Secret-44", "password_confirmation": "Tardif-Secret-44"},
            page="/connexion",
        )
        assert used.status_code == 410
        assert (
            await submit(http, "/connexion", {"dossier_number": candidate.number, "password": "Tardif-Secret-44"})
        ).status_code == 401


async def test_reset_request_for_unknown_dossier_looks_the_same_and_sends_nothing(
    http: httpx.AsyncClient, mail_sink: MailSink
) -> None:
    sent_before = len(mail_sink.messages)
    response = await submit(http, "/mot-de-passe-oublie", {"dossier_number": "ZZ-00000"})

    assert response.status_code == 200
    assert "un lien de réinitialisation vient d'y être envoyé" in text_of(response)
    assert not mail_sink.for_dossier("ZZ-00000")
    assert (
        len(
            [m for m in mail_sink.messages[sent_before:] if "Réinitialisation" in m.subject and "ZZ-00000" in m.subject]
        )
        == 0
    )


async def test_reset_requests_are_rate_limited(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        for _ in range(3):
            assert (await submit(http, "/mot-de-passe-oublie", {"dossier_number": candidate.number})).status_code == 200
        blocked = await submit(http, "/mot-de-passe-oublie", {"dossier_number": candidate.number})
        assert blocked.status_code == 429
        assert "Trop de tentatives de réinitialisation du mot de passe" in text_of(blocked)


async def test_cookies_are_secure_and_host_only_in_production(database: Database) -> None:
    production = Settings(environment="production", secret_key="s" * 48)
    assert production.secure_cookies
    tokens = SessionTokens(production.secret_key, 3600)
    app = SimpleNamespace(
        state=SimpleNamespace(
            csrf=CsrfProtection(production.secret_key, production.secure_cookies),
            session_cookie=production.cookie_name(SESSION_COOKIE),
        )
    )
    request = Request({"type": "http", "method": "POST", "headers": [], "app": app})

    response = Response()
    account = Account(dossier_number="X-00001", password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2VsAAAA$aGFzaAAA")
    open_candidate_session(request, response, tokens, production, account)

    session_cookie = response.headers["set-cookie"]
    # `__Host-`: Secure, Path=/ and no Domain, so no subdomain can set or overwrite it.
    assert session_cookie.startswith(f"__Host-{SESSION_COOKIE}=")
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie and "Secure" in session_cookie
    assert "Path=/" in session_cookie and "Domain" not in session_cookie
    assert "Max-Age=3600" in session_cookie  # the browser drops it when the signed token expires
    new_nonce = request.scope["state"]["csrf_new_nonce"]  # rotated at login
    csrf_cookie = app.state.csrf.cookie_header(new_nonce).decode()
    assert csrf_cookie.startswith("__Host-inscriptions_csrf=") and "Secure" in csrf_cookie and "Path=/" in csrf_cookie
    out = Response()
    async with database.sessions() as db:
        await close_session(request, out, production, tokens, db)
    assert out.headers["set-cookie"].startswith(f"__Host-{SESSION_COOKIE}=")
    assert "Secure" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
