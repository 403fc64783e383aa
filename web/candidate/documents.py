"""Documents of the space: the candidate's supporting documents (« Pièce(s) déposée(s) ou
restant à déposer ») and the documents the centre deposited (convocations, letters...).

A file is served only when its reference is in the candidate's own dossier summary: uploads
listed in its categories, centre documents among its released ones (a convocation deposited
early stays invisible until its release). The reference is also checked by `FileStore.path`, so no
request can name a path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from domain.documents import ALLOWED_MIME_TYPES
from domain.dossier import Refusal
from domain.summary import DossierSummary
from infra.clock import now
from infra.database import StoredFile
from web.candidate.deps import CandidatePage, MySummary
from web.candidate.space import space_page
from web.deps import ClientDep, FilesDep, ReceivedAt, SessionDep
from web.errors import problem
from web.uploads import store_upload

router = APIRouter(prefix="/espace")

NOT_FOUND = "Document introuvable dans votre dossier."


def _uploads_page(request: Request, dossier: DossierSummary, status_code: int = 200, **context) -> Response:
    """Each category with its counter, its files and whether a file can be added now, as the
    dossier says (the workflow still has the last word)."""
    return space_page(
        request,
        "candidate/uploads.html",
        dossier,
        "pieces",
        status_code,
        formats=" ou ".join(ALLOWED_MIME_TYPES.values()),
        accept=",".join([".pdf", ".gif", ".jpg", ".jpeg", ".png", *ALLOWED_MIME_TYPES]),
        **context,
    )


@router.get("/pieces", response_class=HTMLResponse)
async def uploads(request: Request, dossier: MySummary) -> Response:
    return _uploads_page(request, dossier)


@router.post("/pieces", response_class=HTMLResponse)
async def upload(
    request: Request,
    number: CandidatePage,
    db: SessionDep,
    client: ClientDep,
    received_at: ReceivedAt,
    files: FilesDep,
    category: Annotated[str, Form()] = "",
    fichier: Annotated[UploadFile | None, File()] = None,
) -> Response:
    try:
        await store_upload(number, category, fichier, db, client, files, received_at)
    except (HTTPException, Refusal) as exc:
        code, message = problem(exc)
        dossier = await client.summary(number, now())
        return _uploads_page(request, dossier, code, error=message, failed_category=category)
    return RedirectResponse("/espace/pieces?ok=piece", status_code=status.HTTP_303_SEE_OTHER)


async def _serve(db: SessionDep, files: FilesDep, ref: str) -> Response:
    row = await db.get(StoredFile, ref)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    path = files.path(ref)
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    # Always an attachment: a candidate's file is never rendered inside our origin.
    return FileResponse(path, media_type=row.content_type, filename=row.filename)


@router.get("/pieces/{ref}")
async def download_upload(ref: str, dossier: MySummary, db: SessionDep, files: FilesDep) -> Response:
    if not dossier.has_upload(ref):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return await _serve(db, files, ref)


@router.get("/documents", response_class=HTMLResponse)
async def centre_documents(request: Request, dossier: MySummary) -> Response:
    return space_page(request, "candidate/documents.html", dossier, "documents")


@router.get("/documents/{ref}")
async def download_document(ref: str, dossier: MySummary, db: SessionDep, files: FilesDep) -> Response:
    if not dossier.has_document(ref):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return await _serve(db, files, ref)
