"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.dossier import Dossier
from domain.status import Status


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
    dossier_number: str
    password: str


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
    def of(cls, dossier: Dossier, now: datetime) -> DossierOut:
        counts = dossier.category_counts()
        window = dossier.uploads_window(now)
        return cls(
            dossier_number=dossier.dossier_number,
            status=dossier.status,
            status_label=dossier.status.label,
            grade=dossier.campaign.grade,
            route=dossier.route.label,
            speciality=dossier.registration.speciality,
            validation_deadline=dossier.validation_deadline,
            allowed_actions=[str(a) for a in dossier.allowed_actions(now)],
            uploads_open=window.open,
            uploads_message=window.reason,
            categories=[
                CategoryOut(code=c.code, label=c.label, count=counts[c.code], max_files=c.max_files)
                for c in dossier.route.documents
            ],
            next_deadlines=[DeadlineOut(label=label, at=at) for label, at in dossier.next_deadlines(now)],
            timeline=[TimelineOut(at=t.at, text=t.text) for t in dossier.timeline],
            documents=[
                DocumentOut(ref=d.ref, kind=d.kind.label, title=d.title, released_at=d.released_at)
                for d in dossier.released_documents()
                if d.released_at is not None
            ],
        )
