"""The emails a dossier queues: which template, to whom, with what context."""

from dataclasses import dataclass
from datetime import datetime
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
    CONVOCATION_UPDATED = "convocation_mise_a_jour"


@dataclass
class Mail:
    key: str  # unique per event: the activity sends each key at most once
    template: MailTemplate
    to: str
    context: dict[str, str]


# What each mail is, as a sentence says it: « Nous n'avons pas pu vous envoyer <label> ».
MAIL_LABELS: dict[MailTemplate, str] = {
    MailTemplate.PREREGISTERED: "la confirmation de votre préinscription",
    MailTemplate.VALIDATION_REMINDER: "le rappel de validation de votre dossier",
    MailTemplate.DEADLINE_EXTENDED: "l'avis de prolongation de la date limite",
    MailTemplate.CANCELLED: "l'avis d'annulation de votre préinscription",
    MailTemplate.VALIDATED: "la confirmation de validation de votre dossier",
    MailTemplate.ACKNOWLEDGEMENT: "l'accusé de réception de votre dossier",
    MailTemplate.REGULARISATION: "la demande de pièces complémentaires",
    MailTemplate.REGULARISATION_REMINDER: "le rappel de la demande de pièces complémentaires",
    MailTemplate.REJECTED: "l'avis de rejet de votre dossier",
    MailTemplate.ADMITTED: "l'avis d'admission à concourir",
    MailTemplate.DOCUMENT: "l'avis de mise à disposition d'un document",
    MailTemplate.RESULT: "l'avis de résultat",
    MailTemplate.WITHDRAWN: "la confirmation de votre désistement",
    MailTemplate.REPLACED: "l'avis de remplacement de votre préinscription",
    MailTemplate.ADDRESS_CHANGED: "la confirmation de votre changement d'adresse",
    MailTemplate.EXAMS_MOVED: "l'avis de modification des épreuves",
    MailTemplate.CONVOCATION_UPDATED: "l'avis de mise à jour de votre convocation",
}


def mail_label(template: MailTemplate) -> str:
    return MAIL_LABELS.get(template, "un courriel")


@dataclass
class SetAsideMail:
    """A mail the recipient's server refused for good (an SMTP 5xx reply): kept out of the
    outbox so the following mails go, and sent again once the candidate confirms a new address.

    It keeps its key: it was never accepted by a server (so never recorded in `sent_mails`), and
    the same key means that a resend retried after success still goes out only once."""

    mail: Mail
    at: datetime  # when the server refused it
    reply: str  # the server's reply, as operators and the candidate may need it
    resent_at: datetime | None = None  # queued again, to `resent_to`, once the address changed
    resent_to: str = ""

    @property
    def label(self) -> str:
        return mail_label(self.mail.template)

    @property
    def pending(self) -> bool:
        return self.resent_at is None
