"""The instruction queue: « Dossier suivant à instruire », one dossier after another.

The dossiers waiting for a first decision (status « Dossier en cours d'instruction ») come from
visibility, oldest validation first (the `ValidatedAt` search attribute; a dossier validated
before it existed falls back to its pre-registration instant), filtered by campaign and route.
The instructor gets the first one nobody holds, through an expiring claim (`infra.instruction`),
sees its documents beside the decision form, and after a decision the next one opens. The
workflow stays the judge: a decision its status no longer allows is refused with its reason.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from domain.status import Status
from infra import instruction
from infra.clock import now
from infra.database import list_campaigns
from infra.staff_accounts import StaffAccount
from web.deps import ClientDep, SessionDep
from web.exports import download, export_format
from web.staff.deps import Administrator, Instructor, StaffUser
from web.staff.dossiers import DecisionForm, _page, take_decision
from web.templating import render
from workflows.client import DossierRow, WorkflowClient
from workflows.visibility import BadQueryValue, DossierFilter

log = logging.getLogger(__name__)
router = APIRouter()

WAITING = Status.IN_INSTRUCTION  # waiting for its first decision
STATS_DAYS = 14
SERVICE_ZONE = ZoneInfo("Europe/Paris")  # the head of service's days

FLASH = {
    "vide": "Aucun dossier n'attend de décision avec ces critères.",
    "libere": "Le dossier est rendu à la file.",
}


def _filter(session: str, voie: str) -> DossierFilter:
    return DossierFilter(campaign_id=session or None, statuses=[WAITING], route=voie or None, running_only=True)


def _query(session: str, voie: str, **more: str) -> str:
    params = {k: v for k, v in {"session": session, "voie": voie, **more}.items() if v}
    return f"?{urlencode(params)}" if params else ""


def _oldest_first(rows: list[DossierRow]) -> list[DossierRow]:
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r.validated_at or r.started_at or far, r.number))


async def next_dossier(db: SessionDep, client: WorkflowClient, user: StaffUser, f: DossierFilter) -> str | None:
    """Claim the oldest waiting dossier nobody holds; None when none is left.

    The instructor's own undecided claim comes first (a reload, a return to the queue). Visibility
    lags a little behind the workflows: a dossier it still lists as waiting but whose workflow has
    moved on is let go and the next one tried."""
    at = now()
    mine = await instruction.current_claim(db, user.login, at)
    if mine is not None:
        return mine
    rows = _oldest_first(await client.dossier_rows(f))
    taken = await instruction.held(db, (r.number for r in rows), at)
    for row in rows:
        if row.number in taken:
            continue
        if not await instruction.claim(db, row.number, user.login, at):
            continue  # another instructor took it a moment ago
        if (await client.view(row.number)).status is WAITING:
            return row.number
        await instruction.release(db, row.number, user.login)
    return None


async def _remaining(client: WorkflowClient, f: DossierFilter) -> int:
    return await client.count_dossiers(f)


# ----------------------------------------------------------------------------- the queue
@router.get("/instruction", response_class=HTMLResponse)
async def queue_page(
    request: Request, user: Instructor, db: SessionDep, client: ClientDep, session: str = "", voie: str = ""
) -> Response:
    campaigns = await list_campaigns(db)
    campaign = next((c for c in campaigns if c.id == session), None)
    f = _filter(campaign.id if campaign else "", voie if campaign else "")
    try:
        remaining = await _remaining(client, f)
    except BadQueryValue:
        remaining, voie = 0, ""
    at = now()
    claims = await instruction.active_claims(db, at)
    return render(
        request,
        "staff/instruction.html",
        user=user,
        active="instruction",
        campaigns=campaigns,
        campaign=campaign,
        voie=voie,
        remaining=remaining,
        claims=claims,
        mine=await instruction.current_claim(db, user.login, at),
        claim_minutes=int(instruction.CLAIM_TTL.total_seconds() // 60),
        flash=FLASH.get(request.query_params.get("ok", "")),
    )


@router.post("/instruction/suivant")
async def take_next(
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    session: Annotated[str, Form()] = "",
    voie: Annotated[str, Form()] = "",
) -> Response:
    try:
        number = await next_dossier(db, client, user, _filter(session, voie))
    except BadQueryValue:
        number = None
    if number is None:
        return RedirectResponse(f"/staff/instruction{_query(session, voie, ok='vide')}", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(f"/staff/instruction/{number}{_query(session, voie)}", status.HTTP_303_SEE_OTHER)


async def _queue_page(
    request: Request,
    user: StaffUser,
    db: SessionDep,
    client: WorkflowClient,
    number: str,
    session: str,
    voie: str,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    try:
        remaining = await _remaining(client, _filter(session, voie))
    except BadQueryValue:
        remaining = 0
    queue: dict[str, Any] = {
        "session": session,
        "voie": voie,
        "remaining": remaining,
        "query": _query(session, voie),
    }
    return await _page(request, user, db, client, number, status_code, error, queue=queue)


@router.get("/instruction/{number}", response_class=HTMLResponse)
async def queue_dossier(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    session: str = "",
    voie: str = "",
) -> Response:
    """The claimed dossier: documents beside the decision form. Opening it renews the claim;
    a dossier another instructor holds is not shown here (the dossier page still is)."""
    number = number.upper()
    if not await instruction.claim(db, number, user.login, now()):
        who = await instruction.holder(db, number, now())
        message = (
            f"Ce dossier est en cours d'instruction par {await _name(db, who)}."
            if who
            else "Ce dossier a déjà reçu une décision depuis la file."
        )
        return render(
            request,
            "staff/instruction_taken.html",
            status_code=status.HTTP_409_CONFLICT,
            user=user,
            active="instruction",
            error=message,
            number=number,
            query=_query(session, voie),
        )
    return await _queue_page(request, user, db, client, number, session, voie)


@router.post("/instruction/{number}/decision", response_class=HTMLResponse)
async def queue_decide(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    form: Annotated[DecisionForm, Form()],
    session: Annotated[str, Form()] = "",
    voie: Annotated[str, Form()] = "",
) -> Response:
    """A decision, then the next dossier of the queue (or the queue page when none is left)."""
    number = number.upper()
    refused = await take_decision(client, db, user, number, form)
    if refused is not None:
        return await _queue_page(request, user, db, client, number, session, voie, *refused)
    following = await next_dossier(db, client, user, _filter(session, voie))
    if following is None:
        return RedirectResponse(f"/staff/instruction{_query(session, voie, ok='vide')}", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(
        f"/staff/instruction/{following}{_query(session, voie, ok='decision')}", status.HTTP_303_SEE_OTHER
    )


@router.post("/instruction/{number}/liberer")
async def queue_release(
    number: str,
    user: Instructor,
    db: SessionDep,
    session: Annotated[str, Form()] = "",
    voie: Annotated[str, Form()] = "",
) -> Response:
    """Give the dossier back to the queue (another instructor may take it at once)."""
    await instruction.release(db, number.upper(), user.login)
    return RedirectResponse(f"/staff/instruction{_query(session, voie, ok='libere')}", status.HTTP_303_SEE_OTHER)


async def _name(db: SessionDep, login: str) -> str:
    account = await db.get(StaffAccount, login)
    return f"{account.full_name} ({login})" if account else login


# ----------------------------------------------------------------------------- head of service
async def _decision_table(db: SessionDep) -> dict[str, Any]:
    """Decisions of the last STATS_DAYS days (Paris days) per instructor and per day."""
    today = now().astimezone(SERVICE_ZONE).date()
    first = today - timedelta(days=STATS_DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), SERVICE_ZONE)
    decisions = await instruction.decisions_since(db, since)
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for d in decisions:
        at = d.decided_at if d.decided_at.tzinfo else d.decided_at.replace(tzinfo=UTC)
        per_day[d.staff_login][at.astimezone(SERVICE_ZONE).date()] += 1
        per_kind[d.staff_login][d.kind] += 1
    logins = sorted(per_day)
    names = {a.login: a.full_name for a in await db.scalars(select(StaffAccount).where(StaffAccount.login.in_(logins)))}
    days = [first + timedelta(days=i) for i in range(STATS_DAYS)]
    return {
        "logins": logins,
        "names": names,
        "days": days,
        "per_day": per_day,
        "per_kind": per_kind,
        "day_totals": {day: sum(per_day[login][day] for login in logins) for day in days},
        "total": len(decisions),
    }


@router.get("/instruction-statistiques", response_class=HTMLResponse)
async def statistics(request: Request, user: Administrator, db: SessionDep) -> Response:
    """Decisions per instructor and per day over the last two weeks, with what each holds now."""
    return render(
        request,
        "staff/instruction_stats.html",
        user=user,
        active="instruction",
        claims=await instruction.active_claims(db, now()),
        **await _decision_table(db),
    )


@router.get("/instruction-statistiques.{extension}")
async def statistics_export(extension: str, user: Administrator, db: SessionDep) -> Response:
    fmt = export_format(extension)
    table = await _decision_table(db)
    header = ["Instructeur", "Identifiant", *(d.strftime("%d/%m/%Y") for d in table["days"]), "Total"]
    rows = [
        [
            table["names"].get(login, login),
            login,
            *(table["per_day"][login][d] for d in table["days"]),
            sum(table["per_day"][login].values()),
        ]
        for login in table["logins"]
    ]
    return download(fmt, "decisions-par-instructeur", header, rows)
