"""The emails a dossier queues: which template, to whom, with what context."""

from dataclasses import dataclass
from enum import StrEnum


class MailTemplate(StrEnum):
    PREREGISTERED = "preinscription"
    VALIDATION_REMINDER = "rappel_validation"
    DEADLINE_EXTENDED = "prolongation"
    CANCELLED = "annulation"
    VALIDATED = "validation"
    ACKNOWLEDGEMENT = "accuse_reception"
    REGULARISATION = "demande_regularisation"
    REGULARISATION_REMINDER = "rappel_regularisation"
    REJECTED = "rejet"
    ADMITTED = "admission"
    DOCUMENT = "document_depose"
    RESULT = "resultat"
    WITHDRAWN = "desistement"
    REPLACED = "remplacement"
    ADDRESS_CHANGED = "changement_adresse"
    EXAMS_MOVED = "epreuves_modifiees"
    ACCOMMODATIONS_REQUESTED = "amenagements_demande"
    ACCOMMODATIONS_DECIDED = "amenagements_decision"


@dataclass
class Mail:
    key: str  # unique per event: the activity sends each key at most once
    template: MailTemplate
    to: str
    context: dict[str, str]
