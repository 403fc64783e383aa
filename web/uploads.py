"""Supporting documents from candidates: check, store, record in the dossier. Pages and API alike.

The order matters: the bytes are checked (size, type sniffed from the content, never the name),
the dossier is asked whether it takes this category now, and only then is the file written under
a generated name and its reference (with size and checksum, never the bytes) sent to the
workflow, which decides for good. A refusal leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import filetype
from fastapi import HTTPException, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from domain.documents import ALLOWED_MIME_TYPES, MAX_UPLOAD_BYTES, UploadedDocument
from domain.dossier import Refusal
from infra.database import StoredFile
from infra.files import FileStore
from workflows.client import NotFound, Unavailable, WorkflowClient
from workflows.dossier import Ack, DossierWorkflow

log = logging.getLogger(__name__)

TOO_LARGE = "Le fichier dépasse la taille maximale de 10 Mo."
EMPTY = "Le fichier est vide."
WRONG_TYPE = "Format non autorisé : seuls les fichiers PDF, GIF, JPEG ou PNG sont acceptés."
NO_FILE = "Choisissez un fichier à déposer."


@dataclass
class CheckedFile:
    data: bytes
    content_type: str
    filename: str


def safe_filename(name: str | None) -> str:
    """The name to show and to offer on download: no path, no control characters, bounded.
    It is only ever data; files on disk are named by their random reference."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "_", name).strip(" .")
    return (name or "document")[-200:]


async def read_upload(upload: UploadFile | None) -> CheckedFile:
    """The file's bytes and sniffed MIME type, or a French 4xx."""
    if upload is None or (not upload.filename and not upload.size):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, NO_FILE)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, TOO_LARGE)
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, EMPTY)
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_MIME_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, WRONG_TYPE)
    return CheckedFile(data=data, content_type=kind.mime, filename=safe_filename(upload.filename))


async def store_upload(
    number: str,
    category: str,
    upload: UploadFile | None,
    db: AsyncSession,
    client: WorkflowClient,
    files: FileStore,
    now: datetime,
) -> Ack:
    """Check, store, then record in the dossier; the workflow's refusal comes back as HTTP 409."""
    checked = await read_upload(upload)
    dossier = await client.view(number)
    # Fail fast before writing anything (a Refusal); the workflow checks again, authoritatively.
    dossier.check_upload(category, now)
    # Writing and fsyncing 10 MB takes a while: in a thread, so other candidates' pages don't wait.
    ref, sha256 = await asyncio.to_thread(files.save, checked.data)
    size = len(checked.data)
    db.add(
        StoredFile(
            ref=ref,
            dossier_number=number,
            filename=checked.filename,
            content_type=checked.content_type,
            size=size,
            sha256=sha256,
        )
    )
    await db.commit()
    document = UploadedDocument(
        ref=ref,
        category=category,
        filename=checked.filename,
        size=size,
        sha256=sha256,
        content_type=checked.content_type,
        uploaded_at=now,
        received_at=now,
    )
    try:
        ack = await client.update(number, DossierWorkflow.record_upload, document)
    except Refusal:
        # Refused by the validator: nothing reached the dossier, so nothing may stay here.
        await asyncio.to_thread(files.delete, ref)
        row = await db.get(StoredFile, ref)
        if row is not None:
            await db.delete(row)
            await db.commit()
        raise
    except (Unavailable, NotFound) as exc:
        # Unknown outcome (Temporal unreachable, timeout): the update may have been
        # recorded, so the file is kept rather than risk a dossier pointing at nothing.
        log.warning("Dossier %s: upload %s kept, outcome unknown (%s)", number, ref, exc.__cause__ or exc)
        raise
    log.info("Dossier %s: %s stored as %s (%d bytes)", number, category, ref, size)
    return ack
