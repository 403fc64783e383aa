"""Staff accounts: created from the command line only, argon2id, a login of their own with the
candidates' protections (CSRF, rate limit, expiry), and roles that bound what each may do."""

from __future__ import annotations

import io
import re
import time
import uuid

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from infra.database import Database
from infra.settings import Settings
from infra.staff_accounts import StaffAccount, StaffRole
from ops import staff_cli as cli
from tests.backoffice import STAFF_PASSWORD, new_staff, staff_client
from tests.web.pages import client as http_client
from tests.web.pages import text_of, token_in
from web.deps import CANDIDATE, SESSION_COOKIE


async def cli_run(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, capsys, *argv: str, stdin: str = ""
) -> tuple[int, str]:
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = await cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def login(http: httpx.AsyncClient, login_: str, password: str) -> httpx.Response:
    page = await http.get("/staff/connexion")
    return await http.post(
        "/staff/connexion", data={"login": login_, "password": password, "csrf_token": token_in(page)}
    )


async def test_the_command_line_creates_accounts_with_argon2id_hashes(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, database: Database, capsys
) -> None:
    login_ = f"jdupont{uuid.uuid4().hex[:6]}"
    code, out = await cli_run(
        monkeypatch,
        settings,
        capsys,
        "create-account",
        login_,
        "--name",
        "Jeanne Dupont",
        "--role",
        "instructeur",
        "--password-stdin",
        stdin=f"{STAFF_PASSWORD}\n",
    )
    assert code == 0 and f"Compte « {login_} » créé (Instructeur)." in out
    async with database.sessions() as session:
        account = await session.get(StaffAccount, login_)
    assert account is not None and account.role == "instructeur" and account.active
    assert account.password_hash.startswith("$argon2id$") and STAFF_PASSWORD not in account.password_hash

    code, out = await cli_run(
        monkeypatch,
        settings,
        capsys,
        "create-account",
        login_,
        "--name",
        "X",
        "--role",
        "instructeur",
        "--password-stdin",
        stdin=f"{STAFF_PASSWORD}\n",
    )
    assert code == 1 and f"Le compte « {login_} » existe déjà." in out
    code, out = await cli_run(
        monkeypatch,
        settings,
        capsys,
        "create-account",
        f"x{login_}",
        "--name",
        "X",
        "--role",
        "administrateur",
        "--password-stdin",
        stdin="court1\n",
    )
    assert code == 1 and "au moins 12 caractères" in out
    for common in ("Motdepasse2024!", "JeanneDupont2027", "Azertyuiop123"):  # common, the person's name, keys
        code, out = await cli_run(
            monkeypatch,
            settings,
            capsys,
            "create-account",
            f"y{login_}",
            "--name",
            "Jeanne Dupont",
            "--role",
            "administrateur",
            "--password-stdin",
            stdin=f"{common}\n",
        )
        assert code == 1 and "trop facile à deviner" in out, (common, out)
    code, out = await cli_run(
        monkeypatch, settings, capsys, "set-password", login_, "--password-stdin", stdin="Password12345\n"
    )
    assert code == 1 and "trop facile à deviner" in out
    code, out = await cli_run(monkeypatch, settings, capsys, "set-role", login_, "administrateur")
    assert code == 0 and "administrateur" in out
    code, out = await cli_run(monkeypatch, settings, capsys, "list")
    assert re.search(rf"{login_}\s+Administrateur\s+actif\s+Jeanne Dupont", out)


async def test_login_opens_a_staff_session_and_logout_closes_it(app: FastAPI, database: Database) -> None:
    login_ = await new_staff(database, StaffRole.INSTRUCTOR)
    async with http_client(app) as http:
        assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"
        response = await login(http, login_, STAFF_PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/staff/dossiers"
        claim = app.state.tokens.read(http.cookies[SESSION_COOKIE])
        assert claim is not None and claim.subject == f"staff:{login_}"
        assert (await http.get("/staff/dossiers")).status_code == 200
        async with database.sessions() as session:
            account = await session.get(StaffAccount, login_)
            assert account is not None and account.last_login_at is not None
        page = await http.get("/staff/dossiers")
        out = await http.post("/staff/deconnexion", data={"csrf_token": token_in(page)})
        assert out.status_code == 303
        assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"


async def test_wrong_passwords_unknown_logins_and_disabled_accounts_get_the_same_answer(
    app: FastAPI, database: Database
) -> None:
    login_ = await new_staff(database, StaffRole.INSTRUCTOR)
    async with http_client(app) as http:
        wrong = await login(http, login_, "Pas-le-bon-mot-de-passe-1")
        unknown = await login(http, f"inconnu{uuid.uuid4().hex[:6]}", STAFF_PASSWORD)
        assert wrong.status_code == unknown.status_code == 401
        assert "Identifiant ou mot de passe incorrect." in text_of(
            wrong
        ) and "Identifiant ou mot de passe incorrect." in text_of(unknown)
    async with database.sessions() as session:
        account = await session.get(StaffAccount, login_)
        assert account is not None
        account.active = False
        await session.commit()
    async with http_client(app) as http:
        assert (await login(http, login_, STAFF_PASSWORD)).status_code == 401
    # A session opened before the account was disabled stops working at once.
    async with await staff_client(app, login_) as http:
        assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"


async def test_login_is_rate_limited_and_csrf_protected(app: FastAPI, database: Database) -> None:
    login_ = await new_staff(database, StaffRole.INSTRUCTOR)
    async with http_client(app) as http:
        await http.get("/staff/connexion")  # the CSRF cookie, but no token in the form
        no_token = await http.post("/staff/connexion", data={"login": login_, "password": STAFF_PASSWORD})
        assert no_token.status_code == 403
        for _ in range(5):
            assert (await login(http, login_, "Mauvais-mot-de-passe-9")).status_code == 401
        blocked = await login(http, login_, STAFF_PASSWORD)  # even the right password, for a while
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion" in text_of(blocked) and int(blocked.headers["retry-after"]) > 0


async def test_sessions_expire_and_candidates_are_not_staff(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    login_ = await new_staff(database, StaffRole.ADMINISTRATOR)
    tokens = app.state.tokens
    # A token signed longer ago than a session lasts: refused like no token at all.
    async with database.sessions() as session:
        account = await session.get(StaffAccount, login_)
        assert account is not None
        password_hash = account.password_hash
    fresh = [f"staff:{login_}", tokens.fingerprint(password_hash), uuid.uuid4().hex, int(time.time()) - 60]
    old = _token_signed_seconds_ago(settings.secret_key, fresh, tokens.max_age + 5)
    async with http_client(app) as http:
        http.cookies.set(SESSION_COOKIE, _token_signed_seconds_ago(settings.secret_key, fresh, 60))
        assert (await http.get("/staff/dossiers")).status_code == 200  # the same token, younger
        http.cookies.clear()  # the answer sent the session back re-signed (staff idle timeout)
        http.cookies.set(SESSION_COOKIE, old)
        assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"
        http.cookies.set(SESSION_COOKIE, tokens.issue(CANDIDATE + "RED2027-00001", password_hash))
        assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"


def _token_signed_seconds_ago(secret: str, payload: object, seconds: int) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return URLSafeTimedSerializer(secret, salt="session", signer=PastSigner).dumps(payload)


@pytest.mark.parametrize(
    ("role", "path", "allowed"),
    [
        (StaffRole.INSTRUCTOR, "/staff/sessions/nouvelle", False),
        (StaffRole.OPERATOR, "/staff/sessions/nouvelle", False),
        (StaffRole.ADMINISTRATOR, "/staff/sessions/nouvelle", True),
        (StaffRole.INSTRUCTOR, "/staff/sante", False),
        (StaffRole.OPERATOR, "/staff/sante", True),
        (StaffRole.OPERATOR, "/staff/dossiers", True),
        (StaffRole.INSTRUCTOR, "/staff/sessions", True),
    ],
)
async def test_each_role_reaches_what_it_may(staff, role: StaffRole, path: str, allowed: bool) -> None:
    http = await staff(role)
    response = await http.get(path)
    if allowed:
        assert response.status_code in (200, 503), text_of(response)[:300]  # 503: health says what is down
    else:
        assert response.status_code == 403


async def test_set_password_ends_the_sessions_open_elsewhere(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, app: FastAPI, database: Database, capsys
) -> None:
    login_ = await new_staff(database, StaffRole.INSTRUCTOR)
    async with http_client(app) as office, http_client(app) as home:
        for http in (office, home):
            assert (await login(http, login_, STAFF_PASSWORD)).status_code == 303
            assert (await http.get("/staff/dossiers")).status_code == 200

        new = "Autre-Mot-De-Passe-2028"
        code, out = await cli_run(
            monkeypatch, settings, capsys, "set-password", login_, "--password-stdin", stdin=f"{new}\n"
        )
        assert code == 0 and f"Mot de passe de « {login_} » modifié." in out

        for http in (office, home):
            assert (await http.get("/staff/dossiers")).headers["location"] == "/staff/connexion"
            assert (await http.get("/staff/connexion")).status_code == 200  # the form, not a loop
        assert (await login(home, login_, STAFF_PASSWORD)).status_code == 401
        assert (await login(home, login_, new)).status_code == 303
        assert (await home.get("/staff/dossiers")).status_code == 200
        assert (await office.get("/staff/dossiers")).headers["location"] == "/staff/connexion"
