"""Access maps of a campaign's exam venues: upload one per exam, read it back.

A map is a picture printed inside each convocation prepared afterwards (`infra.access_maps`
holds the rows, the file store the bytes); the campaign's page shows which exams have one.
"""

from __future__ import annotations

from typing import Annotated

import filetype
from fastapi import APIRouter, File, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.documents import MAX_UPLOAD_BYTES
from infra.access_maps import ACCESS_MAP_TYPES, ExamAccessMap
from web.deps import ClientDep, FilesDep, SessionDep
from web.middleware import UNTRUSTED_FILE_CSP
from web.staff.campaign_page import campaign_or_404, campaign_page
from web.staff.deps import Administrator, Reader

router = APIRouter()


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
    campaign = await campaign_or_404(db, campaign_id)
    if campaign.exam(exam_code) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Épreuve introuvable.")
    data = await plan.read(MAX_UPLOAD_BYTES + 1)
    kind = filetype.guess(data) if data else None
    problem = None
    if len(data) > MAX_UPLOAD_BYTES:
        problem = "Le plan dépasse 10 Mo."
    elif kind is None or kind.mime not in ACCESS_MAP_TYPES:
        problem = (
            "Le plan d'accès doit être une image PNG, JPEG ou GIF : il est imprimé dans la convocation "
            "(un PDF ne pourrait pas l'être)."
        )
    if problem or kind is None:  # no guessed type is always a problem; the test also narrows `kind`
        return await campaign_page(request, campaign_id, user, db, client, error=problem, status_code=415)
    ref, _ = files.save(data)
    row = await db.get(ExamAccessMap, (campaign.id, exam_code))
    if row is None:
        db.add(
            ExamAccessMap(
                campaign_id=campaign.id,
                exam_code=exam_code,
                ref=ref,
                filename=(plan.filename or "plan")[-200:],
                content_type=kind.mime,
            )
        )
    else:
        row.ref, row.filename, row.content_type = ref, (plan.filename or "plan")[-200:], kind.mime
    await db.commit()
    return RedirectResponse(f"/staff/sessions/{campaign.id}?ok=plan", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/sessions/{campaign_id}/plans/{exam_code}")
async def access_map(campaign_id: str, exam_code: str, user: Reader, db: SessionDep, files: FilesDep) -> Response:
    row = await db.get(ExamAccessMap, (campaign_id, exam_code))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Aucun plan d'accès pour cette épreuve.")
    return Response(
        files.read(row.ref),
        media_type=row.content_type,
        headers={
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
            "content-security-policy": UNTRUSTED_FILE_CSP,  # an uploaded file: sandboxed too
        },
    )
