"""Bulk actions from the back office: start one, follow its progress (a campaign's list of them
is on its page, `web.staff.campaign_page`).

Each action is a `BatchWorkflow` (workflows/batch.py). Its workflow ID names the action, the
campaign and its scope (an exam, the results file's checksum): a second click while it runs
joins the running one; the same results file is never imported twice. The progress page asks
the workflow (a query) and refreshes itself while the action runs.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.documents import MAX_UPLOAD_BYTES
from domain.results_file import BadResultsFile, parse_results
from infra.database import get_campaign
from web.deps import ClientDep, FilesDep, SessionDep
from web.staff.campaign_page import campaign_or_404, campaign_page
from web.staff.deps import Instructor, Reader
from web.templating import DEFAULT_TIME_ZONE, batch_state, render
from workflows import names
from workflows.batch import BatchKind, BatchRequest, BatchState
from workflows.client import AlreadyStarted, Unavailable

log = logging.getLogger(__name__)
router = APIRouter()


@router.post("/sessions/{campaign_id}/lots", response_class=HTMLResponse)
async def start_batch(
    request: Request,
    campaign_id: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    files: FilesDep,
    kind: Annotated[str, Form()] = "",
    exam: Annotated[str, Form()] = "",
    fichier: Annotated[UploadFile | None, File()] = None,
) -> Response:
    campaign = await campaign_or_404(db, campaign_id)

    async def refuse(message: str, code: int = 422) -> Response:
        return await campaign_page(request, campaign_id, user, db, client, error=message, status_code=code)

    try:
        batch_kind = BatchKind(kind)
    except ValueError:
        return await refuse("Choisissez une action.")
    label = batch_kind.label
    request_ = BatchRequest(batch_kind, campaign.id, requested_by=user.signature)
    scope = ""
    once = False  # a later run takes dossiers that became eligible since
    if batch_kind in (BatchKind.CONVOCATIONS, BatchKind.EXAM_DAY):
        exam_date = campaign.exam(exam)
        if exam_date is None:
            what = "les convocations" if batch_kind is BatchKind.CONVOCATIONS else "les documents"
            return await refuse(f"Choisissez l'épreuve dont il faut préparer {what}.")
        request_.exam_code, scope = exam_date.code, exam_date.code
        label = f"{label} — {exam_date.label}"
    elif batch_kind is BatchKind.RESULTS:
        data = await fichier.read(MAX_UPLOAD_BYTES + 1) if fichier else b""
        if not data:
            return await refuse("Choisissez le fichier des résultats (CSV).")
        if len(data) > MAX_UPLOAD_BYTES:
            return await refuse("Le fichier dépasse 10 Mo : découpez-le.", 413)
        try:
            parsed = parse_results(data)
        except BadResultsFile as bad:
            return await refuse(f"Fichier de résultats illisible : {bad}")
        if not parsed.items:
            return await refuse("Le fichier ne contient aucune ligne de résultat.")
        checksum = hashlib.sha256(data).hexdigest()
        scope = checksum[:16]
        once = True  # the same file is imported once
        request_.file_ref, _ = files.save(data)
        request_.file_name = (fichier.filename or "resultats.csv")[-200:] if fichier else "resultats.csv"
        label = f"{label} — {request_.file_name}"
    workflow_id = names.batch_workflow_id(batch_kind.value, campaign.id, scope)
    try:
        await client.start_batch(workflow_id, BatchState(request_), once=once, label=label, by=user.signature)
    except AlreadyStarted:
        if request_.file_ref:
            files.delete(request_.file_ref)  # the copy just stored: the first import keeps its own
        return await refuse(
            "Ce fichier de résultats a déjà été importé : consultez le lot ci-dessous. Pour corriger des lignes, "
            "importez un fichier ne contenant que les lignes corrigées.",
            409,
        )
    except Unavailable as exc:
        log.error("Batch %s not started: %s", workflow_id, exc.__cause__)
        if request_.file_ref:
            files.delete(request_.file_ref)
        return await refuse(exc.message, 503)
    log.info("Batch %s started by %s", workflow_id, user.login)
    return RedirectResponse(f"/staff/lots/{workflow_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/lots/{workflow_id}/fichiers/{ref}")
async def batch_file(workflow_id: str, ref: str, user: Reader, client: ClientDep, files: FilesDep) -> Response:
    """A document the batch produced (exam-day lists): only those its progress names."""
    batch = await client.batch(workflow_id)
    output = next((o for o in batch.progress.outputs if o.ref == ref), None) if batch.progress else None
    if output is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document introuvable pour cette action groupée.")
    try:
        data = files.read(ref)
    except (OSError, ValueError) as exc:
        log.error("File %s of batch %s missing from the store: %s", ref, workflow_id, exc)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document introuvable dans le stockage.") from exc
    return Response(
        data,
        media_type=output.content_type,
        headers={
            "content-disposition": f'attachment; filename="{output.filename}"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )


@router.get("/lots/{workflow_id}", response_class=HTMLResponse)
async def batch_page(request: Request, workflow_id: str, user: Reader, client: ClientDep, db: SessionDep) -> Response:
    batch = await client.batch(workflow_id)
    campaign_id = batch.campaign_id
    campaign = await get_campaign(db, campaign_id) if campaign_id else None
    response = render(
        request,
        "staff/batch.html",
        user=user,
        active="sessions",
        workflow_id=workflow_id,
        label=batch.label,
        by=batch.by,
        running=batch.running,
        state=batch_state(batch.status),
        progress=batch.progress,
        failure=batch.failure,
        campaign_id=campaign_id,
        tz=campaign.time_zone if campaign else DEFAULT_TIME_ZONE,
    )
    if batch.running:
        response.headers["refresh"] = "3"  # no script on our pages: the browser reloads it
    return response
