"""The record of staff reads (RGPD): who opened which dossier, file or history, and when.

Reads are recorded by the pages that show a candidate's data (`web.staff.dossiers`,
`web.staff.operations`); this page, for administrators only, lists them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from infra.personal_data import READ_LABELS, staff_reads
from web.deps import SessionDep
from web.staff.deps import Auditor
from web.templating import render

router = APIRouter()


@router.get("/consultations", response_class=HTMLResponse)
async def reads_page(request: Request, user: Auditor, db: SessionDep, dossier: str = "", agent: str = "") -> Response:
    dossier, agent = dossier.strip().upper()[:32], agent.strip().lower()[:64]
    reads = await staff_reads(db, dossier_number=dossier, login=agent)
    return render(
        request,
        "staff/staff_reads.html",
        user=user,
        active="consultations",
        reads=reads,
        labels=READ_LABELS,
        dossier=dossier,
        agent=agent,
    )
