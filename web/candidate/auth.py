"""Login (« Identification »), logout and password reset of the candidate space."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra.clock import now
from web import password_reset
from web.candidate.deps import flash, session_candidate
from web.deps import SessionDep, SettingsDep, TokensDep
from web.login import authenticate, close_session, normalise_number, open_candidate_session
from web.ratelimit import KeyedLimits, Limit
from web.security import password_problem
from web.templating import render

router = APIRouter()

# Three links per dossier and address per hour; twenty per address whatever the dossier.
RESET_LIMITS = KeyedLimits(
    "reset", per_identifier=Limit(3, 60 * 60), per_address=Limit(20, 60 * 60), what="réinitialisation du mot de passe"
)

RESET_SENT = (
    "Si ce numéro de dossier existe et qu'une adresse e-mail y est associée, un lien de "
    "réinitialisation vient d'y être envoyé. Il est valable {minutes} minutes et ne sert qu'une fois."
)
LINK_INVALID = (
    "Ce lien de réinitialisation n'est plus valable : il a déjà servi ou il a expiré. "
    "Vous pouvez demander un nouveau lien."
)


@router.get("/connexion", response_class=HTMLResponse)
async def login_form(request: Request, signed_in: Annotated[str | None, Depends(session_candidate)]) -> Response:
    if signed_in:
        return RedirectResponse("/espace", status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "candidate/login.html", active="connexion", flash=flash(request), number="")


@router.post("/connexion", response_class=HTMLResponse)
async def login(
    request: Request,
    db: SessionDep,
    tokens: TokensDep,
    settings: SettingsDep,
    dossier_number: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        account = await authenticate(request, db, dossier_number, password)
    except HTTPException as exc:
        page = render(
            request,
            "candidate/login.html",
            status_code=exc.status_code,
            active="connexion",
            error=exc.detail,
            number=normalise_number(dossier_number),
        )
        if exc.headers:
            page.headers.update(exc.headers)
        return page
    response = RedirectResponse("/espace", status_code=status.HTTP_303_SEE_OTHER)
    open_candidate_session(request, response, tokens, settings, account)
    return response


@router.post("/deconnexion")
async def logout(request: Request, settings: SettingsDep, tokens: TokensDep, db: SessionDep) -> Response:
    response = RedirectResponse("/connexion?ok=deconnexion", status_code=status.HTTP_303_SEE_OTHER)
    await close_session(request, response, settings, tokens, db)
    return response


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse)
async def reset_request_form(request: Request) -> Response:
    return render(request, "candidate/reset_request.html", active="connexion", sent=False, number="")


@router.post("/mot-de-passe-oublie", response_class=HTMLResponse)
async def reset_request(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    dossier_number: Annotated[str, Form()] = "",
) -> Response:
    number = normalise_number(dossier_number)
    if not number:
        return render(
            request,
            "candidate/reset_request.html",
            status_code=422,
            active="connexion",
            sent=False,
            number="",
            error="Indiquez votre identifiant (n° de dossier).",
        )
    try:
        await RESET_LIMITS.attempt(db, request, number)
    except HTTPException as exc:
        response = render(
            request,
            "candidate/reset_request.html",
            status_code=exc.status_code,
            active="connexion",
            sent=False,
            number=number,
            error=exc.detail,
        )
        response.headers.update(exc.headers or {})
        return response
    issued = await password_reset.issue(db, number, now())
    if issued is not None:
        token, email = issued
        background.add_task(password_reset.send_link, settings, number, email, token)
    minutes = int(password_reset.LINK_LIFETIME.total_seconds() // 60)
    return render(
        request,
        "candidate/reset_request.html",
        active="connexion",
        sent=True,
        number=number,
        message=RESET_SENT.format(minutes=minutes),
    )


def _link_invalid(request: Request) -> Response:
    """The reset page for a link that is unknown, expired or already used."""
    return render(
        request,
        "candidate/reset_password.html",
        status_code=410,
        active="connexion",
        token="",
        invalid=True,
        error=LINK_INVALID,
    )


@router.get(password_reset.RESET_PATH, response_class=HTMLResponse)
async def new_password_form(request: Request, db: SessionDep, jeton: str = "") -> Response:
    if not await password_reset.is_usable(db, jeton, now()):
        return _link_invalid(request)
    return render(request, "candidate/reset_password.html", active="connexion", token=jeton, invalid=False)


@router.post(password_reset.RESET_PATH, response_class=HTMLResponse)
async def new_password(
    request: Request,
    db: SessionDep,
    jeton: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirmation: Annotated[str, Form()] = "",
) -> Response:
    problem = password_problem(password)
    if not problem and password != password_confirmation:
        problem = "Les deux mots de passe saisis ne sont pas identiques."
    if problem:
        if not await password_reset.is_usable(db, jeton, now()):
            return _link_invalid(request)
        return render(
            request,
            "candidate/reset_password.html",
            status_code=422,
            active="connexion",
            token=jeton,
            invalid=False,
            error=problem,
        )
    if await password_reset.consume(db, jeton, password, now()) is None:
        return _link_invalid(request)
    # Sessions opened with the old password (this browser's too) are refused from now on: the
    # candidate logs in again with the new one.
    return RedirectResponse("/connexion?ok=mot-de-passe", status_code=status.HTTP_303_SEE_OTHER)
