"""Exam amendments: new dates, venues or labels of a campaign's exams reach its open dossiers.

The campaign's edit form (`web.staff.campaigns`) saves the amended exams, the domain having
checked that open dossiers can follow them (`Campaign.exam_amendment`); `CampaignExamsWorkflow`
then tells every open dossier (pending convocations follow their exam). When that run could not
start, the campaign's page offers to send the saved exams again.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.campaign import ExamAmendment, ExamDate
from web.deps import ClientDep, SessionDep
from web.staff.campaign_page import campaign_or_404, campaign_page
from web.staff.deps import Administrator
from web.staff.forms import local_input
from workflows.client import Unavailable, WorkflowClient

log = logging.getLogger(__name__)
router = APIRouter()

AMENDMENT_NOT_STARTED = (
    "Les nouvelles dates des épreuves sont enregistrées, mais leur transmission aux dossiers n'a pas pu démarrer. "
    "Utilisez « Retransmettre les épreuves aux dossiers ouverts » sur cette page dans quelques instants."
)


def keep_exact_instants(current: list[ExamDate], edited: list[ExamDate], time_zone: str) -> None:
    """An exam the form shows unchanged keeps its exact instant: the field shows the minute only."""
    before = {e.code: e for e in current}
    for exam in edited:
        old = before.get(exam.code)
        if old and local_input(exam.starts_at, time_zone) == local_input(old.starts_at, time_zone):
            exam.starts_at = old.starts_at


async def start_exam_amendment(client: WorkflowClient, amendment: ExamAmendment) -> bool:
    """Start the run that tells every open dossier; False if Temporal could not be reached.

    The workflow ID is derived from the amended exams: a double click joins the running one.
    A finished run may run again (the same exams typed back after another change must reach
    the dossiers); a dossier ignores an amendment it already follows, so a rerun is harmless."""
    try:
        await client.start_exam_amendment(amendment)
    except Unavailable as exc:
        log.error(
            "Exam amendment of %s (%s) saved but not started: %s",
            amendment.campaign_id,
            amendment.digest(),
            exc.__cause__,
        )
        return False
    return True


@router.post("/sessions/{campaign_id}/epreuves/transmettre", response_class=HTMLResponse)
async def retransmit_exams(
    request: Request, campaign_id: str, user: Administrator, db: SessionDep, client: ClientDep
) -> Response:
    """Send the saved exams again to every open dossier (after a transmission that could not start)."""
    campaign = await campaign_or_404(db, campaign_id)
    if campaign.exams_amended_at is None:
        return await campaign_page(
            request,
            campaign_id,
            user,
            db,
            client,
            status_code=422,
            error="Les épreuves n'ont pas été modifiées depuis l'ouverture des dossiers : il n'y a rien à transmettre.",
        )
    amendment = ExamAmendment(campaign.id, campaign.exams, amended_at=campaign.exams_amended_at)
    if not await start_exam_amendment(client, amendment):
        return await campaign_page(request, campaign_id, user, db, client, status_code=503, error=AMENDMENT_NOT_STARTED)
    log.info("Campaign %s: exams sent again by %s", campaign.id, user.login)
    return RedirectResponse(
        f"/staff/sessions/{campaign.id}?ok=epreuves_retransmises", status_code=status.HTTP_303_SEE_OTHER
    )
