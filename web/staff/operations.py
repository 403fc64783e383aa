"""Operators' pages: a dossier's workflow history in plain words, its JSON export, health, and
the live view of the current campaigns (`ops/live.py`).

The history is read from Temporal (`fetch_history`) at each visit: it is the dossier's
authoritative record. The export is the SDK's own JSON, which `python -m ops.replay_check`
and the Temporal tools read back.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.campaign import Campaign
from infra.clock import now
from infra.database import list_campaigns
from infra.personal_data import record_read
from ops import live
from ops.health import run_checks
from ops.history import ERROR, describe, time_zone_of
from web.deps import ClientDep, SessionDep, SettingsDep
from web.metrics import own_figures
from web.staff.deps import Operator
from web.templating import render
from workflows import names

router = APIRouter()


def temporal_ui_link(ui_url: str, namespace: str, workflow_id: str, run_id: str) -> str:
    return (
        f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}"
        f"/workflows/{quote(workflow_id, safe='')}/{quote(run_id)}/history"
    )


@router.get("/dossiers/{number}/historique", response_class=HTMLResponse)
async def history_page(
    request: Request,
    number: str,
    user: Operator,
    db: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    details: int = 0,
) -> Response:
    number = number.upper()
    description, history = await client.history(names.dossier_workflow_id(number))
    await record_read(db, user.login, number, "historique")  # the history holds the candidate's data
    tz = time_zone_of(history.events)
    lines = describe(history.events, tz)
    shown = lines if details else [line for line in lines if line.level != "technique"]
    return render(
        request,
        "staff/history.html",
        user=user,
        active="dossiers",
        number=number,
        lines=shown,
        total_events=len(history.events),
        errors=sum(1 for line in lines if line.level == ERROR),
        details=bool(details),
        ui_link=temporal_ui_link(settings.temporal_ui_url, client.namespace, description.id, description.run_id),
        run_id=description.run_id,
        tz=tz,
    )


@router.get("/dossiers/{number}/historique.json")
async def history_export(number: str, user: Operator, db: SessionDep, client: ClientDep) -> Response:
    number = number.upper()
    _, history = await client.history(names.dossier_workflow_id(number))
    await record_read(db, user.login, number, "historique_json")
    return Response(
        history.to_json(),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{number}.json"'},
    )


@router.get("/sante", response_class=HTMLResponse)
async def health_page(request: Request, user: Operator, client: ClientDep, settings: SettingsDep) -> Response:
    checks = await run_checks(client.temporal, request.app.state.database, settings)
    healthy = all(c.ok for c in checks)
    return render(
        request,
        "staff/health.html",
        status_code=200 if healthy else 503,
        user=user,
        active="sante",
        checks=checks,
        healthy=healthy,
    )


@router.get("/sante.json")
async def health_json(request: Request, user: Operator, client: ClientDep, settings: SettingsDep) -> Response:
    checks = await run_checks(client.temporal, request.app.state.database, settings)
    healthy = all(c.ok for c in checks)
    return JSONResponse(
        {"ok": healthy, "checks": [c.__dict__ for c in checks]},
        status_code=200 if healthy else 503,
    )


LIVE_REFRESH_SECONDS = 30


@router.get("/direct", response_class=HTMLResponse)
async def live_page(
    request: Request,
    user: Operator,
    db: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
    auto: int = 1,
    session: str = "",
) -> Response:
    # Counts only: nothing personal is shown, so nothing goes to the consultations register.
    at = now()
    current = live.current_campaigns(await list_campaigns(db), at)
    if session:  # one campaign among several current ones (`?session=<id>`)
        campaigns, others = [c for c in current if c.id == session], list[Campaign]()
    else:
        campaigns, others = live.most_pressing(current, at)
    figures = await live.gather(
        client,
        campaigns,
        settings.live_view_worker_urls,
        settings.live_view_web_urls,
        own_figures(request.app),
        at,
    )
    return render(
        request,
        "staff/live.html",
        user=user,
        active="direct",
        f=figures,
        others=others,
        at=at.astimezone(figures.tz),
        refresh=LIVE_REFRESH_SECONDS if auto else 0,
        query=f"session={quote(session)}&" if session else "",
        window_hours=int(live.WINDOW.total_seconds() // 3600),
    )
