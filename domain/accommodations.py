"""Exam accommodations (« aménagements d'épreuves ») for candidates with a disability.

A candidate asks, from pre-registration on and until the campaign's date for such requests,
for one or more accommodations, with the certificate of a doctor approved by the prefecture
(« certificat d'un médecin agréé »). Staff grant them all, part of them, or refuse, always
with a reason when not everything is granted. What is granted is printed on the convocation
and on the exam's attendance sheet, and listed for the exam-day team.

These are the rules only; `Dossier` holds the request and calls them with its own instant.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.documents import UploadedDocument

# The upload category of the medical certificate: not one of the route's supporting documents
# (it does not decide admission), so it is attached to the request and counted there.
CERTIFICATE_CATEGORY = "certificat_medecin_agree"
CERTIFICATE_LABEL = "Certificat d'un médecin agréé"
MAX_CERTIFICATES = 3
MAX_DETAILS = 1000


class AccommodationKind(StrEnum):
    EXTRA_TIME = "tiers_temps"
    SEPARATE_ROOM = "salle_isolee"
    SECRETARY = "secretaire"
    ENLARGED_PAPERS = "sujets_agrandis"
    OTHER = "autre"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    AccommodationKind.EXTRA_TIME: "Temps de composition majoré (tiers-temps)",
    AccommodationKind.SEPARATE_ROOM: "Salle à part",
    AccommodationKind.SECRETARY: "Assistance d'un secrétaire",
    AccommodationKind.ENLARGED_PAPERS: "Sujets en caractères agrandis",
    AccommodationKind.OTHER: "Autre aménagement",
}


class AccommodationOutcome(StrEnum):
    GRANTED = "accorde"
    PARTLY_GRANTED = "accorde_partiellement"
    REFUSED = "refuse"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    AccommodationOutcome.GRANTED: "Aménagements accordés",
    AccommodationOutcome.PARTLY_GRANTED: "Aménagements accordés en partie",
    AccommodationOutcome.REFUSED: "Aménagements refusés",
}


@dataclass
class AccommodationRequest:
    """What the candidate sends: the accommodations, free text, the certificate(s)."""

    kinds: list[AccommodationKind]
    details: str = ""  # required with OTHER: what is asked
    certificates: list[UploadedDocument] = field(default_factory=list)
    # When the web received it (its clock): the campaign's date is judged at this instant.
    received_at: datetime | None = None


@dataclass
class AccommodationDecision:
    """What staff decide. `granted` is filled from the request for a full grant."""

    outcome: AccommodationOutcome
    granted: list[AccommodationKind] = field(default_factory=list)
    reason: str = ""
    by: str = ""


@dataclass
class Accommodations:
    """A dossier's request and, once staff decided, the decision."""

    requested: list[AccommodationKind]
    details: str
    certificates: list[UploadedDocument]
    requested_at: datetime
    outcome: AccommodationOutcome | None = None
    granted: list[AccommodationKind] = field(default_factory=list)
    reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.outcome is None

    @property
    def outcome_label(self) -> str:
        return self.outcome.label if self.outcome else "Demande en cours d'examen"

    def granted_labels(self) -> list[str]:
        """What the convocation and the attendance sheet print, in a fixed order; "other" with
        the candidate's words, since the exam-day team must know what it is."""
        labels = []
        for kind in AccommodationKind:
            if kind in self.granted:
                labels.append(f"{kind.label} : {self.details}" if kind is AccommodationKind.OTHER else kind.label)
        return labels


class AccommodationRefusal(ValueError):
    """A request or a decision that does not apply; the dossier turns it into its `Refusal`."""


def check_request(
    current: Accommodations | None, request: AccommodationRequest, at: datetime, deadline: datetime, deadline_text: str
) -> None:
    """Refuse a request that cannot be recorded; `at` is the instant it was received."""
    if at > deadline:
        raise AccommodationRefusal(
            f"La date limite des demandes d'aménagement d'épreuves ({deadline_text}) est dépassée : "
            "contactez le service concours."
        )
    if current is not None:
        if current.pending:
            raise AccommodationRefusal(
                "Votre demande d'aménagements est déjà enregistrée ; elle est en cours d'examen."
            )
        raise AccommodationRefusal(
            "Votre demande d'aménagements a déjà reçu une réponse ; pour la compléter, contactez le service concours."
        )
    if not request.kinds:
        raise AccommodationRefusal("Choisissez au moins un aménagement.")
    if len(set(request.kinds)) != len(request.kinds):
        raise AccommodationRefusal("Chaque aménagement ne peut être demandé qu'une fois.")
    if AccommodationKind.OTHER in request.kinds and not request.details.strip():
        raise AccommodationRefusal("Précisez l'aménagement demandé dans « Autre aménagement ».")
    if len(request.details) > MAX_DETAILS:
        raise AccommodationRefusal(f"La précision ne peut dépasser {MAX_DETAILS} caractères.")
    if not request.certificates:
        raise AccommodationRefusal(f"Joignez le {CERTIFICATE_LABEL.lower()} (PDF, GIF, JPEG ou PNG).")
    if len(request.certificates) > MAX_CERTIFICATES:
        raise AccommodationRefusal(f"{MAX_CERTIFICATES} fichiers au plus pour le certificat.")
    if any(c.category != CERTIFICATE_CATEGORY for c in request.certificates):
        raise AccommodationRefusal("Le justificatif joint n'est pas un certificat médical.")


def check_decision(current: Accommodations | None, decision: AccommodationDecision) -> list[AccommodationKind]:
    """Refuse a decision that does not fit the request; the accommodations it grants."""
    if current is None:
        raise AccommodationRefusal("Ce dossier ne comporte aucune demande d'aménagement d'épreuves.")
    if not current.pending:
        raise AccommodationRefusal(f"La demande d'aménagements a déjà été instruite ({current.outcome_label}).")
    granted = list(dict.fromkeys(decision.granted))
    outcome = decision.outcome
    if outcome is AccommodationOutcome.GRANTED:
        return list(current.requested)
    if not decision.reason.strip():
        raise AccommodationRefusal("Indiquez le motif de la décision : il est communiqué au candidat.")
    if outcome is AccommodationOutcome.REFUSED:
        return []
    not_asked = [k for k in granted if k not in current.requested]
    if not_asked:
        asked = ", ".join(k.label for k in not_asked)
        raise AccommodationRefusal(f"Aménagement non demandé par le candidat : {asked}.")
    if not granted:
        raise AccommodationRefusal("Cochez les aménagements accordés (ou choisissez « Refuser »).")
    if set(granted) == set(current.requested):
        raise AccommodationRefusal("Tous les aménagements demandés sont cochés : choisissez « Accorder ».")
    return [k for k in AccommodationKind if k in granted]
