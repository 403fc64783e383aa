"""Campaigns ("sessions"): the list, and the form that creates or edits one.

A campaign is SQL data (`infra.database.save_campaign`); each dossier carries the snapshot it
was opened with. Hence, once dossiers exist:
- the validation deadline moves only through the extension (`web.staff.deadline_extension`);
- exams keep their codes and kinds (`Campaign.check_exam_changes`); a new date, venue or label
  is saved, then carried to every open dossier (`web.staff.exam_amendments`);
- other edits reach new dossiers only (the page says so).
The campaign's own page is `web.staff.campaign_page`; its access maps, `web.staff.access_map_files`.
"""

from __future__ import annotations

import dataclasses
import logging
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.calendar import DEFAULT_TIME_ZONES, HOLIDAY_ZONES
from domain.campaign import CampaignError, ExamAmendment
from infra.clock import now
from infra.database import get_campaign, list_campaigns, save_campaign
from web.deps import ClientDep, SessionDep
from web.exports import Cell, download, export_format
from web.staff.campaign_form import CampaignForm, build_campaign
from web.staff.campaign_page import campaign_or_404, campaign_page, dossier_count
from web.staff.deps import Administrator, Reader, StaffUser
from web.staff.exam_amendments import AMENDMENT_NOT_STARTED, keep_exact_instants, start_exam_amendment
from web.staff.forms import FormError, local_input
from web.templating import render
from workflows.client import Unavailable

log = logging.getLogger(__name__)
router = APIRouter()

EXAMPLE_ROUTES = """externe | Concours externe
  formulaire | Formulaire d'inscription daté et signé | 1
  diplome | Diplôme(s) requis | 3
  derogation | OU Pièce(s) relative(s) à une dérogation de diplôme | 1
  equivalence | OU Pièce(s) relative(s) à une équivalence de diplôme | 1
  autre | Toute(s) autre(s) pièce(s) complémentaire(s) | 1
interne | Concours interne
  formulaire | Formulaire d'inscription daté et signé | 1
  etats | État(s) des services publics | 3"""


def _form_page(
    request: Request,
    user: StaffUser,
    form: CampaignForm,
    creating: bool,
    status_code: int = 200,
    error: str | None = None,
    deadline_locked: bool = False,
) -> Response:
    return render(
        request,
        "staff/campaign_form.html",
        status_code=status_code,
        user=user,
        active="sessions",
        form=form,
        creating=creating,
        error=error,
        zones=list(HOLIDAY_ZONES),
        time_zones=sorted(set(DEFAULT_TIME_ZONES.values())),
        deadline_locked=deadline_locked,
        example_routes=EXAMPLE_ROUTES,
    )


async def _form_fields(request: Request) -> CampaignForm:
    data = await request.form()
    names_ = {f.name for f in dataclasses.fields(CampaignForm)} - {"errors"}
    form = CampaignForm()
    for k in names_:
        if k in data:
            setattr(form, k, str(data.get(k, "")))
    return form


# ----------------------------------------------------------------------------- list, create
@router.get("/sessions", response_class=HTMLResponse)
async def campaign_list(request: Request, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    campaigns = await list_campaigns(db)
    totals: dict[str, int | None] = {}
    for c in campaigns:
        try:
            totals[c.id] = await dossier_count(client, c.id)
        except Unavailable:
            totals[c.id] = None  # shown as unknown; the list itself is SQL and still useful
    return render(
        request, "staff/campaigns.html", user=user, active="sessions", campaigns=campaigns, totals=totals, now=now()
    )


@router.get("/sessions.{extension}")
async def campaign_list_export(extension: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    """The sessions list as CSV or XLSX (instants in each session's time zone)."""
    fmt = export_format(extension)
    rows: list[list[Cell]] = []
    for c in await list_campaigns(db):
        try:
            total: int | None = await dossier_count(client, c.id)
        except Unavailable:
            total = None
        zone = ZoneInfo(c.time_zone)
        rows.append(
            [
                c.id,
                c.grade,
                c.organiser,
                c.registration_opens_at.astimezone(zone),
                c.registration_closes_at.astimezone(zone),
                c.validation_deadline.astimezone(zone),
                total,
            ]
        )
    header = ["Session", "Grade", "Organisateur", "Ouverture", "Clôture", "Date limite de validation", "Dossiers"]
    return download(fmt, "sessions", header, rows)


@router.get("/sessions/nouvelle", response_class=HTMLResponse)
async def new_campaign_form(request: Request, user: Administrator) -> Response:
    return _form_page(request, user, CampaignForm(), creating=True)


@router.post("/sessions/nouvelle", response_class=HTMLResponse)
async def create_campaign(request: Request, user: Administrator, db: SessionDep) -> Response:
    form = await _form_fields(request)
    form.id = form.id.strip().lower()
    try:
        campaign = build_campaign(form)
        if await get_campaign(db, campaign.id) is not None:
            raise FormError(f"Une session porte déjà le code « {campaign.id} ».")
        await save_campaign(db, campaign)
    except FormError as bad:
        return _form_page(request, user, form, creating=True, status_code=422, error=str(bad))
    log.info("Campaign %s created by %s", campaign.id, user.login)
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=creee", status_code=status.HTTP_303_SEE_OTHER)


# ----------------------------------------------------------------------------- edit
@router.get("/sessions/{campaign_id}/modifier", response_class=HTMLResponse)
async def edit_campaign_form(
    request: Request, campaign_id: str, user: Administrator, db: SessionDep, client: ClientDep
) -> Response:
    campaign = await campaign_or_404(db, campaign_id)
    locked = await dossier_count(client, campaign.id) > 0
    return _form_page(request, user, CampaignForm.of(campaign), creating=False, deadline_locked=locked)


@router.post("/sessions/{campaign_id}/modifier", response_class=HTMLResponse)
async def edit_campaign(
    request: Request, campaign_id: str, user: Administrator, db: SessionDep, client: ClientDep
) -> Response:
    current = await campaign_or_404(db, campaign_id)
    form = await _form_fields(request)
    form.id = current.id  # the code names every dossier number: never changed
    locked = await dossier_count(client, current.id) > 0
    if locked:
        form.validation_deadline = local_input(current.validation_deadline, current.time_zone)
        # Open dossiers judge requests by the date of their snapshot: it is fixed with them.
        form.accommodation_deadline = (
            local_input(current.accommodation_deadline, current.time_zone) if current.accommodation_deadline else ""
        )
    amendment: ExamAmendment | None = None
    try:
        campaign = build_campaign(form)
        campaign.exams_amended_at = current.exams_amended_at
        current.check_exam_changes(campaign.exams, dossiers_exist=locked)
        if locked:  # exactly as saved (the field shows it to the minute only)
            campaign.validation_deadline = current.validation_deadline
            campaign.accommodation_deadline = current.accommodation_deadline
            keep_exact_instants(current.exams, campaign.exams, campaign.time_zone)
            amendment = current.exam_amendment(campaign.exams, at=now())
            if amendment is not None:
                campaign.exams_amended_at = amendment.amended_at
            campaign.with_public_holidays().check()
        await save_campaign(db, campaign)  # new dossiers take it from here
    except (FormError, CampaignError) as bad:
        return _form_page(request, user, form, creating=False, status_code=422, error=str(bad), deadline_locked=locked)
    log.info("Campaign %s edited by %s", campaign.id, user.login)
    if amendment is None:
        return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=modifiee", status_code=status.HTTP_303_SEE_OTHER)
    if not await start_exam_amendment(client, amendment):
        return await campaign_page(request, campaign.id, user, db, client, status_code=503, error=AMENDMENT_NOT_STARTED)
    log.info("Campaign %s: exams amended by %s (%s)", campaign.id, user.login, amendment.digest())
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=epreuves", status_code=status.HTTP_303_SEE_OTHER)
