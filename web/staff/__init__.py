"""The back office of the service concours ("staff"): server-rendered French pages under /staff.

`router` gathers them; every form is CSRF-checked (`web.csrf.require_csrf`); who may reach what
is declared by each route through `web.staff.deps`.
"""

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse

from web.csrf import require_csrf
from web.staff import (
    access_map_files,
    auth,
    batches,
    campaign_glance,
    campaign_page,
    campaigns,
    deadline_extension,
    dossiers,
    exam_amendments,
    instruction,
    operations,
    staff_reads,
)

STYLESHEET = Path(__file__).parent / "staff.css"

router = APIRouter(prefix="/staff", dependencies=[Depends(require_csrf)], include_in_schema=False)
# `campaigns` before `campaign_page`: "/sessions/nouvelle" is no campaign's code.
for module in (
    auth,
    dossiers,
    instruction,
    campaigns,
    campaign_glance,
    campaign_page,
    deadline_extension,
    exam_amendments,
    access_map_files,
    batches,
    operations,
    staff_reads,
):
    router.include_router(module.router)


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/staff/dossiers", status_code=303)


@router.get("/staff.css")
async def stylesheet() -> FileResponse:
    """What the back office adds to the shared stylesheet: wide tables, previews, progress."""
    return FileResponse(STYLESHEET, media_type="text/css", headers={"cache-control": "public, max-age=3600"})
