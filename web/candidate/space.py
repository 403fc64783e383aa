"""The secure space: dashboard, calendar, registration form, validation, my data, address,
withdrawal. Pages read the dossier's `summary` query (what they show, judged at the request's
instant), downloads built from the whole dossier its `view` query; every change is an Update to
its workflow, and a refusal is the workflow's own French message, shown as is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaign import RETENTION
from domain.candidate import Address
from domain.dossier import Refusal
from domain.retention import retention_fr
from domain.space import Action
from domain.summary import DossierSummary
from infra.clock import now
from infra.database import Account, get_campaign
from letters.registration_form import registration_form_pdf
from web import replacement
from web.candidate.deps import CandidatePage, MyDossier, MySummary, flash
from web.candidate.status_text import EXPLANATIONS, tone
from web.deps import ClientDep, ReceivedAt, SessionDep
from web.ics import dossier_calendar
from web.schemas import AddressIn
from web.templating import render
from workflows.dossier import DossierWorkflow, Validate

router = APIRouter(prefix="/espace")

SWORN_STATEMENT = "J'ai lu, j'approuve et je signe l'attestation sur l'honneur présente dans mon dossier d'inscription"


def space_page(
    request: Request, template: str, dossier: DossierSummary, active: str, status_code: int = 200, **context
) -> Response:
    """Render a space page with what every one of them shows, as of the summary's instant."""
    return render(
        request,
        template,
        status_code=status_code,
        active=active,
        dossier=dossier,
        tz=dossier.time_zone,
        now=dossier.at,
        actions=dossier.actions,
        Action=Action,
        flash=context.pop("flash", None) or flash(request),
        **context,
    )


def _download(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _dashboard(
    request: Request, db: AsyncSession, dossier: DossierSummary, status_code: int = 200, error: str | None = None
) -> Response:
    replacements = await replacement.pending(db, dossier.dossier_number)
    await db.commit()  # read-only: the connection goes back before the page renders
    return space_page(
        request,
        "candidate/dashboard.html",
        dossier,
        "tableau",
        status_code,
        explanation=EXPLANATIONS.get(dossier.status, ""),
        tone=tone(dossier.status),
        timeline=list(reversed(dossier.timeline)),
        replacements=replacements,
        error=error,
    )


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, dossier: MySummary, db: SessionDep) -> Response:
    return await _dashboard(request, db, dossier)


@router.post("/remplacement", response_class=HTMLResponse)
async def confirm_replacement(
    request: Request,
    number: CandidatePage,
    db: SessionDep,
    client: ClientDep,
    nouveau_dossier: Annotated[str, Form()] = "",
) -> Response:
    """The owner of this dossier confirms that a later pre-registration of theirs replaces it:
    being logged in to this dossier is the proof (`web.replacement`)."""
    try:
        await replacement.confirm(db, client, number, nouveau_dossier.strip().upper()[:32])
    except replacement.UnknownRequest:
        error, code = "Aucune nouvelle préinscription n'attend votre confirmation sous ce numéro.", 404
    except Refusal as refusal:
        error, code = refusal.message, status.HTTP_409_CONFLICT
    else:
        return RedirectResponse("/espace?ok=remplacement", status_code=status.HTTP_303_SEE_OTHER)
    return await _dashboard(request, db, await client.summary(number, now()), code, error)


@router.get("/calendrier.ics")
async def calendar(dossier: MyDossier) -> Response:
    return _download(
        dossier_calendar(dossier, now()), "text/calendar; charset=utf-8", f"concours-{dossier.dossier_number}.ics"
    )


@router.get("/formulaire-inscription.pdf")
async def registration_form(dossier: MyDossier) -> Response:
    return _download(
        registration_form_pdf(dossier, now()), "application/pdf", f"formulaire-inscription-{dossier.dossier_number}.pdf"
    )


# ------------------------------------------------------------------------------ validation
@router.get("/validation", response_class=HTMLResponse)
async def validation_page(request: Request, dossier: MySummary) -> Response:
    return space_page(request, "candidate/validation.html", dossier, "validation", sworn_statement=SWORN_STATEMENT)


@router.post("/validation", response_class=HTMLResponse)
async def validate(
    request: Request,
    number: CandidatePage,
    client: ClientDep,
    received_at: ReceivedAt,
    sworn_statement: Annotated[str, Form()] = "",
) -> Response:
    try:
        # Judged at the instant the click reached us, however long recording it then takes.
        await client.update(number, DossierWorkflow.validate, Validate(sworn_statement == "oui", received_at))
    except Refusal as refusal:
        dossier = await client.summary(number, now())
        return space_page(
            request,
            "candidate/validation.html",
            dossier,
            "validation",
            status.HTTP_409_CONFLICT,
            error=refusal.message,
            sworn_statement=SWORN_STATEMENT,
        )
    return RedirectResponse("/espace?ok=validee", status_code=status.HTTP_303_SEE_OTHER)


# ------------------------------------------------------------------------------ my data, address
@router.get("/mes-donnees", response_class=HTMLResponse)
async def my_data(request: Request, dossier: MySummary, db: SessionDep) -> Response:
    account = await db.get(Account, dossier.dossier_number)
    campaign = await get_campaign(db, account.campaign_id) if account else None
    retention = retention_fr(campaign.retention if campaign else RETENTION)
    return space_page(request, "candidate/my_data.html", dossier, "donnees", retention_text=retention)


@router.get("/adresse", response_class=HTMLResponse)
async def address_form(request: Request, dossier: MySummary) -> Response:
    a = dossier.candidate.address
    values = {"line1": a.line1, "line2": a.line2, "postal_code": a.postal_code, "city": a.city, "country": a.country}
    return space_page(request, "candidate/address.html", dossier, "donnees", values=values)


ADDRESS_LABELS = {
    "line1": "Adresse",
    "line2": "Complément d'adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "country": "Pays",
}


@router.post("/adresse", response_class=HTMLResponse)
async def change_address(request: Request, number: CandidatePage, client: ClientDep) -> Response:
    submitted = await request.form()
    values = {name: str(submitted.get(name, "")).strip() for name in ADDRESS_LABELS}
    try:
        address = AddressIn(**{**values, "country": values["country"] or "France"})
        await client.update(number, DossierWorkflow.change_address, Address(**address.model_dump()))
    except ValidationError as exc:
        fields = sorted({ADDRESS_LABELS.get(str(e["loc"][0]), "?") for e in exc.errors() if e["loc"]})
        error, code = f"Vérifiez les champs suivants : {', '.join(fields)}.", 422
    except Refusal as refusal:
        error, code = refusal.message, status.HTTP_409_CONFLICT
    else:
        return RedirectResponse("/espace/mes-donnees?ok=adresse", status_code=status.HTTP_303_SEE_OTHER)
    dossier = await client.summary(number, now())
    return space_page(request, "candidate/address.html", dossier, "donnees", code, values=values, error=error)


# ------------------------------------------------------------------------------ withdrawal
@router.get("/desistement", response_class=HTMLResponse)
async def withdrawal_page(request: Request, dossier: MySummary) -> Response:
    return space_page(request, "candidate/withdrawal.html", dossier, "tableau", confirming=False)


@router.get("/desistement/confirmation", response_class=HTMLResponse)
async def withdrawal_confirmation(request: Request, dossier: MySummary) -> Response:
    """The second step: nothing is withdrawn until this page's button is pressed."""
    return space_page(request, "candidate/withdrawal.html", dossier, "tableau", confirming=True)


@router.post("/desistement", response_class=HTMLResponse)
async def withdraw(
    request: Request,
    number: CandidatePage,
    client: ClientDep,
    confirmation: Annotated[str, Form()] = "",
) -> Response:
    if confirmation != "oui":  # only the confirmation page sends it
        return RedirectResponse("/espace/desistement/confirmation", status_code=status.HTTP_303_SEE_OTHER)
    try:
        await client.update(number, DossierWorkflow.withdraw)
    except Refusal as refusal:
        dossier = await client.summary(number, now())
        return space_page(
            request,
            "candidate/withdrawal.html",
            dossier,
            "tableau",
            status.HTTP_409_CONFLICT,
            confirming=False,
            error=refusal.message,
        )
    return RedirectResponse("/espace?ok=desistement", status_code=status.HTTP_303_SEE_OTHER)
