"""Dossier lists and the dossier page: read, decide, deposit letters, record a result.

Lists come from visibility (`Directory`); a dossier is read with the workflow's query; every
change is an Update whose refusal the page shows as the workflow worded it. Each form carries a
random request ID used as the Update ID: a double submission is answered by the server with
the first outcome instead of a puzzling refusal.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError

from activities.letters import DepositRefused, Issued
from domain.campaign import ExamKind
from domain.documents import CentreDocumentKind
from domain.dossier import Decision, DecisionKind, Dossier, ExamResult, Refusal
from domain.marks import Mark, MarkOutOfRange, UnreadableMark, parse_mark
from domain.status import Status
from infra.access_maps import access_maps
from infra.clock import now
from infra.database import StoredFile, get_campaign, list_campaigns
from letters.result import LABELS as RESULT_LABELS
from web.deps import FilesDep, SessionDep
from web.dossiers import UNAVAILABLE, dossier_handle, workflow_errors
from web.staff.deps import ClientDep, Instructor, IssuerDep, Reader, StaffUser
from web.staff.directory import Directory
from web.staff.forms import FormError, parse_local
from web.templating import render
from workflows.dossier import Ack, DossierWorkflow, ResultEntry
from workflows.visibility import DossierFilter

log = logging.getLogger(__name__)
router = APIRouter()

FLASH = {
    "decision": "La décision est enregistrée dans le dossier.",
    "courrier": "Le document est déposé dans l'espace du candidat.",
    "deja": "Ce document était déjà déposé dans le dossier.",
    "resultat": "Le résultat est enregistré et le courrier de résultat déposé.",
}

DECISION_LABELS = {
    DecisionKind.COMPLETE: "Dossier complet",
    DecisionKind.INCOMPLETE: "Dossier incomplet : demander des pièces",
    DecisionKind.REJECT: "Rejeter le dossier",
    DecisionKind.NON_CONFORMING: "Dossier non conforme",
    DecisionKind.ADMIT: "Admettre à concourir",
    DecisionKind.ADMIT_UNDER_RESERVE: "Admettre à concourir sous réserve",
}


# ----------------------------------------------------------------------------- messages
_REQUEST_ID = re.compile(r"^[a-z0-9-]{8,80}$")


async def send_update(client: Client, number: str, update: Any, arg: Any, request_id: str) -> Ack:
    """An Update under the form's request ID; a refusal becomes HTTP 409 with its message.
    The "staff/" prefix keeps form IDs apart from the bulk actions' and the letters' IDs."""
    update_id = f"staff/{request_id}" if _REQUEST_ID.match(request_id or "") else None
    with workflow_errors():
        return await dossier_handle(client, number).execute_update(update, arg, id=update_id)


def available_decisions(dossier: Dossier) -> list[DecisionKind]:
    """The decisions the dossier's rules allow now, probed with well-formed decisions (the
    form only offers these; the workflow still has the last word)."""
    t = now()
    first = dossier.route.documents[0].code if dossier.route.documents else ""
    kinds = []
    for kind in DecisionKind:
        probe = Decision(kind, by="", reasons="motif", missing=[first], deadline=t + timedelta(days=365))
        try:
            dossier.check_decide(probe, t)
            kinds.append(kind)
        except Refusal:
            pass
    return kinds


def available_results(dossier: Dossier) -> list[ExamResult]:
    results = []
    for result in ExamResult:
        try:
            dossier.check_result(result, now())
            results.append(result)
        except Refusal:
            pass
    return results


# ----------------------------------------------------------------------------- list
@router.get("/dossiers", response_class=HTMLResponse)
async def dossier_list(
    request: Request,
    user: Reader,
    db: SessionDep,
    client: ClientDep,
    session: str = "",
    statut: str = "",
    voie: str = "",
    q: str = "",
    apres: str = "",
) -> Response:
    campaigns = await list_campaigns(db)
    campaign = next((c for c in campaigns if c.id == session), None)
    try:
        statuses = [Status(statut)] if statut else []
    except ValueError:
        statuses = []
    f = DossierFilter(campaign_id=campaign.id if campaign else None, statuses=statuses, route=voie or None, search=q[:100])
    directory = Directory(client)
    try:
        page = await directory.page(f, apres)
        counts = await directory.counts(f)
    except RPCError as exc:
        log.error("Visibility query failed: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Filtre invalide.") from None
    labels = {c.id: {r.code: r.label for r in c.routes} for c in campaigns}
    return render(
        request, "staff/dossiers.html", user=user, active="dossiers",
        campaigns=campaigns, campaign=campaign, statuses=list(Status), statut=statut, voie=voie, q=q,
        page=page, counts=counts, total=sum(counts.values()), route_labels=labels, first_page=not apres,
    )


# ----------------------------------------------------------------------------- dossier
async def _view(client: Client, number: str) -> Dossier:
    with workflow_errors():
        return await dossier_handle(client, number).query(DossierWorkflow.view)


async def _page(request: Request, user: StaffUser, db: SessionDep, client: Client, number: str,
                status_code: int = 200, error: str | None = None) -> Response:
    dossier = await _view(client, number)
    refs = [u.ref for u in dossier.uploads] + [d.ref for d in dossier.documents]
    stored = {}
    if refs:
        stored = {f.ref: f for f in await db.scalars(select(StoredFile).where(StoredFile.ref.in_(refs)))}
    campaign = await get_campaign(db, dossier.campaign.id) or dossier.campaign
    kinds_present = {d.kind for d in dossier.documents}
    by_category = {c.code: [u for u in dossier.uploads if u.category == c.code] for c in dossier.route.documents}
    return render(
        request, "staff/dossier.html", status_code=status_code, user=user, active="dossiers",
        error=error, flash=FLASH.get(request.query_params.get("ok", "")),
        dossier=dossier, tz=dossier.campaign.time_zone, now=now(), stored=stored, by_category=by_category,
        decisions=available_decisions(dossier) if user.may("instruire") else [],
        decision_labels=DECISION_LABELS, results=available_results(dossier) if user.may("instruire") else [],
        result_labels=RESULT_LABELS, exams=campaign.exams, ExamKind=ExamKind,
        missing_regularisation_letter=dossier.status is Status.INCOMPLETE and CentreDocumentKind.REGULARISATION not in kinds_present,
        missing_rejection_letter=dossier.status in (Status.REJECTED, Status.NON_CONFORMING)
        and CentreDocumentKind.REJECTION_LETTER not in kinds_present,
        request_id=uuid.uuid4().hex,
    )


@router.get("/dossiers/{number}", response_class=HTMLResponse)
async def dossier_page(request: Request, number: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    return await _page(request, user, db, client, number.upper())


def _redirect(number: str, ok: str) -> Response:
    return RedirectResponse(f"/staff/dossiers/{number}?ok={ok}#haut", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/dossiers/{number}/decision", response_class=HTMLResponse)
async def decide(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    issuer: IssuerDep,
    kind: Annotated[str, Form()] = "",
    reasons: Annotated[str, Form()] = "",
    missing: Annotated[list[str] | None, Form()] = None,
    deadline: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    number = number.upper()
    try:
        decision_kind = DecisionKind(kind)
    except ValueError:
        return await _page(request, user, db, client, number, 422, "Choisissez une décision.")
    dossier = await _view(client, number)
    try:
        when = parse_local(deadline, dossier.campaign.time_zone, "Date limite de la demande de pièces") \
            if decision_kind is DecisionKind.INCOMPLETE and deadline.strip() else None
    except FormError as bad:
        return await _page(request, user, db, client, number, 422, str(bad))
    decision = Decision(decision_kind, by=user.signature, reasons=reasons.strip(), missing=missing or [], deadline=when)
    try:
        await send_update(client, number, DossierWorkflow.decide, decision, request_id)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_409_CONFLICT:
            return await _page(request, user, db, client, number, 409, exc.detail)
        raise
    log.info("Dossier %s: decision %s by %s", number, decision_kind.value, user.login)
    # The letter that goes with the decision. Should this fail, the page offers to deposit it.
    try:
        if decision_kind is DecisionKind.INCOMPLETE:
            await issuer.regularisation(await _view(client, number))
        elif decision_kind in (DecisionKind.REJECT, DecisionKind.NON_CONFORMING):
            await issuer.rejection(await _view(client, number))
    except (DepositRefused, RPCError, OSError) as exc:
        log.error("Dossier %s: letter of decision %s not deposited (%s)", number, decision_kind.value, exc)
    return _redirect(number, "decision")


@router.post("/dossiers/{number}/resultat", response_class=HTMLResponse)
async def record_result(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    issuer: IssuerDep,
    result: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    number = number.upper()
    try:
        exam_result = ExamResult(result)
    except ValueError:
        return await _page(request, user, db, client, number, 422, "Choisissez un résultat.")
    try:
        await send_update(client, number, DossierWorkflow.record_result, ResultEntry(exam_result, user.signature), request_id)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_409_CONFLICT:
            return await _page(request, user, db, client, number, 409, exc.detail)
        raise
    try:
        await issuer.result_letter(await _view(client, number), exam_result)
    except (DepositRefused, RPCError, OSError) as exc:  # the result stands; the page offers the letter
        log.error("Dossier %s: result letter not deposited (%s)", number, exc)
    return _redirect(number, "resultat")


def _marks(text: str) -> list[Mark]:
    """« Épreuve ; note » lines (or « épreuve = note »), each mark as `parse_mark` reads it."""
    marks = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        test, _, raw = line.rpartition(";") if ";" in line else line.rpartition("=")
        if not test.strip():
            raise FormError(f"« {line.strip()} » : écrivez « épreuve ; note ».")
        try:
            marks.append(Mark(test.strip(), parse_mark(raw)))
        except UnreadableMark:
            raise FormError(f"« {line.strip()} » : la note doit être un nombre (ou ABS).") from None
        except MarkOutOfRange:
            raise FormError(f"« {line.strip()} » : la note doit être comprise entre 0 et 20.") from None
    if not marks:
        raise FormError("Indiquez au moins une note, une épreuve par ligne : « épreuve ; note ».")
    return marks


@router.post("/dossiers/{number}/courriers", response_class=HTMLResponse)
async def deposit_letter(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    issuer: IssuerDep,
    letter: Annotated[str, Form()] = "",
    exam: Annotated[str, Form()] = "",
    marks: Annotated[str, Form()] = "",
) -> Response:
    number = number.upper()
    dossier = await _view(client, number)
    campaign = await get_campaign(db, dossier.campaign.id) or dossier.campaign
    exam_date = campaign.exam(exam) if exam else None
    try:
        issued: Issued
        if letter == "regularisation":
            issued = await issuer.regularisation(dossier)
        elif letter == "rejet":
            issued = await issuer.rejection(dossier)
        elif letter in ("convocation", "attestation"):
            if exam_date is None:
                raise FormError("Choisissez une épreuve de la session.")
            if letter == "convocation":
                maps = await access_maps(db, campaign.id)
                access_map = request.app.state.files.read(maps[exam_date.code].ref) if exam_date.code in maps else None
                issued = await issuer.convocation(dossier, exam_date, access_map)
            else:
                issued = await issuer.attendance(dossier, exam_date)
        elif letter == "releve":
            result = {
                Status.ADMISSIBLE: ExamResult.ADMISSIBLE, Status.NOT_ADMISSIBLE: ExamResult.NOT_ADMISSIBLE,
                Status.PASSED: ExamResult.PASSED, Status.FAILED: ExamResult.FAILED,
            }.get(dossier.status)
            if result is None:
                raise FormError("Le relevé de notes suit un résultat : enregistrez d'abord le résultat.")
            issued = await issuer.transcript(dossier, _marks(marks), result)
        else:
            raise FormError("Choisissez un document à déposer.")
    except FormError as bad:
        return await _page(request, user, db, client, number, 422, str(bad))
    except DepositRefused as refused:
        return await _page(request, user, db, client, number, 409, refused.message)
    log.info("Dossier %s: %s deposited by %s (%s)", number, issued.title, user.login, issued.ref)
    return _redirect(number, "courrier" if issued.deposited else "deja")


@router.get("/dossiers/{number}/fichiers/{ref}")
async def dossier_file(number: str, ref: str, user: Reader, db: SessionDep, files: FilesDep, telecharger: int = 0) -> Response:
    """A file of the dossier, inline for the page's preview (images, PDFs in a frame)."""
    stored = await db.get(StoredFile, ref)
    if stored is None or stored.dossier_number != number.upper():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Fichier introuvable dans ce dossier.")
    try:
        data = files.read(ref)
    except (OSError, ValueError) as exc:
        log.error("File %s of dossier %s missing from the store: %s", ref, number, exc)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Fichier introuvable dans le stockage.") from exc
    disposition = "attachment" if telecharger else "inline"
    safe_name = stored.filename.encode("ascii", "replace").decode().replace('"', "'")
    return Response(
        data,
        media_type=stored.content_type,
        headers={
            "content-disposition": f'{disposition}; filename="{safe_name}"',
            # The dossier page frames PDFs: framing by our own pages only. The file is a PDF or
            # an image (sniffed at upload), served with its recorded type, never sniffed again.
            "content-security-policy": "frame-ancestors 'self'",
            "x-frame-options": "SAMEORIGIN",
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
