"""The campaign form: fields to a `Campaign` and back, with French messages for each mistake.

Routes and exam dates are typed in two text boxes, one item per line, fields separated by
« | », so a campaign of any shape fits one page without scripts:

    externe | Concours externe | Administration générale ; Urbanisme
      diplome | Diplôme(s) requis | 3
      autre | Toute(s) autre(s) pièce(s) complémentaire(s) | 1

(a route, its specialities after the second « | »; its document categories below it, indented,
with their maximum number of files), and

    ecrit | admissibilite | 2027-03-18 09:00 | Épreuves écrites d'admissibilité | Parc des expositions, Vannes

(code, kind — admissibilite or admission —, local date and time, label, venue).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from domain.calendar import DEFAULT_TIME_ZONES, HOLIDAY_ZONES, UnknownZone, check_time_zone
from domain.campaign import Campaign, CampaignError, DocumentCategory, ExamDate, ExamKind, Route
from web.staff.forms import FormError, local_input, parse_local

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass
class CampaignForm:
    """The fields as typed, so a refused form comes back as the person left it."""

    id: str = ""
    grade: str = ""
    organiser: str = ""
    holiday_zone: str = "metropole"
    time_zone: str = "Europe/Paris"
    registration_opens_at: str = ""
    registration_closes_at: str = ""
    validation_deadline: str = ""
    upload_grace_days: str = "5"
    accommodation_deadline: str = ""  # empty: the validation deadline
    convocation_lead_days: str = "15"
    validation_reminders_days: str = "7, 1"
    regularisation_reminder_days: str = "2"
    retention_days: str = "730"  # domain.retention: two years after the last result
    routes: str = ""
    exams: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignForm:
        tz = campaign.time_zone
        return cls(
            id=campaign.id,
            grade=campaign.grade,
            organiser=campaign.organiser,
            holiday_zone=campaign.holiday_zone,
            time_zone=tz,
            registration_opens_at=local_input(campaign.registration_opens_at, tz),
            registration_closes_at=local_input(campaign.registration_closes_at, tz),
            validation_deadline=local_input(campaign.validation_deadline, tz),
            upload_grace_days=_days(campaign.upload_grace),
            accommodation_deadline=local_input(campaign.accommodation_deadline, tz)
            if campaign.accommodation_deadline
            else "",
            convocation_lead_days=_days(campaign.convocation_lead),
            validation_reminders_days=", ".join(_days(r) for r in campaign.validation_reminders),
            regularisation_reminder_days=_days(campaign.regularisation_reminder),
            retention_days=_days(campaign.retention),
            routes=format_routes(campaign.routes),
            exams=format_exams(campaign.exams, tz),
        )


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return str(int(days)) if days == int(days) else f"{days:g}".replace(".", ",")


def _parse_days(value: str, label: str) -> timedelta:
    try:
        days = float(value.strip().replace(",", "."))
    except ValueError:
        raise FormError(f"{label} : indiquez un nombre de jours.") from None
    if days < 0 or days > 3650:
        raise FormError(f"{label} : nombre de jours hors limites.")
    return timedelta(days=days)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()


def format_routes(routes: list[Route]) -> str:
    lines = []
    for r in routes:
        lines.append(f"{r.code} | {r.label}" + (f" | {' ; '.join(r.specialities)}" if r.specialities else ""))
        lines += [f"  {c.code} | {c.label} | {c.max_files}" for c in r.documents]
    return "\n".join(lines)


def format_exams(exams: list[ExamDate], time_zone: str) -> str:
    return "\n".join(
        f"{e.code} | {e.kind.value} | {local_input(e.starts_at, time_zone).replace('T', ' ')} | {e.label} | {e.venue}"
        for e in exams
    )


def parse_routes(text: str) -> list[Route]:
    routes: list[Route] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        indented = raw[:1] in (" ", "\t")
        if indented:
            if not routes:
                raise FormError(f"Voies, ligne {n} : une pièce doit suivre la ligne de sa voie.")
            if len(parts) != 3:
                raise FormError(
                    f"Voies, ligne {n} : une pièce s'écrit « code | libellé | nombre maximal de fichiers »."
                )
            code, label, maximum = parts
            if not CODE.match(code):
                raise FormError(f"Voies, ligne {n} : code de pièce « {code} » invalide (minuscules, chiffres, - ou _).")
            if not maximum.isdigit() or int(maximum) < 1:
                raise FormError(f"Voies, ligne {n} : le nombre maximal de fichiers doit être un entier d'au moins 1.")
            if routes[-1].category(code):
                raise FormError(f"Voies, ligne {n} : la pièce « {code} » figure deux fois dans cette voie.")
            routes[-1].documents.append(DocumentCategory(code, label, int(maximum)))
        else:
            if len(parts) not in (2, 3):
                raise FormError(
                    f"Voies, ligne {n} : une voie s'écrit « code | libellé » "
                    "ou « code | libellé | spécialité ; spécialité »."
                )
            code, label = parts[0], parts[1]
            if not CODE.match(code):
                raise FormError(f"Voies, ligne {n} : code de voie « {code} » invalide (minuscules, chiffres, - ou _).")
            if any(r.code == code for r in routes):
                raise FormError(f"Voies, ligne {n} : la voie « {code} » figure deux fois.")
            specialities = [s.strip() for s in parts[2].split(";") if s.strip()] if len(parts) == 3 else []
            routes.append(Route(code, label, [], specialities))
    if not routes:
        raise FormError("Indiquez au moins une voie d'accès.")
    empty = [r.code for r in routes if not r.documents]
    if empty:
        raise FormError(f"Voie(s) sans pièce justificative : {', '.join(empty)}.")
    return routes


_KINDS = {
    "admissibilite": ExamKind.WRITTEN,
    "ecrit": ExamKind.WRITTEN,
    "admission": ExamKind.ORAL,
    "oral": ExamKind.ORAL,
}


def parse_exams(text: str, time_zone: str) -> list[ExamDate]:
    exams: list[ExamDate] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) != 5:
            raise FormError(
                f"Épreuves, ligne {n} : écrivez "
                "« code | admissibilite ou admission | AAAA-MM-JJ HH:MM | libellé | lieu »."
            )
        code, kind, when, label, venue = parts
        if not CODE.match(code):
            raise FormError(f"Épreuves, ligne {n} : code « {code} » invalide (minuscules, chiffres, - ou _).")
        if _fold(kind) not in _KINDS:
            raise FormError(f"Épreuves, ligne {n} : nature « {kind} » inconnue (admissibilite ou admission).")
        if not label or not venue:
            raise FormError(f"Épreuves, ligne {n} : le libellé et le lieu sont obligatoires.")
        exams.append(
            ExamDate(code, label, _KINDS[_fold(kind)], parse_local(when, time_zone, f"Épreuves, ligne {n}"), venue)
        )
    return exams


def build_campaign(form: CampaignForm) -> Campaign:
    """The campaign the form describes, checked by the domain; FormError on the first mistake."""
    if not CAMPAIGN_ID.match(form.id):
        raise FormError(
            "Code de la session : 2 à 40 caractères, minuscules, chiffres ou tirets (il préfixe les n° de dossier)."
        )
    if not form.grade.strip() or not form.organiser.strip():
        raise FormError("Le grade (ou examen) et l'organisateur sont obligatoires.")
    if form.holiday_zone not in HOLIDAY_ZONES:
        raise FormError(f"Zone de jours fériés inconnue : {form.holiday_zone}.")
    tz = form.time_zone.strip() or DEFAULT_TIME_ZONES[form.holiday_zone]
    try:
        check_time_zone(tz)
    except UnknownZone:
        raise FormError(f"Fuseau horaire inconnu : {tz}.") from None
    reminders = [
        _parse_days(v, "Rappels avant la date limite")
        for v in re.split(r"[,;\s]+", form.validation_reminders_days)
        if v
    ]
    campaign = Campaign(
        id=form.id,
        grade=form.grade.strip(),
        organiser=form.organiser.strip(),
        time_zone=tz,
        holiday_zone=form.holiday_zone,
        registration_opens_at=parse_local(form.registration_opens_at, tz, "Ouverture des préinscriptions"),
        registration_closes_at=parse_local(form.registration_closes_at, tz, "Clôture des préinscriptions"),
        validation_deadline=parse_local(form.validation_deadline, tz, "Date limite de validation"),
        upload_grace=_parse_days(form.upload_grace_days, "Dépôt des pièces après la date limite"),
        accommodation_deadline=parse_local(
            form.accommodation_deadline, tz, "Date limite des demandes d'aménagement d'épreuves"
        )
        if form.accommodation_deadline.strip()
        else None,
        routes=parse_routes(form.routes),
        exams=parse_exams(form.exams, tz),
        convocation_lead=_parse_days(form.convocation_lead_days, "Mise à disposition des convocations"),
        validation_reminders=sorted(reminders, reverse=True),
        regularisation_reminder=_parse_days(
            form.regularisation_reminder_days, "Rappel avant la fin de la demande de pièces"
        ),
        retention=_parse_days(form.retention_days, "Conservation des données après le dernier résultat"),
    )
    try:
        campaign.with_public_holidays().check()
    except (CampaignError, UnknownZone) as bad:
        raise FormError(str(bad)) from None
    return campaign
