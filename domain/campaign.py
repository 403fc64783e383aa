"""A campaign ("session de concours"): what the arrêté d'ouverture fixes before it opens.

The dossier workflow receives a snapshot of its campaign at start; a later order that extends
the validation deadline, or that moves exam dates or venues (`ExamAmendment`), reaches each open
dossier as a message. Which later orders open dossiers can follow is decided here
(`Campaign.check_exam_changes`, `Campaign.check_new_deadline`).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.calendar import HOLIDAY_ZONES, check_time_zone, public_holidays
from domain.fr import datetime_fr


class CampaignError(ValueError):
    """A campaign definition, or a change to it, that cannot be run as given (the message says
    why, in French)."""


class ExamKind(StrEnum):
    WRITTEN = "admissibilite"  # written tests: admissible / non admissible
    ORAL = "admission"  # oral tests, for admissible candidates: admis / non admis


@dataclass
class DocumentCategory:
    code: str
    label: str  # e.g. "Diplôme(s) requis"
    max_files: int


@dataclass
class Route:
    code: str  # externe, interne, troisieme, examen_pro
    label: str  # "Concours externe"
    documents: list[DocumentCategory]
    specialities: list[str] = field(default_factory=list)

    def category(self, code: str) -> DocumentCategory | None:
        return next((c for c in self.documents if c.code == code), None)


@dataclass
class ExamDate:
    code: str
    label: str  # "Épreuve écrite d'admissibilité"
    kind: ExamKind
    starts_at: datetime
    venue: str


@dataclass
class ExamAmendment:
    """A later order moving exam dates, venues or labels of a campaign whose dossiers are open.

    It carries the whole list of the campaign's exams (same codes as before: exams are neither
    added nor removed once dossiers exist); each open dossier applies it to its snapshot.
    """

    campaign_id: str
    exams: list[ExamDate]
    amended_at: datetime  # when staff saved it; orders amendments that cross on the way

    def digest(self) -> str:
        """A short hash of the exams as amended: the same amendment submitted twice has the same."""
        canonical = [
            [e.code, str(e.kind), e.starts_at.timestamp(), e.label, e.venue]
            for e in sorted(self.exams, key=lambda e: e.code)
        ]
        data = json.dumps([self.campaign_id, canonical], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(data.encode()).hexdigest()[:16]


# The default bound on how late an on-time action may reach its dossier: far above the worst
# backlog measured on deadline night, short enough that a dossier not validated is cancelled soon
# after its deadline.
RECEIPT_DELAY = timedelta(minutes=5)

# How long candidates' data is kept after the campaign's last result, by default and at least
# (`domain.retention` says why).
RETENTION = timedelta(days=730)
MIN_RETENTION = timedelta(days=92)


@dataclass
class Campaign:
    id: str
    grade: str  # "Rédacteur territorial"
    organiser: str  # "CDG 56"
    time_zone: str
    holiday_zone: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    validation_deadline: datetime
    upload_grace: timedelta  # uploads stay open this long after the validation deadline
    routes: list[Route]
    exams: list[ExamDate] = field(default_factory=list)
    convocation_lead: timedelta = timedelta(days=15)
    validation_reminders: list[timedelta] = field(default_factory=lambda: [timedelta(days=7), timedelta(days=1)])
    regularisation_reminder: timedelta = timedelta(days=2)
    # How late an action received before a deadline may reach its dossier (a backlog on deadline
    # night): what closes at a deadline waits this long, and an older receipt stamp is refused
    # (`domain.dossier.Dossier.received`).
    receipt_delay: timedelta = RECEIPT_DELAY
    # The holiday zone's public holidays over the campaign's years (see `with_public_holidays`).
    public_holidays: list[date] = field(default_factory=list)
    # When staff last amended the exam dates (`ExamAmendment.amended_at`): a snapshot taken after
    # an amendment ignores that amendment, or an older one, arriving later.
    exams_amended_at: datetime | None = None
    # Last instant a candidate may ask for exam accommodations; None: the validation deadline.
    accommodation_deadline: datetime | None = None

    @property
    def accommodation_requests_close_at(self) -> datetime:
        return self.accommodation_deadline or self.validation_deadline

    # How long the candidates' data is kept after the campaign's last result, then purged
    # (`domain.retention`: why two years by default).
    retention: timedelta = RETENTION
    # The dossier numbers' prefix (« RED2027 » in RED2027-00042), chosen unique among the
    # campaigns when this one is created (`domain.registration.unique_number_prefix`); empty for
    # campaigns created before, whose prefix is derived from the id as it always was.
    number_prefix: str = ""

    def years(self) -> range:
        """From the opening year to the year after the last exam or deadline."""
        last = max([self.validation_deadline, *(e.starts_at for e in self.exams)])
        return range(self.registration_opens_at.year, last.year + 2)

    def with_public_holidays(self) -> "Campaign":
        """Look the zone's holidays up once, so the dossiers never call the holiday library."""
        self.public_holidays = public_holidays(self.holiday_zone, self.years())
        return self

    def route(self, code: str) -> "Route | None":
        return next((r for r in self.routes if r.code == code), None)

    def exam(self, code: str) -> ExamDate | None:
        return next((e for e in self.exams if e.code == code), None)

    def is_open_for_registration(self, now: datetime) -> bool:
        return self.registration_opens_at <= now <= self.registration_closes_at

    def check_exam_changes(self, new_exams: list[ExamDate], dossiers_exist: bool) -> None:
        """Refuse new exams that open dossiers could not follow.

        Open dossiers hold convocations and results per exam: once dossiers exist, exams can no
        longer be added, removed or change kind; their date, venue and label may still move
        (`exam_amendment`). Before any dossier exists, every change is allowed."""
        if not dossiers_exist:
            return
        before = {e.code: e for e in self.exams}
        after = {e.code: e for e in new_exams}
        if before.keys() != after.keys():
            raise CampaignError(
                "Des dossiers sont ouverts : les épreuves ne peuvent plus être ajoutées ni retirées "
                f"(codes de la session : {', '.join(before) or 'aucun'}). "
                "Modifiez leur date, leur lieu ou leur libellé."
            )
        for code, new in after.items():
            if new.kind != before[code].kind:
                raise CampaignError(
                    f"Des dossiers sont ouverts : la nature de l'épreuve « {code} » (admissibilite ou admission) "
                    "ne peut plus changer."
                )

    def exam_amendment(self, new_exams: list[ExamDate], at: datetime) -> ExamAmendment | None:
        """The amendment open dossiers must receive for `new_exams`, None when no exam moves, is
        relocated or renamed; CampaignError when they could not follow it (`check_exam_changes`)."""
        self.check_exam_changes(new_exams, dossiers_exist=True)
        before = {e.code: e for e in self.exams}
        if all(
            (e.starts_at, e.venue, e.label) == (before[e.code].starts_at, before[e.code].venue, before[e.code].label)
            for e in new_exams
        ):
            return None
        return ExamAmendment(self.id, new_exams, amended_at=at)

    def check_new_deadline(self, new_deadline: datetime) -> None:
        """Refuse a validation deadline that would shorten the one dossiers already count on.

        A deadline only moves later (an extension); the current one again is accepted, as a
        repeated submission of the same extension."""
        if new_deadline.tzinfo is None:
            raise CampaignError("Toutes les dates doivent être des instants avec fuseau horaire.")
        if new_deadline < self.validation_deadline:
            raise CampaignError(
                "La nouvelle date limite doit suivre l'actuelle "
                f"({datetime_fr(self.validation_deadline, self.time_zone)})."
            )

    def extend_validation_deadline(self, new_deadline: datetime) -> bool:
        """Move the validation deadline to `new_deadline` if `check_new_deadline` allows it;
        False when it already is the deadline (nothing to save)."""
        self.check_new_deadline(new_deadline)
        if new_deadline == self.validation_deadline:
            return False
        self.validation_deadline = new_deadline
        return True

    def check(self) -> None:
        """Refuse a campaign whose dates or lists cannot work."""
        if self.holiday_zone not in HOLIDAY_ZONES:
            raise CampaignError(f"Zone de jours fériés inconnue : {self.holiday_zone}")
        check_time_zone(self.time_zone)
        instants = [
            self.registration_opens_at,
            self.registration_closes_at,
            self.validation_deadline,
            *(e.starts_at for e in self.exams),
        ]
        if any(i.tzinfo is None for i in instants):
            raise CampaignError("Toutes les dates doivent être des instants avec fuseau horaire.")
        if self.registration_closes_at <= self.registration_opens_at:
            raise CampaignError("La clôture des préinscriptions doit suivre leur ouverture.")
        if self.validation_deadline < self.registration_closes_at:
            raise CampaignError("La date limite de validation ne peut précéder la clôture des préinscriptions.")
        if self.accommodation_deadline is not None and self.accommodation_deadline.tzinfo is None:
            raise CampaignError("Toutes les dates doivent être des instants avec fuseau horaire.")
        if self.accommodation_deadline is not None and self.accommodation_deadline < self.registration_opens_at:
            raise CampaignError(
                "La date limite des demandes d'aménagement ne peut précéder l'ouverture des préinscriptions."
            )
        if self.upload_grace < timedelta(0):
            raise CampaignError("La période de dépôt après la date limite ne peut être négative.")
        if not self.routes:
            raise CampaignError("Une session doit proposer au moins une voie d'accès.")
        for route in self.routes:
            if any(c.max_files < 1 for c in route.documents):
                raise CampaignError(f"Voie {route.label} : chaque pièce admet au moins un fichier.")
        covered = {d.year for d in self.public_holidays}
        if not set(self.years()) <= covered:
            raise CampaignError("Les jours fériés de la session ne sont pas renseignés pour toutes ses années.")
        if len({e.code for e in self.exams}) != len(self.exams):
            raise CampaignError("Deux épreuves portent le même code.")
        if self.retention < MIN_RETENTION:
            raise CampaignError(
                "La durée de conservation des données ne peut être inférieure à 92 jours "
                "(délai de recours contentieux contre les résultats)."
            )
