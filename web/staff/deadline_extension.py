"""Deadline extension: a later validation deadline, saved, then told to every open dossier.

The domain decides which new deadline is valid (`Campaign.extend_validation_deadline`: later
than the current one; the current one again is a repeated click). The new deadline is saved for
dossiers opened from now on, and `CampaignDeadlineWorkflow` carries it to the open ones.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.campaign import CampaignError
from infra.database import save_campaign
from web.deps import ClientDep, SessionDep
from web.staff.campaign_page import campaign_or_404, campaign_page
from web.staff.deps import Administrator
from web.staff.forms import FormError, parse_local
from workflows.campaign import DeadlineExtension
from workflows.client import AlreadyStarted, Unavailable

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/sessions/{campaign_id}/prolongation", response_class=HTMLResponse)
async def extend_deadline(
    request: Request,
    campaign_id: str,
    user: Administrator,
    db: SessionDep,
    client: ClientDep,
    deadline: Annotated[str, Form()] = "",
) -> Response:
    campaign = await campaign_or_404(db, campaign_id)
    try:
        new_deadline = parse_local(deadline, campaign.time_zone, "Nouvelle date limite")
        if campaign.extend_validation_deadline(new_deadline):
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
        log.error(
            "Deadline extension of %s to %s saved but not started: %s",
            campaign.id,
            new_deadline.isoformat(),
            exc.__cause__,
        )
        return await campaign_page(
            request,
            campaign_id,
            user,
            db,
            client,
            status_code=503,
            error="La nouvelle date limite est enregistrée, mais sa transmission aux dossiers n'a pas pu démarrer. "
            "Renvoyez ce formulaire avec la même date dans quelques instants.",
        )
    log.info("Campaign %s: deadline extended to %s by %s", campaign.id, new_deadline.isoformat(), user.login)
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=prolongation", status_code=status.HTTP_303_SEE_OTHER)
