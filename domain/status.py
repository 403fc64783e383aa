"""The statuses a dossier goes through, each a stable code plus the label the seeds show.

Codes are what search attributes, URLs and tests use; labels are what the candidate reads at the
top of their space (wording from the CDG 56 and CDG 27 guides).
"""

from enum import StrEnum


class Status(StrEnum):
    AWAITING_DOSSIER = "en_attente"
    TRANSFERRING = "en_cours_de_transfert"
    IN_INSTRUCTION = "en_instruction"
    INCOMPLETE = "incomplet"
    COMPLETE = "complet"
    REJECTED = "rejete"
    NON_CONFORMING = "non_conforme"
    ADMITTED = "admis_a_concourir"
    ADMITTED_UNDER_RESERVE = "admis_sous_reserve"
    ADMISSIBLE = "admissible"
    NOT_ADMISSIBLE = "non_admissible"
    PASSED = "admis"
    FAILED = "non_admis"
    CANCELLED = "annule"
    WITHDRAWN = "desiste"
    REPLACED = "remplace"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def is_closed(self) -> bool:
        """No candidate action and no instruction decision applies any more."""
        return self in CLOSED

    @property
    def is_admitted(self) -> bool:
        return self in (Status.ADMITTED, Status.ADMITTED_UNDER_RESERVE)


LABELS: dict[Status, str] = {
    Status.AWAITING_DOSSIER: "En attente de votre dossier",
    Status.TRANSFERRING: "En cours de transfert",
    Status.IN_INSTRUCTION: "Dossier en cours d'instruction",
    Status.INCOMPLETE: "Dossier incomplet : merci de transmettre les pièces demandées",
    Status.COMPLETE: "Dossier complet",
    Status.REJECTED: "Dossier rejeté",
    Status.NON_CONFORMING: "Dossier non conforme",
    Status.ADMITTED: "Vous êtes admis(e) à concourir",
    Status.ADMITTED_UNDER_RESERVE: "Vous êtes admis(e) à concourir sous réserve",
    Status.ADMISSIBLE: "Admissible",
    Status.NOT_ADMISSIBLE: "Non admissible",
    Status.PASSED: "Admis(e)",
    Status.FAILED: "Non admis(e)",
    Status.CANCELLED: "Préinscription annulée : inscription non validée dans les délais",
    Status.WITHDRAWN: "Inscription annulée à votre demande",
    Status.REPLACED: "Préinscription remplacée par une nouvelle préinscription",
}

# Final for the candidate's registration. The dossier stays readable (letters and certificates
# can still be deposited after a result), but nothing changes its status any more.
CLOSED = frozenset(
    {
        Status.REJECTED,
        Status.NON_CONFORMING,
        Status.NOT_ADMISSIBLE,
        Status.PASSED,
        Status.FAILED,
        Status.CANCELLED,
        Status.WITHDRAWN,
        Status.REPLACED,
    }
)
