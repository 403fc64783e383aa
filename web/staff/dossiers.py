"""Dossier lists and the dossier page: read, decide, deposit letters, record a result.

Lists come from visibility; a dossier is read with the workflow's query; every change is an
Update whose refusal the page shows as the workflow worded it. Letters are printed and deposited
by the dossier's workflow (the one of a decision or a result by itself, others on request). Each
form carries a random request ID used as the Update ID: a double submission is answered by the
server with the first outcome instead of a puzzling refusal.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from domain.accommodations import (
    CERTIFICATE_LABEL,
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
)
from domain.campaign import Campaign
from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocumentKind
from domain.dossier import Refusal
from domain.exams import ExamResult
from domain.letters import LetterKind, LetterOrder, exam_letters
from domain.marks import Mark, MarkOutOfRange, UnreadableMark, parse_mark
from domain.status import Status
from infra import instruction
from infra.clock import now
from infra.database import StoredFile, list_campaigns
from infra.personal_data import record_read
from letters.result import LABELS as RESULT_LABELS
from web import replacement
from web.deps import ClientDep, FilesDep, SessionDep
from web.exports import download, export_format
from web.middleware import UNTRUSTED_FILE_CSP
from web.staff.deps import Instructor, Reader, StaffUser
from web.staff.forms import FormError, parse_local
from web.templating import render
from workflows.client import DossierRow, WorkflowClient
from workflows.dossier import DossierWorkflow, ResultEntry
from workflows.visibility import BadQueryValue, DossierFilter

log = logging.getLogger(__name__)
router = APIRouter()

FLASH = {
    "decision": "La décision est enregistrée dans le dossier.",
    "courrier": "Le document est déposé dans l'espace du candidat.",
    "deja": "Ce document était déjà déposé dans le dossier.",
    "resultat": "Le résultat est enregistré et le courrier de résultat déposé.",
    "amenagements": "La décision sur les aménagements est enregistrée ; le candidat en est informé par mail.",
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
class DecisionForm(BaseModel):
    """The decision form, the same on the dossier page and in the instruction queue."""

    kind: str = ""
    reasons: str = ""
    missing: list[str] = []
    deadline: str = ""
    request_id: str = ""


_REQUEST_ID = re.compile(r"^[a-z0-9-]{8,80}$")


async def send_update(client: WorkflowClient, number: str, update: Any, arg: Any, request_id: str) -> Any:
    """An Update under the form's request ID (a refusal comes back as `Refusal`). The "staff/"
    prefix keeps form IDs apart from the bulk actions' and the letters' IDs."""
    update_id = f"staff/{request_id}" if _REQUEST_ID.match(request_id or "") else None
    return await client.update(number, update, arg, update_id=update_id)


# ----------------------------------------------------------------------------- list
def _list_filter(campaigns: list[Campaign], session: str, statut: str, voie: str, q: str) -> DossierFilter:
    campaign = next((c for c in campaigns if c.id == session), None)
    try:
        statuses = [Status(statut)] if statut else []
    except ValueError:
        statuses = []
    return DossierFilter(
        campaign_id=campaign.id if campaign else None, statuses=statuses, route=voie or None, search=q[:100]
    )


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
    f = _list_filter(campaigns, session, statut, voie, q)
    try:
        page = await client.dossier_page(f, apres)
        counts = await client.counts_by_status(f)
    except BadQueryValue:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Filtre invalide.") from None
    labels = {c.id: {r.code: r.label for r in c.routes} for c in campaigns}
    # One registration per grade: a person with two open dossiers for one grade is marked.
    doubled = await replacement.duplicated(db, [row.number for row in page.rows])
    await db.commit()
    return render(
        request,
        "staff/dossiers.html",
        user=user,
        active="dossiers",
        campaigns=campaigns,
        campaign=campaign,
        statuses=list(Status),
        statut=statut,
        voie=voie,
        q=q,
        page=page,
        counts=counts,
        total=sum(counts.values()),
        route_labels=labels,
        first_page=not apres,
        doubled=doubled,
        export_query=urlencode(
            {k: v for k, v in {"session": session, "statut": statut, "voie": voie, "q": q}.items() if v}
        ),
    )


@router.get("/dossiers.{extension}")
async def dossier_list_export(
    extension: str,
    user: Reader,
    db: SessionDep,
    client: ClientDep,
    session: str = "",
    statut: str = "",
    voie: str = "",
    q: str = "",
) -> Response:
    """The whole list with the page's filters (every page of it), as CSV or XLSX."""
    fmt = export_format(extension)
    campaigns = await list_campaigns(db)
    by_id = {c.id: c for c in campaigns}
    try:
        rows = await client.dossier_rows(_list_filter(campaigns, session, statut, voie, q))
    except BadQueryValue:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Filtre invalide.") from None

    def local(instant: datetime | None, campaign_id: str) -> datetime | None:
        zone = by_id[campaign_id].time_zone if campaign_id in by_id else "Europe/Paris"
        return instant.astimezone(ZoneInfo(zone)) if instant else None

    def route_label(row: DossierRow) -> str:
        c = by_id.get(row.campaign_id)
        route = c.route(row.route) if c else None
        return route.label if route else row.route

    return download(
        fmt,
        f"dossiers-{session}" if session else "dossiers",
        ["N° de dossier", "Candidat(e)", "Session", "Voie", "Statut", "Préinscription", "Validation", "Archivé"],
        (
            [
                r.number,
                r.name,
                r.campaign_id,
                route_label(r),
                r.status.label if r.status else "",
                local(r.started_at, r.campaign_id),
                local(r.validated_at, r.campaign_id),
                "non" if r.running else "oui",
            ]
            for r in rows
        ),
    )


# ----------------------------------------------------------------------------- dossier
async def _page(
    request: Request,
    user: StaffUser,
    db: SessionDep,
    client: WorkflowClient,
    number: str,
    status_code: int = 200,
    error: str | None = None,
    queue: dict[str, Any] | None = None,
) -> Response:
    """The dossier page; in the instruction queue (`queue`: its filters, what remains), its
    decisions go to the queue, which opens the next dossier after each."""
    dossier, printing = await asyncio.gather(client.view(number), client.pending_letters(number))
    refs = [u.ref for u in dossier.uploads] + [d.ref for d in dossier.documents]
    stored = {}
    if refs:
        stored = {f.ref: f for f in await db.scalars(select(StoredFile).where(StoredFile.ref.in_(refs)))}
    others = await replacement.other_dossiers(db, number)
    pending_for = {r.later for r in await replacement.pending(db, number)}
    await db.commit()
    kinds_present = {d.kind for d in dossier.documents}
    by_category = {c.code: [u for u in dossier.uploads if u.category == c.code] for c in dossier.route.documents}
    response = render(
        request,
        "staff/dossier.html",
        status_code=status_code,
        user=user,
        active="dossiers",
        error=error,
        flash=FLASH.get(request.query_params.get("ok", "")),
        dossier=dossier,
        tz=dossier.campaign.time_zone,
        now=now(),
        stored=stored,
        by_category=by_category,
        decisions=dossier.available_decisions(now()) if user.may("instruire") else [],
        decision_labels=DECISION_LABELS,
        results=dossier.available_results(now()) if user.may("instruire") else [],
        result_labels=RESULT_LABELS,
        # The convocations and attendance certificates the dossier's rules take now, per exam.
        exam_letters=exam_letters(dossier, now()) if user.may("instruire") else [],
        printing=[kind.document_kind.label for kind in printing],
        missing_regularisation_letter=not printing
        and dossier.status is Status.INCOMPLETE
        and CentreDocumentKind.REGULARISATION not in kinds_present,
        missing_rejection_letter=not printing
        and dossier.status in (Status.REJECTED, Status.NON_CONFORMING)
        and CentreDocumentKind.REJECTION_LETTER not in kinds_present,
        request_id=uuid.uuid4().hex,
        others=others,
        pending_for=pending_for,
        certificate_label=CERTIFICATE_LABEL,
        accommodation_outcomes=list(AccommodationOutcome),
        queue=queue,
    )
    if printing and queue is None:
        # No script on our pages: the browser reloads it. An explicit URL, because a reload of
        # the page's "#haut" address would only scroll.
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response.headers["refresh"] = f"2; url={here}"
    return response


@router.get("/dossiers/{number}", response_class=HTMLResponse)
async def dossier_page(request: Request, number: str, user: Reader, db: SessionDep, client: ClientDep) -> Response:
    number = number.upper()
    response = await _page(request, user, db, client, number)
    # Recorded once the dossier was read (an unknown number reads nothing; RGPD, README).
    await record_read(db, user.login, number, "dossier")
    return response


def _redirect(number: str, ok: str) -> Response:
    return RedirectResponse(f"/staff/dossiers/{number}?ok={ok}#haut", status_code=status.HTTP_303_SEE_OTHER)


async def take_decision(
    client: WorkflowClient,
    db: SessionDep,
    user: StaffUser,
    number: str,
    form: DecisionForm,
) -> tuple[int, str] | None:
    """Send a decision form to the dossier (which prints the letter that goes with it) and count
    it for the head of service; (HTTP status, French message) when it cannot be taken."""
    try:
        decision_kind = DecisionKind(form.kind)
    except ValueError:
        return 422, "Choisissez une décision."
    dossier = await client.view(number)
    try:
        when = (
            parse_local(form.deadline, dossier.campaign.time_zone, "Date limite de la demande de pièces")
            if decision_kind is DecisionKind.INCOMPLETE and form.deadline.strip()
            else None
        )
    except FormError as bad:
        return 422, str(bad)
    decision = Decision(
        decision_kind, by=user.signature, reasons=form.reasons.strip(), missing=form.missing or [], deadline=when
    )
    try:
        await send_update(client, number, DossierWorkflow.decide, decision, form.request_id)
    except Refusal as refusal:
        return 409, refusal.message
    await instruction.record_decision(db, number, dossier.campaign.id, user.login, decision_kind.value, now())
    log.info("Dossier %s: decision %s by %s", number, decision_kind.value, user.login)
    return None


@router.post("/dossiers/{number}/decision", response_class=HTMLResponse)
async def decide(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    form: Annotated[DecisionForm, Form()],
) -> Response:
    """A decision from the dossier page."""
    number = number.upper()
    refused = await take_decision(client, db, user, number, form)
    if refused is not None:
        return await _page(request, user, db, client, number, *refused)
    return _redirect(number, "decision")


@router.post("/dossiers/{number}/amenagements", response_class=HTMLResponse)
async def decide_accommodations(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    outcome: Annotated[str, Form()] = "",
    granted: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    """Grant, partly grant or refuse a candidate's accommodations; the dossier mails them."""
    number = number.upper()
    try:
        decision = AccommodationDecision(
            AccommodationOutcome(outcome),
            granted=[AccommodationKind(k) for k in granted or []],
            reason=reason.strip()[:2000],
            by=user.signature,
        )
    except ValueError:
        return await _page(request, user, db, client, number, 422, "Choisissez une décision sur les aménagements.")
    try:
        await send_update(client, number, DossierWorkflow.decide_accommodations, decision, request_id)
    except Refusal as refusal:
        return await _page(request, user, db, client, number, 409, refusal.message)
    log.info("Dossier %s: accommodations %s by %s", number, decision.outcome.value, user.login)
    return _redirect(number, "amenagements")


@router.post("/dossiers/{number}/resultat", response_class=HTMLResponse)
async def record_result(
    request: Request,
    number: str,
    user: Instructor,
    db: SessionDep,
    client: ClientDep,
    result: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    """A result; the dossier prints the result letter."""
    number = number.upper()
    try:
        exam_result = ExamResult(result)
    except ValueError:
        return await _page(request, user, db, client, number, 422, "Choisissez un résultat.")
    try:
        await send_update(
            client, number, DossierWorkflow.record_result, ResultEntry(exam_result, user.signature), request_id
        )
    except Refusal as refusal:
        return await _page(request, user, db, client, number, 409, refusal.message)
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
    letter: Annotated[str, Form()] = "",
    exam: Annotated[str, Form()] = "",
    marks: Annotated[str, Form()] = "",
    request_id: Annotated[str, Form()] = "",
) -> Response:
    """A letter on request: the dossier's workflow prints it (an activity) and deposits it."""
    number = number.upper()
    try:
        kind = LetterKind(letter)
    except ValueError:
        return await _page(request, user, db, client, number, 422, "Choisissez un document à déposer.")
    try:
        order = LetterOrder(
            kind,
            by=user.signature,
            exam_code=exam or None,
            marks=_marks(marks) if kind is LetterKind.TRANSCRIPT else [],
        )
        # One form offers two letters (convocation, attendance): the ID names the letter asked for.
        letter_request = f"{request_id}-{kind.value}" if request_id else ""
        issued = await send_update(client, number, DossierWorkflow.issue_letter, order, letter_request)
    except FormError as bad:
        return await _page(request, user, db, client, number, 422, str(bad))
    except Refusal as refusal:
        return await _page(request, user, db, client, number, 409, refusal.message)
    log.info("Dossier %s: %s deposited by %s", number, issued.title, user.login)
    return _redirect(number, "courrier" if issued.deposited else "deja")


@router.get("/dossiers/{number}/fichiers/{ref}")
async def dossier_file(
    number: str, ref: str, user: Reader, db: SessionDep, files: FilesDep, telecharger: int = 0
) -> Response:
    """A file of the dossier, inline for the page's preview (images, PDFs in a frame)."""
    stored = await db.get(StoredFile, ref)
    if stored is None or stored.dossier_number != number.upper():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Fichier introuvable dans ce dossier.")
    try:
        data = files.read(ref)
    except (OSError, ValueError) as exc:
        log.error("File %s of dossier %s missing from the store: %s", ref, number, exc)
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Fichier introuvable dans le stockage.") from exc
    await record_read(db, user.login, stored.dossier_number, "fichier", ref, stored.filename)
    disposition = "attachment" if telecharger else "inline"
    safe_name = stored.filename.encode("ascii", "replace").decode().replace('"', "'")
    return Response(
        data,
        media_type=stored.content_type,
        headers={
            "content-disposition": f'{disposition}; filename="{safe_name}"',
            # The dossier page frames PDFs: framing by our own pages only. The file is a PDF or
            # an image (sniffed at upload), served with its recorded type, never sniffed again,
            # and sandboxed in case a browser finds more in it than a picture or a document.
            "content-security-policy": UNTRUSTED_FILE_CSP,
            "x-frame-options": "SAMEORIGIN",
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
