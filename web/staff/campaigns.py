"""Campaigns ("sessions"): list, create, edit, access maps, deadline extension, exam amendments.

A campaign is SQL data (`infra.database.save_campaign`); each dossier carries the snapshot it
was opened with. Hence, once dossiers exist:
- the validation deadline moves only through the extension, which saves the new deadline and
  starts `CampaignDeadlineWorkflow` to tell every open dossier;
- exams keep their codes and kinds; a new date, venue or label is saved, then carried to every
  open dossier by `CampaignExamsWorkflow` (pending convocations follow their exam);
- other edits reach new dossiers only (the page says so).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Annotated

import filetype
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.calendar import DEFAULT_TIME_ZONES, HOLIDAY_ZONES
from domain.campaign import Campaign, CampaignError, ExamAmendment
from domain.documents import MAX_UPLOAD_BYTES
from domain.fr import datetime_fr
from domain.status import Status
from infra.access_maps import ACCESS_MAP_TYPES, ExamAccessMap, access_maps
from infra.database import get_campaign, list_campaigns, save_campaign
from web.deps import ClientDep, FilesDep, SessionDep, SettingsDep
from web.staff.campaign_form import CampaignForm, build_campaign
from web.staff.deps import Administrator, Reader, StaffUser, now
from web.staff.forms import FormError, local_input, parse_local
from web.templating import render
from workflows.campaign import DeadlineExtension
from workflows.client import AlreadyStarted, Unavailable
from workflows.visibility import DossierFilter

log = logging.getLogger(__name__)
router = APIRouter()

FLASH = {
    "creee": "La session est créée.",
    "modifiee": "La session est modifiée. Les dossiers déjà ouverts gardent la définition de leur préinscription.",
    "plan": "Le plan d'accès est enregistré ; il sera imprimé avec les convocations préparées désormais.",
    "epreuves": "La session est modifiée. Les nouvelles dates, nouveaux lieux ou libellés des épreuves sont transmis "
                "à chaque dossier ouvert de la session : les convocations en attente suivent la nouvelle date, et les "
                "candidats convoqués ou admis à concourir sont prévenus par mail.",
    "epreuves_retransmises": "Les épreuves de la session sont transmises de nouveau à chaque dossier ouvert "
                             "(un dossier qui les suit déjà n'est pas modifié et son candidat n'est pas prévenu une seconde fois).",
}

AMENDMENT_NOT_STARTED = (
    "Les nouvelles dates des épreuves sont enregistrées, mais leur transmission aux dossiers n'a pas pu démarrer. "
    "Utilisez « Retransmettre les épreuves aux dossiers ouverts » sur cette page dans quelques instants."
)

EXAMPLE_ROUTES = """externe | Concours externe
  formulaire | Formulaire d'inscription daté et signé | 1
  diplome | Diplôme(s) requis | 3
  derogation | OU Pièce(s) relative(s) à une dérogation de diplôme | 1
  equivalence | OU Pièce(s) relative(s) à une équivalence de diplôme | 1
  autre | Toute(s) autre(s) pièce(s) complémentaire(s) | 1
interne | Concours interne
  formulaire | Formulaire d'inscription daté et signé | 1
  etats | État(s) des services publics | 3"""


async def _dossier_count(client: ClientDep, campaign_id: str) -> int:
    return await client.count_dossiers(DossierFilter(campaign_id=campaign_id))


async def _campaign_or_404(db: SessionDep, campaign_id: str) -> Campaign:
    campaign = await get_campaign(db, campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Session introuvable.")
    return campaign


def _form_page(request: Request, user: StaffUser, form: CampaignForm, creating: bool, status_code: int = 200,
               error: str | None = None, deadline_locked: bool = False) -> Response:
    return render(
        request, "staff/campaign_form.html", status_code=status_code, user=user, active="sessions", form=form,
        creating=creating, error=error, zones=list(HOLIDAY_ZONES), time_zones=sorted(set(DEFAULT_TIME_ZONES.values())),
        deadline_locked=deadline_locked, example_routes=EXAMPLE_ROUTES,
    )


async def _form_fields(request: Request) -> CampaignForm:
    data = await request.form()
    names_ = {f.name for f in dataclasses.fields(CampaignForm)} - {"errors"}
    return CampaignForm(**{k: str(data.get(k, "")) for k in names_ if k in data})


# ----------------------------------------------------------------------------- list, detail
@router.get("/sessions", response_class=HTMLResponse)
async def campaign_list(request: Request, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    campaigns = await list_campaigns(db)
    totals: dict[str, int | None] = {}
    for c in campaigns:
        try:
            totals[c.id] = await _dossier_count(client, c.id)
        except RPCError:
            totals[c.id] = None  # shown as unknown; the list itself is SQL and still useful
    return render(request, "staff/campaigns.html", user=user, active="sessions", campaigns=campaigns, totals=totals, now=now())


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


@router.get("/sessions/{campaign_id}", response_class=HTMLResponse)
async def campaign_detail(request: Request, campaign_id: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    return await campaign_page(request, campaign_id, user, db, client)


async def campaign_page(request: Request, campaign_id: str, user: StaffUser, db: SessionDep, client: ClientDep,
                        error: str | None = None, status_code: int = 200) -> Response:
    """The campaign's page; handlers of its forms show it again with their refusal."""
    campaign = await _campaign_or_404(db, campaign_id)
    counts = await client.counts_by_status(DossierFilter(campaign_id=campaign.id))
    batches = await client.recent_batches(campaign.id)
    ok = request.query_params.get("ok", "")
    flash = FLASH.get(ok)
    if ok == "prolongation":
        flash = (f"La date limite de validation est portée au {datetime_fr(campaign.validation_deadline, campaign.time_zone)}. "
                 "La prolongation est transmise à chaque dossier ouvert de la session.")
    return render(
        request, "staff/campaign.html", status_code=status_code, user=user, active="sessions", campaign=campaign,
        counts=counts, total=sum(counts.values()), Status=Status, maps=await access_maps(db, campaign.id),
        batches=batches, tz=campaign.time_zone, now=now(), flash=flash, error=error,
        deadline_value=local_input(campaign.validation_deadline, campaign.time_zone),
        accepted_types=", ".join(ACCESS_MAP_TYPES.values()),
    )


# ----------------------------------------------------------------------------- edit
@router.get("/sessions/{campaign_id}/modifier", response_class=HTMLResponse)
async def edit_campaign_form(request: Request, campaign_id: str, user: Administrator, db: SessionDep, client: ClientDep) -> Response:
    campaign = await _campaign_or_404(db, campaign_id)
    locked = await _dossier_count(client, campaign.id) > 0
    return _form_page(request, user, CampaignForm.of(campaign), creating=False, deadline_locked=locked)


@router.post("/sessions/{campaign_id}/modifier", response_class=HTMLResponse)
async def edit_campaign(request: Request, campaign_id: str, user: Administrator, db: SessionDep, client: ClientDep,
                        settings: SettingsDep) -> Response:
    current = await _campaign_or_404(db, campaign_id)
    form = await _form_fields(request)
    form.id = current.id  # the code names every dossier number: never changed
    locked = await _dossier_count(client, current.id) > 0
    if locked:
        form.validation_deadline = local_input(current.validation_deadline, current.time_zone)
    amendment: ExamAmendment | None = None
    try:
        campaign = build_campaign(form)
        campaign.exams_amended_at = current.exams_amended_at
        if locked:  # exactly as saved (the field shows it to the minute only)
            campaign.validation_deadline = current.validation_deadline
            if _exams_amended(current, campaign):
                amendment = ExamAmendment(campaign.id, campaign.exams, amended_at=now())
                campaign.exams_amended_at = amendment.amended_at
            campaign.with_public_holidays().check()
        await save_campaign(db, campaign)  # new dossiers take it from here
    except (FormError, CampaignError) as bad:
        return _form_page(request, user, form, creating=False, status_code=422, error=str(bad), deadline_locked=locked)
    log.info("Campaign %s edited by %s", campaign.id, user.login)
    if amendment is None:
        return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=modifiee", status_code=status.HTTP_303_SEE_OTHER)
    if not await _start_exam_amendment(client, settings, amendment):
        return await campaign_page(request, campaign.id, user, db, client, status_code=503, error=AMENDMENT_NOT_STARTED)
    log.info("Campaign %s: exams amended by %s (%s)", campaign.id, user.login, amendment.digest())
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=epreuves", status_code=status.HTTP_303_SEE_OTHER)


def _exams_amended(current: Campaign, edited: Campaign) -> bool:
    """Whether the edit moves, relocates or renames an exam of a campaign whose dossiers are open.

    Open dossiers hold convocations and results per exam: exams can no longer be added, removed
    or change kind (FormError). An exam shown unchanged to the minute keeps its exact instant."""
    before = {e.code: e for e in current.exams}
    after = {e.code: e for e in edited.exams}
    if before.keys() != after.keys():
        raise FormError(
            "Des dossiers sont ouverts : les épreuves ne peuvent plus être ajoutées ni retirées "
            f"(codes de la session : {', '.join(before) or 'aucun'}). Modifiez leur date, leur lieu ou leur libellé."
        )
    for code, new in after.items():
        old = before[code]
        if new.kind is not old.kind:
            raise FormError(
                f"Des dossiers sont ouverts : la nature de l'épreuve « {code} » (admissibilite ou admission) ne peut plus changer."
            )
        if local_input(new.starts_at, edited.time_zone) == local_input(old.starts_at, edited.time_zone):
            new.starts_at = old.starts_at
    return any(
        (after[c].starts_at, after[c].venue, after[c].label) != (old.starts_at, old.venue, old.label)
        for c, old in before.items()
    )


async def _start_exam_amendment(client: ClientDep, settings: SettingsDep, amendment: ExamAmendment) -> bool:
    """Start the run that tells every open dossier; False if Temporal could not be reached.

    The workflow ID is derived from the amended exams: a double click joins the running one.
    A finished run may run again (the same exams typed back after another change must reach
    the dossiers); a dossier ignores an amendment it already follows, so a rerun is harmless."""
    try:
        await client.start_exam_amendment(amendment)
    except Unavailable as exc:
        log.error("Exam amendment of %s (%s) saved but not started: %s",
                  amendment.campaign_id, amendment.digest(), exc.__cause__)
        return False
    return True


@router.post("/sessions/{campaign_id}/epreuves/transmettre", response_class=HTMLResponse)
async def retransmit_exams(request: Request, campaign_id: str, user: Administrator, db: SessionDep,
                           client: ClientDep, settings: SettingsDep) -> Response:
    """Send the saved exams again to every open dossier (after a transmission that could not start)."""
    campaign = await _campaign_or_404(db, campaign_id)
    if campaign.exams_amended_at is None:
        return await campaign_page(
            request, campaign_id, user, db, client, status_code=422,
            error="Les épreuves n'ont pas été modifiées depuis l'ouverture des dossiers : il n'y a rien à transmettre.",
        )
    amendment = ExamAmendment(campaign.id, campaign.exams, amended_at=campaign.exams_amended_at)
    if not await _start_exam_amendment(client, settings, amendment):
        return await campaign_page(request, campaign_id, user, db, client, status_code=503, error=AMENDMENT_NOT_STARTED)
    log.info("Campaign %s: exams sent again by %s", campaign.id, user.login)
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=epreuves_retransmises", status_code=status.HTTP_303_SEE_OTHER)


# ----------------------------------------------------------------------------- extension
@router.post("/sessions/{campaign_id}/prolongation", response_class=HTMLResponse)
async def extend_deadline(
    request: Request,
    campaign_id: str,
    user: Administrator,
    db: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    deadline: Annotated[str, Form()] = "",
) -> Response:
    campaign = await _campaign_or_404(db, campaign_id)
    try:
        new_deadline = parse_local(deadline, campaign.time_zone, "Nouvelle date limite")
        if new_deadline < campaign.validation_deadline:
            raise FormError(
                "La nouvelle date limite doit suivre l'actuelle "
                f"({datetime_fr(campaign.validation_deadline, campaign.time_zone)})."
            )
        if new_deadline > campaign.validation_deadline:
            campaign.validation_deadline = new_deadline
            await save_campaign(db, campaign)  # new dossiers take it from here
    except (FormError, CampaignError) as bad:
        return await campaign_page(request, campaign_id, user, db, client, error=str(bad), status_code=422)
    # Saved (or already saved by a first click): tell the open dossiers. The workflow ID is
    # derived from the deadline, so a double click joins the first run, and a finished run is
    # not repeated.
    try:
        await client.start_deadline_extension(DeadlineExtension(campaign.id, new_deadline))
    except AlreadyStarted as done:
        log.info("Deadline extension %s already ran; not repeated", done)
    except Unavailable as exc:
        # The deadline is saved; the extension must still reach the dossiers: say so plainly.
        log.error("Deadline extension of %s to %s saved but not started: %s",
                  campaign.id, new_deadline.isoformat(), exc.__cause__)
        return await campaign_page(
            request, campaign_id, user, db, client, status_code=503,
            error="La nouvelle date limite est enregistrée, mais sa transmission aux dossiers n'a pas pu démarrer. "
                  "Renvoyez ce formulaire avec la même date dans quelques instants.",
        )
    log.info("Campaign %s: deadline extended to %s by %s", campaign.id, new_deadline.isoformat(), user.login)
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=prolongation", status_code=status.HTTP_303_SEE_OTHER)


# ----------------------------------------------------------------------------- access maps
@router.post("/sessions/{campaign_id}/plans/{exam_code}", response_class=HTMLResponse)
async def upload_access_map(
    request: Request,
    campaign_id: str,
    exam_code: str,
    user: Administrator,
    db: SessionDep,
    client: ClientDep,
    files: FilesDep,
    plan: Annotated[UploadFile, File()],
) -> Response:
    campaign = await _campaign_or_404(db, campaign_id)
    if campaign.exam(exam_code) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Épreuve introuvable.")
    data = await plan.read(MAX_UPLOAD_BYTES + 1)
    kind = filetype.guess(data) if data else None
    problem = None
    if len(data) > MAX_UPLOAD_BYTES:
        problem = "Le plan dépasse 10 Mo."
    elif kind is None or kind.mime not in ACCESS_MAP_TYPES:
        problem = ("Le plan d'accès doit être une image PNG, JPEG ou GIF : il est imprimé dans la convocation "
                   "(un PDF ne pourrait pas l'être).")
    if problem:
        return await campaign_page(request, campaign_id, user, db, client, error=problem, status_code=415)
    ref, _ = files.save(data)
    row = await db.get(ExamAccessMap, (campaign.id, exam_code))
    if row is None:
        db.add(ExamAccessMap(campaign_id=campaign.id, exam_code=exam_code, ref=ref,
                             filename=(plan.filename or "plan")[-200:], content_type=kind.mime))
    else:
        row.ref, row.filename, row.content_type = ref, (plan.filename or "plan")[-200:], kind.mime
    await db.commit()
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=plan", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/sessions/{campaign_id}/plans/{exam_code}")
async def access_map(campaign_id: str, exam_code: str, user: Reader, db: SessionDep, files: FilesDep) -> Response:
    row = await db.get(ExamAccessMap, (campaign_id, exam_code))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Aucun plan d'accès pour cette épreuve.")
    return Response(files.read(row.ref), media_type=row.content_type,
                    headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"})
