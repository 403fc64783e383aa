"""What each status means for the candidate, in the guides' words, and the banner's tone."""

from __future__ import annotations

from domain.status import Status

# From the CDG 56 and CDG 27 guides (« Le suivi de votre dossier »).
EXPLANATIONS: dict[Status, str] = {
    Status.AWAITING_DOSSIER: (
        "Votre préinscription est enregistrée mais il vous reste à valider votre demande "
        "d'inscription et à transmettre votre dossier daté et signé depuis votre espace sécurisé."
    ),
    Status.TRANSFERRING: "Mention qui apparaît une fois que vous avez validé votre inscription.",
    Status.IN_INSTRUCTION: (
        "Un mail d'accusé réception vous a été adressé. La validation de votre demande "
        "d'inscription a été prise en compte."
    ),
    Status.INCOMPLETE: (
        "Votre dossier a été instruit par le service instructeur mais il manque une ou plusieurs "
        "pièces permettant de vérifier la recevabilité de votre candidature. Complétez votre "
        "dossier depuis cet espace."
    ),
    Status.COMPLETE: (
        "Votre dossier a été instruit par le service instructeur, les pièces fournies sont "
        "recevables et vous remplissez donc les conditions requises. La mention « dossier "
        "complet » fait office d'accusé de réception."
    ),
    Status.REJECTED: (
        "Au vu des éléments fournis, vous ne remplissez pas les conditions requises pour "
        "participer à ce concours ou à cet examen professionnel. Un courrier de non admission à "
        "concourir mentionnant les raisons de ce rejet a été déposé sur votre espace."
    ),
    Status.NON_CONFORMING: (
        "Votre dossier ne remplit pas les conditions d'inscription requises. Un courrier vous "
        "précise les raisons du refus."
    ),
    Status.ADMITTED: (
        "Vous recevrez un mail vous informant du dépôt de la convocation dans votre espace "
        "candidat, une quinzaine de jours avant le début des épreuves."
    ),
    Status.ADMITTED_UNDER_RESERVE: (
        "Vous recevrez un mail vous informant du dépôt de la convocation dans votre espace "
        "candidat. Les conditions requises peuvent encore être vérifiées jusqu'à la nomination."
    ),
    Status.ADMISSIBLE: (
        "Vous êtes admissible : votre convocation aux épreuves d'admission sera déposée dans votre espace."
    ),
    Status.NOT_ADMISSIBLE: "Vous n'êtes pas admissible. Votre courrier de résultat est disponible dans votre espace.",
    Status.PASSED: "Vous êtes admis(e). Votre courrier de résultat est disponible dans votre espace.",
    Status.FAILED: "Vous n'êtes pas admis(e). Votre courrier de résultat est disponible dans votre espace.",
    Status.CANCELLED: (
        "Votre demande d'inscription n'a pas été validée avant la date limite : la préinscription est annulée."
    ),
    Status.WITHDRAWN: "Vous avez annulé votre inscription.",
    Status.REPLACED: (
        "Une nouvelle préinscription au même grade a remplacé celle-ci : une seule inscription par grade est possible."
    ),
}

_SUCCESS = {Status.COMPLETE, Status.ADMITTED, Status.ADMITTED_UNDER_RESERVE, Status.ADMISSIBLE, Status.PASSED}
_WARNING = {Status.AWAITING_DOSSIER, Status.INCOMPLETE}
_ERROR = {Status.REJECTED, Status.NON_CONFORMING, Status.CANCELLED, Status.NOT_ADMISSIBLE, Status.FAILED}


def tone(status: Status) -> str:
    """CSS tone of the status banner (the label carries the meaning; colour only repeats it)."""
    if status in _SUCCESS:
        return "success"
    if status in _WARNING:
        return "warning"
    if status in _ERROR:
        return "error"
    return "info"
