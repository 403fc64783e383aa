"""JSON API of the candidate space, for integrations (described by the OpenAPI schema)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status

from domain.candidate import Address
from domain.documents import ALLOWED_MIME_TYPES
from infra.clock import now
from web.csrf import protection_of, require_csrf_unless_json
from web.deps import (
    ClientDep,
    CurrentCandidate,
    FilesDep,
    ReceivedAt,
    SessionDep,
    SettingsDep,
    TokensDep,
)
from web.login import authenticate, close_session, open_candidate_session
from web.registration import open_campaigns, preregister
from web.schemas import (
    AckOut,
    AddressIn,
    CampaignOut,
    DossierOut,
    LoginIn,
    LoginOut,
    PreRegistrationIn,
    PreRegistrationOut,
    ValidationIn,
    error_responses,
)
from web.uploads import store_upload
from workflows.dossier import DossierWorkflow, Validate

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["candidat"], dependencies=[Depends(require_csrf_unless_json)])

# What every POST can answer before its handler runs: an unreadable body (400), a non-JSON POST
# without the CSRF header (403), a body over the size cap (413), a field that fails validation (422).
POSTED = (400, 403, 413, 422)
# What every route of a logged-in candidate can answer: not logged in (401), dossier unknown to
# Temporal (404), Temporal unreachable (503).
CANDIDATE = (401, 404, 503)


@router.get("/campagnes")
async def campaigns_open_now(db: SessionDep) -> list[CampaignOut]:
    """Sessions open for pre-registration now, with their routes."""
    return [CampaignOut.of(c) for c in await open_campaigns(db, now())]


@router.post(
    "/preinscriptions", status_code=status.HTTP_201_CREATED, responses=error_responses(*POSTED, 404, 409, 429, 503)
)
async def create_preregistration(
    form: PreRegistrationIn,
    request: Request,
    db: SessionDep,
    client: ClientDep,
    received_at: ReceivedAt,
    settings: SettingsDep,
) -> PreRegistrationOut:
    """Pre-register: creates the account and the dossier; the dossier number is emailed. Limited
    per client address and per e-mail address (429)."""
    registration = await preregister(form, db, client, received_at, request, settings)
    return PreRegistrationOut(
        dossier_number=registration.dossier_number,
        status="en_attente",
        status_label="En attente de votre dossier",
        validation_deadline=registration.campaign.validation_deadline,
    )


@router.post("/session", responses=error_responses(*POSTED, 401, 429))
async def login(
    body: LoginIn, request: Request, response: Response, db: SessionDep, tokens: TokensDep, settings: SettingsDep
) -> LoginOut:
    """Log in with the dossier number and password; sets the session cookie. `csrf_token` goes in
    the `X-CSRF-Token` header of later non-JSON POSTs (uploads, withdrawal without a body)."""
    account = await authenticate(request, db, body.dossier_number, body.password)
    open_candidate_session(request, response, tokens, settings, account)
    return LoginOut(dossier_number=account.dossier_number, csrf_token=protection_of(request).token(request))


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request, response: Response, settings: SettingsDep, tokens: TokensDep, db: SessionDep
) -> None:
    """Log out: the session is ended on the server (a copy of the token stops working too)."""
    await close_session(request, response, settings, tokens, db)


@router.get("/dossier", responses=error_responses(*CANDIDATE))
async def my_dossier(number: CurrentCandidate, client: ClientDep) -> DossierOut:
    """The dossier's status, documents, timeline, next deadlines and allowed actions."""
    return DossierOut.of(await client.summary(number, now()))


@router.post("/dossier/validation", responses=error_responses(*POSTED, *CANDIDATE, 409))
async def validate(body: ValidationIn, number: CurrentCandidate, client: ClientDep, received_at: ReceivedAt) -> AckOut:
    """« Valider ma demande d'inscription » (requires the sworn statement). The deadline is judged
    at the instant the request was received, however long it then takes to record."""
    ack = await client.update(number, DossierWorkflow.validate, Validate(body.sworn_statement, received_at))
    return AckOut(status=ack.status, status_label=ack.label)


# No body is read, so no 400 nor 422; a body too large is still refused (413) before anything.
@router.post("/dossier/desistement", responses=error_responses(403, 413, *CANDIDATE, 409))
async def withdraw(number: CurrentCandidate, client: ClientDep) -> AckOut:
    """Cancel the registration (désistement); send `{}` as JSON or the `X-CSRF-Token` header."""
    ack = await client.update(number, DossierWorkflow.withdraw)
    return AckOut(status=ack.status, status_label=ack.label)


@router.post("/dossier/adresse", responses=error_responses(*POSTED, *CANDIDATE, 409))
async def change_address(body: AddressIn, number: CurrentCandidate, client: ClientDep) -> AckOut:
    """Report a change of address."""
    ack = await client.update(number, DossierWorkflow.change_address, Address(**body.model_dump()))
    return AckOut(status=ack.status, status_label=ack.label)


@router.post(
    "/dossier/pieces",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*POSTED, *CANDIDATE, 409, 415),
    # Which files are accepted, in the schema's words; the server still sniffs the bytes.
    openapi_extra={
        "requestBody": {
            "content": {"multipart/form-data": {"encoding": {"file": {"contentType": ", ".join(ALLOWED_MIME_TYPES)}}}}
        }
    },
)
async def upload_document(
    number: CurrentCandidate,
    db: SessionDep,
    client: ClientDep,
    received_at: ReceivedAt,
    files: FilesDep,
    category: str = Form(
        min_length=1, description="Code of one of the route's document categories (`DossierOut.categories`)."
    ),
    file: UploadFile = File(
        description="A non-empty PDF, GIF, JPEG or PNG file of 10 MB at most, its type recognised from its content "
        "(415 otherwise; an empty file gets 422).",
        json_schema_extra={"minLength": 1},
    ),
) -> AckOut:
    """Upload a supporting document (PDF, GIF, JPEG or PNG, 10 MB at most); needs `X-CSRF-Token`."""
    ack = await store_upload(number, category, file, db, client, files, received_at)
    return AckOut(status=ack.status, status_label=ack.label)
