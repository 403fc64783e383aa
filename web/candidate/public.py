"""Pages before login: the open sessions and the pre-registration form."""

from __future__ import annotations

from email.utils import parseaddr

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from domain.campaign import Campaign
from infra.clock import now
from infra.database import Account, get_campaign
from web.candidate.deps import MySummary
from web.deps import ClientDep, ReceivedAt, SessionDep, SettingsDep, TokensDep
from web.login import open_candidate_session
from web.registration import open_campaigns, preregister
from web.schemas import PreRegistrationIn
from web.templating import render

router = APIRouter()

FIELD_LABELS = {
    "route": "Voie d'accès",
    "speciality": "Spécialité",
    "civility": "Civilité",
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "email": "Adresse e-mail",
    "phone": "Téléphone",
    "address_line1": "Adresse",
    "address_line2": "Complément d'adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "country": "Pays",
    "publish_name": "Publication du nom",
    "password": "Mot de passe",
}
TEXT_FIELDS = [f for f in FIELD_LABELS if f != "publish_name"] + ["password_confirmation"]


@router.get("/", response_class=HTMLResponse)
async def campaigns(request: Request, db: SessionDep) -> Response:
    return render(request, "candidate/campaigns.html", active="sessions", campaigns=await open_campaigns(db, now()))


@router.get("/accessibilite", response_class=HTMLResponse)
async def accessibility_statement(request: Request, settings: SettingsDep) -> Response:
    """The « déclaration d'accessibilité » every French public service publishes (RGAA)."""
    _, contact = parseaddr(settings.mail_from)
    return render(request, "accessibility.html", active="accessibilite", contact=contact)


async def _campaign_or_404(db: SessionDep, campaign_id: str) -> Campaign:
    campaign = await get_campaign(db, campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Session de concours introuvable.")
    return campaign


def _form_page(
    request: Request, campaign: Campaign, values: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "candidate/preregistration.html",
        status_code=status_code,
        active="sessions",
        campaign=campaign,
        is_open=campaign.is_open_for_registration(now()),
        values=values,
        error=error,
        route_options=[(r.code, r.label) for r in campaign.routes],
        has_specialities=any(r.specialities for r in campaign.routes),
    )


# Declared before "/preinscription/{campaign_id}", which would otherwise take "confirmation".
@router.get("/preinscription/confirmation", response_class=HTMLResponse)
async def preregistration_done(request: Request, dossier: MySummary) -> Response:
    return render(request, "candidate/preregistration_done.html", dossier=dossier, tz=dossier.time_zone, now=dossier.at)


@router.get("/preinscription/{campaign_id}", response_class=HTMLResponse)
async def preregistration_form(campaign_id: str, request: Request, db: SessionDep) -> Response:
    campaign = await _campaign_or_404(db, campaign_id)
    return _form_page(request, campaign, {"publish_name": "oui", "country": "France"})


def _french_validation_error(exc: ValidationError) -> str:
    fields = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        label = FIELD_LABELS.get(name, name)
        if label and label not in fields:
            fields.append(label)
    return f"Vérifiez les champs suivants : {', '.join(fields)}."


@router.post("/preinscription/{campaign_id}", response_class=HTMLResponse)
async def submit_preregistration(
    campaign_id: str,
    request: Request,
    db: SessionDep,
    client: ClientDep,
    tokens: TokensDep,
    settings: SettingsDep,
    received_at: ReceivedAt,
) -> Response:
    campaign = await _campaign_or_404(db, campaign_id)
    submitted = await request.form()
    values = {name: str(submitted.get(name, "")).strip() for name in TEXT_FIELDS}
    values["password"] = str(submitted.get("password", ""))  # never trimmed
    values["password_confirmation"] = str(submitted.get("password_confirmation", ""))
    values["publish_name"] = "oui" if submitted.get("publish_name", "oui") == "oui" else "non"
    shown = {k: v for k, v in values.items() if not k.startswith("password")}

    if values["password"] != values["password_confirmation"]:
        return _form_page(request, campaign, shown, "Les deux mots de passe saisis ne sont pas identiques.", 422)
    try:
        form = PreRegistrationIn(
            campaign_id=campaign.id,
            route=values["route"],
            speciality=values["speciality"] or None,
            civility=values["civility"],
            last_name=values["last_name"],
            first_name=values["first_name"],
            birth_date=values["birth_date"],
            email=values["email"],
            phone=values["phone"],
            address_line1=values["address_line1"],
            address_line2=values["address_line2"],
            postal_code=values["postal_code"],
            city=values["city"],
            country=values["country"] or "France",
            publish_name=values["publish_name"] == "oui",
            password=values["password"],
        )
    except ValidationError as exc:
        return _form_page(request, campaign, shown, _french_validation_error(exc), 422)
    try:
        registration = await preregister(form, db, client, received_at, request, settings)
    except HTTPException as exc:
        page = _form_page(request, campaign, shown, str(exc.detail), exc.status_code)
        page.headers.update(exc.headers or {})
        return page

    # The candidate just chose this password: their space opens at once (CDG 56 guide:
    # « votre espace sécurisé s'est automatiquement créé »).
    response = RedirectResponse("/preinscription/confirmation", status_code=status.HTTP_303_SEE_OTHER)
    account = await db.get(Account, registration.dossier_number)  # just added: no query
    assert account is not None
    open_candidate_session(request, response, tokens, settings, account)
    return response
