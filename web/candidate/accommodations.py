"""« Aménagements d'épreuves »: the candidate asks for exam accommodations with the certificate
of an approved doctor, and later reads the answer (the summary carries both).

As for supporting documents (`web.uploads`), nothing is written before the dossier says it
takes the request: the form is checked by the dossier's rules first, the certificate is then
stored, and a refusal by the workflow removes it again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.accommodations import CERTIFICATE_CATEGORY, CERTIFICATE_LABEL, AccommodationKind, AccommodationRequest
from domain.documents import ALLOWED_MIME_TYPES, UploadedDocument
from domain.dossier import Refusal
from infra.clock import now
from infra.database import StoredFile
from web.candidate.deps import CandidatePage, MySummary
from web.candidate.space import space_page
from web.deps import ClientDep, FilesDep, ReceivedAt, SessionDep
from web.errors import problem
from web.uploads import read_upload
from workflows.dossier import DossierWorkflow

log = logging.getLogger(__name__)
router = APIRouter(prefix="/espace")


def _page(request: Request, dossier, status_code: int = 200, **context) -> Response:
    return space_page(
        request,
        "candidate/accommodations.html",
        dossier,
        "amenagements",
        status_code,
        kinds=list(AccommodationKind),
        certificate_label=CERTIFICATE_LABEL,
        formats=" ou ".join(ALLOWED_MIME_TYPES.values()),
        accept=",".join([".pdf", ".gif", ".jpg", ".jpeg", ".png", *ALLOWED_MIME_TYPES]),
        **context,
    )


@router.get("/amenagements", response_class=HTMLResponse)
async def accommodations_page(request: Request, dossier: MySummary) -> Response:
    return _page(request, dossier)


@router.post("/amenagements", response_class=HTMLResponse)
async def request_accommodations(
    request: Request,
    number: CandidatePage,
    db: SessionDep,
    client: ClientDep,
    files: FilesDep,
    received_at: ReceivedAt,
    amenagements: Annotated[list[str] | None, Form()] = None,
    precision: Annotated[str, Form()] = "",
    certificat: Annotated[UploadFile | None, File()] = None,
) -> Response:
    chosen = amenagements or []

    async def refuse(exc: HTTPException | Refusal) -> Response:
        code, message = problem(exc)
        summary = await client.summary(number, now())
        return _page(request, summary, code, error=message, chosen=chosen, precision=precision)

    try:
        kinds = [AccommodationKind(k) for k in chosen]
    except ValueError:
        return await refuse(HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Aménagement inconnu."))
    has_file = certificat is not None and bool(certificat.filename or certificat.size)
    request_ = AccommodationRequest(kinds, details=precision.strip()[:2000], received_at=received_at)
    try:
        # The form first (what is asked, by when), with a stand-in for the file if one was sent.
        stand_in = [_certificate("", "", 0, "", "application/pdf", received_at)] if has_file else []
        dossier = await client.view(number)
        dossier.check_request_accommodations(
            AccommodationRequest(kinds, request_.details, stand_in, received_at), received_at
        )
        checked = await read_upload(certificat)
    except (HTTPException, Refusal) as exc:
        return await refuse(exc)
    ref, sha256 = await asyncio.to_thread(files.save, checked.data)
    db.add(
        StoredFile(
            ref=ref,
            dossier_number=number,
            filename=checked.filename,
            content_type=checked.content_type,
            size=len(checked.data),
            sha256=sha256,
        )
    )
    await db.commit()
    request_.certificates = [
        _certificate(ref, checked.filename, len(checked.data), sha256, checked.content_type, received_at)
    ]
    try:
        await client.update(number, DossierWorkflow.request_accommodations, request_)
    except Refusal as refusal:
        # Refused by the validator: nothing reached the dossier, so nothing may stay here.
        await asyncio.to_thread(files.delete, ref)
        row = await db.get(StoredFile, ref)
        if row is not None:
            await db.delete(row)
            await db.commit()
        return await refuse(refusal)
    log.info("Dossier %s: accommodations requested (%s)", number, ", ".join(kinds))
    return RedirectResponse("/espace/amenagements?ok=amenagements", status_code=status.HTTP_303_SEE_OTHER)


def _certificate(ref: str, filename: str, size: int, sha256: str, content_type: str, at) -> UploadedDocument:
    return UploadedDocument(
        ref=ref,
        category=CERTIFICATE_CATEGORY,
        filename=filename,
        size=size,
        sha256=sha256,
        content_type=content_type,
        uploaded_at=at,
        received_at=at,
    )
