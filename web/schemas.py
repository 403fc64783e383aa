"""Request and response bodies of the JSON API, and the error answers each route documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.campaign import Campaign
from domain.status import Status
from domain.summary import DossierSummary


class ErrorOut(BaseModel):
    """Every error answer of the API: one French message, fit to show as it is."""

    detail: str


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Secondes à attendre avant de réessayer.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

# What each error status means in this API; routes pick theirs with `error_responses`.
ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "Corps de requête illisible (JSON ou multipart mal formé)."},
    401: {"description": "Non connecté, session expirée, ou identifiant ou mot de passe incorrect."},
    403: {
        "description": "Jeton CSRF absent ou invalide : requis dans l'en-tête `X-CSRF-Token` pour tout "
        "POST dont le corps n'est pas `application/json`."
    },
    404: {"description": "Dossier ou session de concours introuvable."},
    409: {"description": "Action refusée par le dossier dans son état actuel (message en français)."},
    413: {"description": "Corps de requête trop volumineux (fichier de plus de 10 Mo)."},
    415: {
        "description": "Format de fichier non autorisé : seuls PDF, GIF, JPEG et PNG sont acceptés, "
        "reconnus d'après leur contenu."
    },
    422: {
        "description": "Champ(s) manquant(s) ou invalide(s), ou donnée refusée par les règles de "
        "l'inscription ; `detail` dit lequel, en français."
    },
    429: {"description": "Trop de tentatives : réessayer après le délai indiqué.", "headers": _RETRY_AFTER},
    503: {
        "description": "Service momentanément indisponible : réessayer après le délai indiqué.",
        "headers": _RETRY_AFTER,
    },
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these statuses, all with the `ErrorOut` body."""
    return {code: {"model": ErrorOut, **ERRORS[code]} for code in sorted(codes)}


class PreRegistrationIn(BaseModel):
    campaign_id: str
    route: str
    speciality: str | None = None
    civility: str = Field(pattern="^(Madame|Monsieur)$")
    last_name: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    birth_date: date
    email: str = Field(max_length=320)
    phone: str = Field(default="", max_length=30)
    address_line1: str = Field(max_length=200)
    address_line2: str = Field(default="", max_length=200)
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=100)
    country: str = Field(default="France", max_length=100)
    publish_name: bool = True
    password: str = Field(max_length=200)


class PreRegistrationOut(BaseModel):
    dossier_number: str
    status: Status
    status_label: str
    validation_deadline: datetime


class LoginIn(BaseModel):
    dossier_number: str = Field(max_length=64)  # no dossier number is longer (web.ratelimit.MAX_IDENTIFIER)
    password: str = Field(max_length=200)


class LoginOut(BaseModel):
    dossier_number: str
    csrf_token: str = Field(
        description="To send in the `X-CSRF-Token` header of later non-JSON POSTs (uploads, bodiless actions)."
    )


class RouteOut(BaseModel):
    code: str
    label: str
    specialities: list[str]


class CampaignOut(BaseModel):
    id: str
    grade: str
    organiser: str
    registration_closes_at: datetime
    validation_deadline: datetime
    routes: list[RouteOut]

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            id=campaign.id,
            grade=campaign.grade,
            organiser=campaign.organiser,
            registration_closes_at=campaign.registration_closes_at,
            validation_deadline=campaign.validation_deadline,
            routes=[RouteOut(code=r.code, label=r.label, specialities=r.specialities) for r in campaign.routes],
        )


class ValidationIn(BaseModel):
    sworn_statement: bool = Field(
        description="« J'ai lu, j'approuve et je signe l'attestation sur l'honneur présente dans "
        "mon dossier d'inscription »"
    )


class AddressIn(BaseModel):
    line1: str = Field(max_length=200)
    line2: str = Field(default="", max_length=200)
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=100)
    country: str = Field(default="France", max_length=100)


class AckOut(BaseModel):
    status: Status
    status_label: str


class CategoryOut(BaseModel):
    code: str
    label: str
    count: int
    max_files: int


class TimelineOut(BaseModel):
    at: datetime
    text: str


class DeadlineOut(BaseModel):
    label: str
    at: datetime


class DocumentOut(BaseModel):
    ref: str
    kind: str
    title: str
    released_at: datetime


class DossierOut(BaseModel):
    dossier_number: str
    status: Status
    status_label: str
    grade: str
    route: str
    speciality: str | None
    validation_deadline: datetime
    allowed_actions: list[str]
    uploads_open: bool
    uploads_message: str
    categories: list[CategoryOut]
    next_deadlines: list[DeadlineOut]
    timeline: list[TimelineOut]
    documents: list[DocumentOut]

    @classmethod
    def of(cls, dossier: DossierSummary) -> DossierOut:
        return cls(
            dossier_number=dossier.dossier_number,
            status=dossier.status,
            status_label=dossier.status_label,
            grade=dossier.grade,
            route=dossier.route_label,
            speciality=dossier.speciality,
            validation_deadline=dossier.validation_deadline,
            allowed_actions=[str(a) for a in dossier.actions],
            uploads_open=dossier.window.open,
            uploads_message=dossier.window.reason,
            categories=[
                CategoryOut(code=c.code, label=c.label, count=c.count, max_files=c.max_files)
                for c in dossier.categories
            ],
            next_deadlines=[DeadlineOut(label=d.label, at=d.at) for d in dossier.deadlines],
            timeline=[TimelineOut(at=t.at, text=t.text) for t in dossier.timeline],
            documents=[
                DocumentOut(ref=d.ref, kind=d.kind.label, title=d.title, released_at=d.released_at)
                for d in dossier.documents
            ],
        )
