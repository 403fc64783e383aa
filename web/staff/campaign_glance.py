"""A campaign at a glance (« Vue d'ensemble »): pre-registrations and validations per day as a
chart drawn on the server (SVG, matplotlib; no script) with the same figures in a table, counts
per status and route, the dossiers waiting for a decision, and each exam's convocations.

Dossiers come from one visibility listing (their start is the pre-registration, `ValidatedAt`
the validation); prepared convocations from the letters' records (`generated_documents`).
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from domain.campaign import Campaign
from domain.exams import convened_statuses
from domain.glance import Day, ExamConvocations, daily, exam_convocations
from domain.status import Status
from infra.clock import now
from infra.generated_documents import GeneratedDocument
from web.deps import ClientDep, SessionDep
from web.staff.campaign_page import campaign_or_404
from web.staff.deps import Reader
from web.templating import render
from workflows.client import WorkflowClient
from workflows.visibility import DossierFilter

router = APIRouter()


@dataclass
class Glance:
    days: list[Day]
    by_status: Counter[Status]
    by_route: Counter[str]
    total: int
    waiting: int
    exams: list[ExamConvocations]


async def _prepared(db: SessionDep, keys: list[str]) -> int:
    found = 0
    for start in range(0, len(keys), 500):  # bounded IN lists
        found += (
            await db.scalar(
                select(func.count())
                .select_from(GeneratedDocument)
                .where(GeneratedDocument.key.in_(keys[start : start + 500]))
            )
            or 0
        )
    return found


async def glance(db: SessionDep, client: WorkflowClient, campaign: Campaign) -> Glance:
    rows = await client.dossier_rows(DossierFilter(campaign_id=campaign.id))
    by_status: Counter[Status] = Counter(r.status for r in rows if r.status is not None)
    numbers = [r.number for r in rows]
    at = now()
    exams = [
        exam_convocations(
            exam.code,
            exam.label,
            exam.starts_at,
            campaign.convocation_lead,
            convened=sum(by_status[s] for s in convened_statuses(exam.kind)),
            deposited=await _prepared(db, [f"{n}/convocation/{exam.code}" for n in numbers]),
            now=at,
        )
        for exam in campaign.exams
    ]
    return Glance(
        days=daily(
            (r.started_at for r in rows if r.started_at),
            (r.validated_at for r in rows if r.validated_at),
            campaign.time_zone,
        ),
        by_status=by_status,
        by_route=Counter(r.route for r in rows),
        total=len(rows),
        waiting=by_status[Status.IN_INSTRUCTION],
        exams=exams,
    )


def chart_svg(days: list[Day], title: str) -> bytes:
    """Two bar series per day. Matplotlib's object API (no pyplot: no global state, safe in a
    thread) with the Agg-family SVG canvas; text kept as text so the SVG stays searchable."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(9, 3.6), dpi=100)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [d.preregistrations for d in days],
        width,
        label="Préinscriptions",
        color="#000091",
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [d.validations for d in days],
        width,
        label="Validations",
        color="#e1000f",
        hatch="//",
    )
    step = max(1, len(days) // 12)
    axes.set_xticks(positions[::step], [d.day.strftime("%d/%m") for d in days[::step]], rotation=45, ha="right")
    axes.set_ylabel("Dossiers")
    axes.set_title(title)
    axes.legend()
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole dossiers
    figure.tight_layout()
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(out, format="svg")
    return out.getvalue()


@router.get("/sessions/{campaign_id}/apercu", response_class=HTMLResponse)
async def glance_page(request: Request, campaign_id: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    campaign = await campaign_or_404(db, campaign_id)
    figures = await glance(db, client, campaign)
    routes: dict[str, Any] = {r.code: r.label for r in campaign.routes}
    return render(
        request,
        "staff/campaign_glance.html",
        user=user,
        active="sessions",
        campaign=campaign,
        g=figures,
        statuses=list(Status),
        routes=routes,
        tz=campaign.time_zone,
    )


@router.get("/sessions/{campaign_id}/apercu.svg")
async def glance_chart(campaign_id: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    campaign = await campaign_or_404(db, campaign_id)
    figures = await glance(db, client, campaign)
    svg = await asyncio.to_thread(
        chart_svg, figures.days, f"{campaign.grade} — préinscriptions et validations par jour"
    )
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, max-age=60"})
