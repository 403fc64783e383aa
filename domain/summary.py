"""What the candidate's pages show of their dossier at an instant, and nothing else.

The whole `Dossier` carries what the workflow needs to run it (queued mails, the campaign with
its holiday list, checksums of uploads, reminders done…); a page needs a few labels, dates and
counters. `summarise` reads them with the dossier's own rules (`allowed_actions`,
`uploads_window`, `next_deadlines`, `upload_slots`, `released_documents`) at the caller's
instant, so a page and the workflow cannot disagree; the web no longer needs the aggregate to
draw a page (the `summary` query).

Measured (2026-12, 2 cores): the summary is about two thirds of `view`'s bytes (2.3 KB against
3.5 KB for a dossier with two uploads, more as the outbox fills during an SMTP outage), but a
query's cost is almost all fixed: a query returning an empty list costs the worker and the
Temporal server as much CPU as `view` (about 5 ms each). Fewer queries, not smaller ones, is
what would make pages cheaper.
"""

from dataclasses import dataclass, field
from datetime import datetime

from domain.accommodations import AccommodationOutcome
from domain.candidate import Candidate
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier
from domain.space import Action, UploadWindow
from domain.status import Status
from domain.timeline import TimelineEntry


@dataclass
class FileSummary:
    """A file the candidate uploaded, as the uploads page lists it."""

    ref: str
    filename: str
    size: int
    uploaded_at: datetime


@dataclass
class CategorySummary:
    """One document category of the route: its counter, its files, whether one can be added."""

    code: str
    label: str
    count: int
    max_files: int
    asked: bool  # requested by the open regularisation
    can_upload: bool
    files: list[FileSummary] = field(default_factory=list)


@dataclass
class DocumentSummary:
    """A document the centre released to the candidate."""

    ref: str
    kind: CentreDocumentKind
    title: str
    released_at: datetime


@dataclass
class Deadline:
    label: str
    at: datetime


@dataclass
class RegularisationSummary:
    """The open request for missing documents."""

    deadline: datetime
    note: str


@dataclass
class AccommodationsSummary:
    """The candidate's request for exam accommodations and, once decided, the answer."""

    requested: list[str]  # labels
    details: str
    certificates: list[FileSummary]
    requested_at: datetime
    outcome: AccommodationOutcome | None
    outcome_label: str
    granted: list[str]  # labels as printed on the convocation
    reason: str


@dataclass
class SetAsideSummary:
    """A mail the candidate's server refused for good, not sent again yet."""

    label: str  # « la confirmation de votre préinscription »
    to: str
    at: datetime
    reply: str


@dataclass
class DossierSummary:
    at: datetime  # the instant the rules were applied at; pages count time left from it
    dossier_number: str
    status: Status
    grade: str
    organiser: str
    time_zone: str
    route_label: str
    speciality: str | None
    registered_at: datetime
    replaces: str | None
    candidate: Candidate  # identity, address and contact: the "my data" page shows them all
    validation_deadline: datetime
    validated_at: datetime | None
    regularisation: RegularisationSummary | None  # only while the dossier is incomplete
    actions: list[Action]
    window: UploadWindow
    deadlines: list[Deadline]
    categories: list[CategorySummary]
    timeline: list[TimelineEntry]  # oldest first
    documents: list[DocumentSummary]  # released ones, newest first
    accommodations: AccommodationsSummary | None = None
    accommodation_deadline: datetime | None = None  # last instant to ask for accommodations
    may_request_accommodations: bool = False
    set_aside: list[SetAsideSummary] = field(default_factory=list)  # refused mails, oldest first

    @property
    def status_label(self) -> str:
        return self.status.label

    def has_upload(self, ref: str) -> bool:
        certificates = self.accommodations.certificates if self.accommodations else []
        return any(f.ref == ref for c in self.categories for f in c.files) or any(f.ref == ref for f in certificates)

    def has_document(self, ref: str) -> bool:
        return any(d.ref == ref for d in self.documents)


def summarise(dossier: Dossier, now: datetime) -> DossierSummary:
    registration = dossier.registration
    campaign = dossier.campaign
    reg = dossier.regularisation
    files: dict[str, list[FileSummary]] = {}
    for upload in dossier.uploads:
        files.setdefault(upload.category, []).append(
            FileSummary(upload.ref, upload.filename, upload.size, upload.uploaded_at)
        )
    return DossierSummary(
        at=now,
        dossier_number=dossier.dossier_number,
        status=dossier.status,
        grade=campaign.grade,
        organiser=campaign.organiser,
        time_zone=campaign.time_zone,
        route_label=dossier.route.label,
        speciality=registration.speciality,
        registered_at=registration.registered_at,
        replaces=registration.replaces,
        candidate=registration.candidate,
        validation_deadline=dossier.validation_deadline,
        validated_at=dossier.validated_at,
        regularisation=RegularisationSummary(reg.deadline, reg.note)
        if reg is not None and dossier.status is Status.INCOMPLETE
        else None,
        actions=dossier.allowed_actions(now),
        window=dossier.uploads_window(now),
        deadlines=[Deadline(label, at) for label, at in dossier.next_deadlines(now)],
        categories=[
            CategorySummary(
                code=slot.code,
                label=slot.label,
                count=slot.count,
                max_files=slot.max_files,
                asked=slot.asked,
                can_upload=slot.can_upload,
                files=files.get(slot.code, []),
            )
            for slot in dossier.upload_slots(now)
        ],
        timeline=list(dossier.timeline),
        documents=[
            DocumentSummary(d.ref, d.kind, d.title, d.released_at)
            for d in dossier.released_documents()
            if d.released_at is not None
        ],
        accommodations=_accommodations(dossier),
        accommodation_deadline=campaign.accommodation_requests_close_at,
        may_request_accommodations=dossier.may_request_accommodations(now),
        set_aside=[SetAsideSummary(e.label, e.mail.to, e.at, e.reply) for e in dossier.pending_set_aside],
    )


def _accommodations(dossier: Dossier) -> AccommodationsSummary | None:
    acc = dossier.accommodations
    if acc is None:
        return None
    return AccommodationsSummary(
        requested=[k.label for k in acc.requested],
        details=acc.details,
        certificates=[FileSummary(c.ref, c.filename, c.size, c.uploaded_at) for c in acc.certificates],
        requested_at=acc.requested_at,
        outcome=acc.outcome,
        outcome_label=acc.outcome_label,
        granted=dossier.granted_accommodations(),
        reason=acc.reason,
    )
