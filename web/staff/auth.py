"""Staff login and logout: their own page, the candidates' protections.

argon2id checks run in a thread, in turn, with no database transaction open (as the
candidates' login: `web.login.check_login`), and a hash made with older parameters is replaced
at a successful login; failures are rate limited per address and login (`web.ratelimit`); an
unknown login costs the same time as a wrong password; the session cookie names
"staff:<login>", expires like a candidate's and ends when the password changes
(`python -m ops.staff_cli set-password`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra.clock import now
from infra.staff_accounts import StaffAccount
from web.deps import SessionDep, SettingsDep, TokensDep
from web.login import close_session, open_session, verified_account
from web.ratelimit import KeyedLimits, Limit
from web.security import hash_password
from web.staff.deps import LOGIN_URL, STAFF, session_account
from web.templating import render

router = APIRouter()

# Five failures per login and address, then a 15-minute pause; 30 per address for any login.
STAFF_LOGIN_LIMITS = KeyedLimits(
    "staff-login", per_identifier=Limit(5, 15 * 60), per_address=Limit(30, 15 * 60), what="connexion"
)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password("decoy-staff-password-never-valid")


async def authenticate(request: Request, db: SessionDep, login: str, password: str) -> StaffAccount:
    login = login.strip().lower()

    async def load() -> StaffAccount | None:
        return await db.get(StaffAccount, login)

    return await verified_account(
        request,
        db,
        STAFF_LOGIN_LIMITS,
        login,
        password,
        load,
        StaffAccount.login,
        _decoy_hash,
        usable=lambda account: account.active,
    )


@router.get("/connexion", response_class=HTMLResponse)
async def login_form(request: Request, signed_in: Annotated[StaffAccount | None, Depends(session_account)]) -> Response:
    if signed_in:
        return RedirectResponse("/staff/dossiers", status_code=status.HTTP_303_SEE_OTHER)
    done = request.query_params.get("ok") == "deconnexion"
    return render(request, "staff/login.html", login="", flash="Vous êtes déconnecté(e)." if done else None)


@router.post("/connexion", response_class=HTMLResponse)
async def login(
    request: Request,
    db: SessionDep,
    tokens: TokensDep,
    settings: SettingsDep,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        account = await authenticate(request, db, login, password)
    except HTTPException as exc:
        page = render(
            request, "staff/login.html", status_code=exc.status_code, error=exc.detail, login=login.strip().lower()
        )
        page.headers.update(exc.headers or {})
        return page
    account.last_login_at = now()
    await db.commit()
    response = RedirectResponse("/staff/dossiers", status_code=status.HTTP_303_SEE_OTHER)
    open_session(request, response, tokens, settings, STAFF + account.login, account.password_hash)
    return response


@router.post("/deconnexion")
async def logout(request: Request, settings: SettingsDep, tokens: TokensDep, db: SessionDep) -> Response:
    response = RedirectResponse(f"{LOGIN_URL}?ok=deconnexion", status_code=status.HTTP_303_SEE_OTHER)
    await close_session(request, response, settings, tokens, db)
    return response
