"""Bulk actions from the back office: start one, follow its progress (a campaign's list of them
is on its page, `web.staff.batch_runs`).

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
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.results_file import BadResultsFile, parse_results
from domain.documents import MAX_UPLOAD_BYTES
from infra.database import get_campaign
from web.deps import FilesDep, SessionDep, SettingsDep
from web.dossiers import UNAVAILABLE
from web.staff.batch_runs import execution_label
from web.staff.campaign_page import campaign_or_404, campaign_page
from web.staff.deps import ClientDep, Instructor, Reader
from web.templating import DEFAULT_TIME_ZONE, render
from workflows import names
from workflows.batch import BatchKind, BatchProgress, BatchRequest, BatchState, BatchWorkflow

log = logging.getLogger(__name__)
router = APIRouter()

@router.post("/sessions/{campaign_id}/lots", response_class=HTMLResponse)
async def start_batch(
    request: Request,
    campaign_id: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    settings: SettingsDep,
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
    reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE  # a later run takes dossiers that became eligible since
    if batch_kind is BatchKind.CONVOCATIONS:
        exam_date = campaign.exam(exam)
        if exam_date is None:
            return await refuse("Choisissez l'épreuve dont il faut préparer les convocations.")
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
        reuse = WorkflowIDReusePolicy.REJECT_DUPLICATE  # the same file is imported once
        request_.file_ref, _ = files.save(data)
        request_.file_name = (fichier.filename or "resultats.csv")[-200:] if fichier else "resultats.csv"
        label = f"{label} — {request_.file_name}"
    workflow_id = names.batch_workflow_id(batch_kind.value, campaign.id, scope)
    try:
        await client.start_workflow(
            BatchWorkflow.run,
            BatchState(request_),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=reuse,
            search_attributes=TypedSearchAttributes([SearchAttributePair(names.CAMPAIGN, campaign.id)]),
            memo={"label": label, "by": user.signature, "kind": batch_kind.value},
        )
    except WorkflowAlreadyStartedError:
        if request_.file_ref:
            files.delete(request_.file_ref)  # the copy just stored: the first import keeps its own
        return await refuse(
            "Ce fichier de résultats a déjà été importé : consultez le lot ci-dessous. Pour corriger des lignes, "
            "importez un fichier ne contenant que les lignes corrigées.", 409,
        )
    except RPCError as exc:
        log.error("Batch %s not started: %s", workflow_id, exc)
        if request_.file_ref:
            files.delete(request_.file_ref)
        return await refuse(UNAVAILABLE, 503)
    log.info("Batch %s started by %s", workflow_id, user.login)
    return RedirectResponse(f"/staff/lots/{workflow_id}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/lots/{workflow_id}", response_class=HTMLResponse)
async def batch_page(request: Request, workflow_id: str, user: Reader, client: ClientDep, db: SessionDep) -> Response:
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Action groupée introuvable.") from exc
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc
    if description.workflow_type != names.BATCH_WORKFLOW:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Action groupée introuvable.")
    memo = await description.memo()
    running = description.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW)
    progress: BatchProgress | None = None
    failure = None
    try:
        progress = await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)
    except RPCError as exc:
        log.warning("Batch %s: progress query failed (%s)", workflow_id, exc)
    except Exception as exc:  # a failed run cannot always answer; its failure says why
        log.warning("Batch %s: progress query failed (%s)", workflow_id, exc)
    if description.status == WorkflowExecutionStatus.FAILED:
        try:
            await handle.result()
        except WorkflowFailureError as exc:
            failure = getattr(exc.cause, "message", None) or str(exc.cause)
    campaign_id = description.typed_search_attributes.get(names.CAMPAIGN) or ""
    campaign = await get_campaign(db, campaign_id) if campaign_id else None
    response = render(
        request, "staff/batch.html", user=user, active="sessions", workflow_id=workflow_id,
        label=memo.get("label", workflow_id), by=memo.get("by", ""), running=running,
        state=execution_label(description.status),
        progress=progress, failure=failure, campaign_id=campaign_id,
        tz=campaign.time_zone if campaign else DEFAULT_TIME_ZONE,
    )
    if running:
        response.headers["refresh"] = "3"  # no script on our pages: the browser reloads it
    return response
