"""JSON API of the candidate space, for integrations (described by the OpenAPI schema)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import filetype
from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status
from sqlalchemy import select

from domain.documents import ALLOWED_MIME_TYPES, MAX_UPLOAD_BYTES, UploadedDocument
from domain.dossier import Address, Refusal
from infra.database import Account, StoredFile, list_campaigns
from web.deps import (
    CANDIDATE,
    SESSION_COOKIE,
    CurrentCandidate,
    FilesDep,
    GatewayDep,
    SessionDep,
    SettingsDep,
    TokensDep,
)
from web.registration import preregister
from web.schemas import (
    AckOut,
    AddressIn,
    DossierOut,
    LoginIn,
    PreRegistrationIn,
    PreRegistrationOut,
    ValidationIn,
)
from web.security import verify_password
from workflows.dossier import DossierWorkflow, Validate

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["candidat"])

WRONG_LOGIN = "Identifiant ou mot de passe incorrect."


def now() -> datetime:
    return datetime.now(UTC)


@router.get("/campagnes")
async def open_campaigns(db: SessionDep) -> list[dict]:
    """Sessions open for pre-registration now, with their routes."""
    t = now()
    return [
        {
            "id": c.id,
            "grade": c.grade,
            "organiser": c.organiser,
            "registration_closes_at": c.registration_closes_at,
            "validation_deadline": c.validation_deadline,
            "routes": [{"code": r.code, "label": r.label, "specialities": r.specialities} for r in c.routes],
        }
        for c in await list_campaigns(db)
        if c.is_open_for_registration(t)
    ]


@router.post("/preinscriptions", status_code=status.HTTP_201_CREATED)
async def create_preregistration(
    form: PreRegistrationIn, db: SessionDep, gateway: GatewayDep
) -> PreRegistrationOut:
    """Pre-register: creates the account and the dossier; the dossier number is emailed."""
    registration = await preregister(form, db, gateway, now())
    return PreRegistrationOut(
        dossier_number=registration.dossier_number,
        status="en_attente",
        status_label="En attente de votre dossier",
        validation_deadline=registration.campaign.validation_deadline,
    )


@router.post("/session")
async def login(
    body: LoginIn, response: Response, db: SessionDep, tokens: TokensDep, settings: SettingsDep
) -> dict:
    """Log in with the dossier number and password; sets the session cookie."""
    account = await db.scalar(select(Account).where(Account.dossier_number == body.dossier_number.strip().upper()))
    if account is None or not verify_password(account.password_hash, body.password):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_LOGIN)
    response.set_cookie(
        SESSION_COOKIE,
        tokens.issue(CANDIDATE + account.dossier_number),
        max_age=tokens.max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return {"dossier_number": account.dossier_number}


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


@router.get("/dossier")
async def my_dossier(number: CurrentCandidate, gateway: GatewayDep) -> DossierOut:
    """The dossier's status, documents, timeline, next deadlines and allowed actions."""
    return DossierOut.of(await gateway.view(number), now())


@router.post("/dossier/validation")
async def validate(body: ValidationIn, number: CurrentCandidate, gateway: GatewayDep) -> AckOut:
    """« Valider ma demande d'inscription » (requires the sworn statement)."""
    ack = await gateway.update(number, DossierWorkflow.validate, Validate(body.sworn_statement))
    return AckOut(status=ack.status, status_label=ack.label)


@router.post("/dossier/desistement")
async def withdraw(number: CurrentCandidate, gateway: GatewayDep) -> AckOut:
    """Cancel the registration (désistement)."""
    ack = await gateway.update(number, DossierWorkflow.withdraw)
    return AckOut(status=ack.status, status_label=ack.label)


@router.post("/dossier/adresse")
async def change_address(body: AddressIn, number: CurrentCandidate, gateway: GatewayDep) -> AckOut:
    """Report a change of address."""
    ack = await gateway.update(number, DossierWorkflow.change_address, Address(**body.model_dump()))
    return AckOut(status=ack.status, status_label=ack.label)


async def read_upload(upload: UploadFile) -> tuple[bytes, str]:
    """The file's bytes and sniffed MIME type, or a French 4xx; nothing is kept on refusal."""
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, "Le fichier dépasse la taille maximale de 10 Mo."
        )
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Le fichier est vide.")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_MIME_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "Format non autorisé : seuls les fichiers PDF, GIF, JPEG ou PNG sont acceptés.",
        )
    return data, kind.mime


async def store_upload(
    number: str, category: str, upload: UploadFile, db: SessionDep, gateway: GatewayDep, files: FilesDep
) -> AckOut:
    """Check, store, then record in the dossier; a refused upload leaves no file behind."""
    data, mime = await read_upload(upload)
    dossier = await gateway.view(number)
    try:  # fail fast before writing anything; the workflow checks again authoritatively
        dossier.check_upload(category, now())
    except Refusal as refusal:
        raise HTTPException(status.HTTP_409_CONFLICT, refusal.message) from None
    filename = (upload.filename or "document").replace("/", "_").replace("\\", "_")[-200:]
    ref, sha256 = files.save(data)
    db.add(StoredFile(ref=ref, dossier_number=number, filename=filename, content_type=mime, size=len(data), sha256=sha256))
    await db.commit()
    document = UploadedDocument(
        ref=ref, category=category, filename=filename, size=len(data), sha256=sha256,
        content_type=mime, uploaded_at=now(),
    )
    try:
        ack = await gateway.update(number, DossierWorkflow.record_upload, document)
    except HTTPException:
        files.delete(ref)
        await db.delete(await db.get(StoredFile, ref))
        await db.commit()
        raise
    log.info("Dossier %s: %s stored as %s (%d bytes)", number, category, ref, len(data))
    return AckOut(status=ack.status, status_label=ack.label)


@router.post("/dossier/pieces", status_code=status.HTTP_201_CREATED)
async def upload_document(
    number: CurrentCandidate,
    db: SessionDep,
    gateway: GatewayDep,
    files: FilesDep,
    category: str = Form(),
    file: UploadFile = File(),
) -> AckOut:
    """Upload a supporting document (PDF, GIF, JPEG or PNG, 10 MB at most)."""
    return await store_upload(number, category, file, db, gateway, files)
