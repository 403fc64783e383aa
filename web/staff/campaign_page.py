"""A campaign's page: its dossiers by status, access maps, bulk actions and the forms acting on it.

The forms of this page (deadline extension, exams sent again, access maps, bulk actions) live in
their own modules and show it again with their refusal (`campaign_page`); they import it, it
imports none of them.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from domain.campaign import Campaign
from domain.fr import datetime_fr
from domain.status import Status
from infra.access_maps import ACCESS_MAP_TYPES, access_maps
from infra.clock import now
from infra.database import get_campaign
from web.deps import ClientDep, SessionDep
from web.staff.deps import Reader, StaffUser
from web.staff.forms import local_input
from web.templating import render
from workflows.client import WorkflowClient
from workflows.visibility import DossierFilter

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


async def dossier_count(client: WorkflowClient, campaign_id: str) -> int:
    return await client.count_dossiers(DossierFilter(campaign_id=campaign_id))


async def campaign_or_404(db: SessionDep, campaign_id: str) -> Campaign:
    campaign = await get_campaign(db, campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Session introuvable.")
    return campaign


@router.get("/sessions/{campaign_id}", response_class=HTMLResponse)
async def campaign_detail(
    request: Request, campaign_id: str, user: Reader, db: SessionDep, client: ClientDep
) -> Response:
    return await campaign_page(request, campaign_id, user, db, client)


async def campaign_page(
    request: Request,
    campaign_id: str,
    user: StaffUser,
    db: SessionDep,
    client: ClientDep,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The campaign's page; handlers of its forms show it again with their refusal."""
    campaign = await campaign_or_404(db, campaign_id)
    counts = await client.counts_by_status(DossierFilter(campaign_id=campaign.id))
    batches = await client.recent_batches(campaign.id)
    ok = request.query_params.get("ok", "")
    flash = FLASH.get(ok)
    if ok == "prolongation":
        flash = (
            "La date limite de validation est portée au "
            f"{datetime_fr(campaign.validation_deadline, campaign.time_zone)}. "
            "La prolongation est transmise à chaque dossier ouvert de la session."
        )
    return render(
        request,
        "staff/campaign.html",
        status_code=status_code,
        user=user,
        active="sessions",
        campaign=campaign,
        counts=counts,
        total=sum(counts.values()),
        Status=Status,
        maps=await access_maps(db, campaign.id),
        batches=batches,
        tz=campaign.time_zone,
        now=now(),
        flash=flash,
        error=error,
        deadline_value=local_input(campaign.validation_deadline, campaign.time_zone),
        accepted_types=", ".join(ACCESS_MAP_TYPES.values()),
    )
