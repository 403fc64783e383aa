"""The candidate's e-mail address: give a new one from the space, confirm it through the link
sent to it (`web.email_change`). Until confirmed, nothing changes: neither the account nor the
dossier. Mails the old address's server refused for good are listed in the space and go again
to the confirmed address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from domain.dossier import Refusal
from domain.email_address import InvalidEmail, checked_email
from infra.database import Account
from web import email_change
from web.candidate.deps import CandidatePage, MySummary
from web.candidate.space import space_page
from web.deps import ClientDep, SessionDep, SettingsDep
from web.ratelimit import KeyedLimits, Limit
from web.templating import render
from workflows.client import NotFound
from workflows.dossier import ChangeEmail, DossierWorkflow

router = APIRouter()

# Each link is a mail to an address the candidate typed: a few per hour, not a mail cannon.
LINK_LIMITS = KeyedLimits(
    "email-link",
    per_identifier=Limit(5, 60 * 60),
    per_address=Limit(20, 60 * 60),
    what="confirmation d'adresse électronique",
)
SPACE_PATH = "/espace/adresse-electronique"

LINK_INVALID = (
    "Ce lien de confirmation n'est plus valable : il a expiré, il a déjà servi ou une autre adresse "
    "a été demandée depuis. Vous pouvez en demander un nouveau depuis votre espace."
)


def _page(request: Request, dossier, status_code: int = 200, **context) -> Response:
    return space_page(request, "candidate/email.html", dossier, "donnees", status_code, **context)


@router.get(SPACE_PATH, response_class=HTMLResponse)
async def email_form(request: Request, dossier: MySummary) -> Response:
    return _page(request, dossier, new_email="", sent_to=None)


@router.post(SPACE_PATH, response_class=HTMLResponse)
async def request_change(
    request: Request,
    dossier: MySummary,
    number: CandidatePage,
    settings: SettingsDep,
    db: SessionDep,
    new_email: Annotated[str, Form()] = "",
) -> Response:
    try:
        # The pre-registration's own check (email-validator, offline), and its form of the
        # address (IDN domain in ASCII) is the one kept.
        new_email = checked_email(new_email)
    except InvalidEmail as invalid:
        return _page(request, dossier, 422, new_email=new_email.strip(), sent_to=None, error=str(invalid))
    current = dossier.candidate.email
    if new_email.lower() == current.lower():
        return _page(
            request, dossier, 422, new_email=new_email, sent_to=None, error="C'est déjà l'adresse de votre dossier."
        )
    try:
        await LINK_LIMITS.attempt(db, request, number)  # counted before the mail leaves
    except HTTPException as exc:
        response = _page(request, dossier, exc.status_code, new_email=new_email, sent_to=None, error=exc.detail)
        response.headers.update(exc.headers or {})
        return response
    sent = await email_change.send_link(settings, email_change.EmailChange(number, current, new_email))
    if sent.refused is not None:
        error = (
            f"Le serveur de messagerie de l'adresse {new_email} l'a refusée ({sent.refused}). "
            "Vérifiez-la, ou indiquez-en une autre."
        )
        return _page(request, dossier, 422, new_email=new_email, sent_to=None, error=error)
    if sent.failed:
        error = "Le message de confirmation n'a pas pu partir pour l'instant. Réessayez dans quelques minutes."
        return _page(
            request, dossier, status.HTTP_503_SERVICE_UNAVAILABLE, new_email=new_email, sent_to=None, error=error
        )
    return _page(request, dossier, new_email="", sent_to=new_email)


def _confirm_page(request: Request, status_code: int = 200, **context) -> Response:
    context.setdefault("token", "")
    context.setdefault("change", None)
    context.setdefault("done", False)
    return render(request, "candidate/email_confirm.html", status_code=status_code, active="connexion", **context)


@router.get(email_change.CONFIRM_PATH, response_class=HTMLResponse)
async def confirm_form(request: Request, settings: SettingsDep, db: SessionDep, jeton: str = "") -> Response:
    """Following the link only shows a button: mail scanners open links, and a GET changes nothing."""
    change = email_change.read(settings, jeton)
    account = await db.get(Account, change.dossier_number) if change else None
    await db.commit()
    if change is None or account is None or account.email.lower() != change.old.lower():
        return _confirm_page(request, status.HTTP_410_GONE, error=LINK_INVALID)
    return _confirm_page(request, token=jeton, change=change)


@router.post(email_change.CONFIRM_PATH, response_class=HTMLResponse)
async def confirm(
    request: Request, settings: SettingsDep, db: SessionDep, client: ClientDep, jeton: Annotated[str, Form()] = ""
) -> Response:
    change = email_change.read(settings, jeton)
    account = await db.get(Account, change.dossier_number) if change else None
    await db.commit()  # nothing held while the workflow answers
    if change is not None and account is not None and account.email.lower() == change.new.lower():
        return _confirm_page(request, change=change, done=True)  # followed twice: already done
    if change is None or account is None or account.email.lower() != change.old.lower():
        return _confirm_page(request, status.HTTP_410_GONE, error=LINK_INVALID)
    try:
        # The dossier first: if it refuses, the account keeps its address too. Should the account
        # write below fail, the same link finishes the job (the Update is idempotent).
        await client.update(change.dossier_number, DossierWorkflow.change_email, ChangeEmail(change.new))
    except Refusal as refusal:
        return _confirm_page(request, status.HTTP_409_CONFLICT, error=refusal.message)
    except NotFound:
        return _confirm_page(
            request, status.HTTP_409_CONFLICT, error="Ce dossier est clos : son adresse ne peut plus être modifiée."
        )
    account = await db.get(Account, change.dossier_number)
    if account is not None and account.email.lower() == change.old.lower():
        account.email = change.new.lower()  # as pre-registration stores it
    await db.commit()
    return _confirm_page(request, change=change, done=True)
