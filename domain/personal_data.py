"""Everything the centre holds about a candidate, as one export (RGPD right of access, art. 15).

One description (`PersonalDataExport`: sections of labelled fields) feeds both files the space
offers: the JSON (French keys, ISO 8601 instants: for machines) and the PDF (French labels and
dates: for people), so the two can never disagree. Built from the dossier's view and the few
rows SQL keeps beside it (the account, the emails sent); pure, so it is unit-tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.dossier import Dossier
from domain.fr import datetime_fr

Value = str | int | bool | date | datetime | None


@dataclass
class Item:
    key: str  # the JSON key (French, ASCII, snake_case)
    label: str  # what the PDF shows
    value: Value


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)  # one record of fields
    records: list[list[Item]] | None = None  # or a list of records (timeline, files, emails)
    empty: str = "Aucun élément."


@dataclass
class AccountFacts:
    """The candidate's login account, as SQL keeps it (the password only as a hash)."""

    email: str
    created_at: datetime


@dataclass
class SentMailFacts:
    recipient: str
    subject: str
    sent_at: datetime


@dataclass
class PersonalDataExport:
    dossier_number: str
    organiser: str
    time_zone: str
    exported_at: datetime
    sections: list[Section]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "export": {
                "objet": "Données personnelles détenues par le centre organisateur (RGPD, article 15)",
                "dossier": self.dossier_number,
                "responsable_du_traitement": self.organiser,
                "genere_le": self.exported_at.isoformat(),
            }
        }
        for section in self.sections:
            if section.records is None:
                data[section.key] = {i.key: _json_value(i.value) for i in section.items}
            else:
                data[section.key] = [{i.key: _json_value(i.value) for i in record} for record in section.records]
        return data

    def readable(self, value: Value) -> str:
        """A value as the PDF prints it: French dates in the organiser's time zone."""
        if value is None or value == "":
            return "Non renseigné"
        if isinstance(value, bool):
            return "Oui" if value else "Non"
        if isinstance(value, datetime):
            return datetime_fr(value, self.time_zone)
        if isinstance(value, date):
            return f"{value.day:02d}/{value.month:02d}/{value.year}"
        return str(value)


def _json_value(value: Value) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def personal_data_export(
    dossier: Dossier, account: AccountFacts | None, mails: list[SentMailFacts], now: datetime
) -> PersonalDataExport:
    registration = dossier.registration
    person = registration.candidate
    address = person.address
    campaign = dossier.campaign
    route = dossier.route
    sections = [
        Section(
            "candidature",
            "Concours ou examen",
            [
                Item("numero_dossier", "N° de dossier", dossier.dossier_number),
                Item("grade", "Grade", campaign.grade),
                Item("session", "Session", campaign.id),
                Item("centre_organisateur", "Centre organisateur", campaign.organiser),
                Item("voie", "Voie d'accès", route.label),
                Item("specialite", "Spécialité / option", registration.speciality),
                Item("preinscription_le", "Préinscription du", registration.registered_at),
                Item("remplace_le_dossier", "Remplace le dossier", registration.replaces),
            ],
        ),
        Section(
            "identite",
            "Identité",
            [
                Item("civilite", "Civilité", person.civility),
                Item("nom", "Nom", person.last_name),
                Item("prenom", "Prénom", person.first_name),
                Item("date_de_naissance", "Date de naissance", person.birth_date),
            ],
        ),
        Section(
            "coordonnees",
            "Adresse et contact",
            [
                Item("adresse", "Adresse", address.line1),
                Item("complement_adresse", "Complément d'adresse", address.line2),
                Item("code_postal", "Code postal", address.postal_code),
                Item("ville", "Ville", address.city),
                Item("pays", "Pays", address.country),
                Item("email", "Adresse e-mail", person.email),
                Item("telephone", "Téléphone", person.phone),
            ],
        ),
        Section(
            "options",
            "Options de confidentialité",
            [Item("publication_du_nom", "Nom publié sur les listes de résultats", person.publish_name)],
        ),
        Section(
            "compte",
            "Compte de l'espace sécurisé",
            [
                Item("identifiant", "Identifiant de connexion", dossier.dossier_number),
                Item("email_du_compte", "Adresse e-mail du compte", account.email if account else None),
                Item("cree_le", "Compte créé le", account.created_at if account else None),
                Item(
                    "mot_de_passe",
                    "Mot de passe",
                    "conservé sous forme d'empreinte (argon2id) : il ne peut être ni lu ni exporté",
                ),
            ],
        ),
        _situation(dossier),
        Section(
            "historique",
            "Historique du dossier",
            records=[
                [Item("date", "Date", entry.at), Item("evenement", "Événement", entry.text)]
                for entry in dossier.timeline
            ],
        ),
        Section(
            "pieces_deposees",
            "Pièces que vous avez déposées",
            records=[
                [
                    Item("nom_du_fichier", "Fichier", upload.filename),
                    Item("piece", "Pièce", _category_label(dossier, upload.category)),
                    Item("type", "Type", upload.content_type),
                    Item("taille_octets", "Taille (octets)", upload.size),
                    Item("empreinte_sha256", "Empreinte SHA-256", upload.sha256),
                    Item("depose_le", "Déposée le", upload.uploaded_at),
                ]
                for upload in dossier.uploads
            ],
        ),
        Section(
            "documents_du_centre",
            "Documents déposés par le centre",
            records=[
                [
                    Item("titre", "Document", document.title),
                    Item("nature", "Nature", document.kind.label),
                    Item("mis_a_disposition_le", "Mis à disposition le", document.released_at or document.release_at),
                ]
                for document in dossier.released_documents()
            ],
        ),
        Section(
            "emails_envoyes",
            "Courriels envoyés",
            records=[
                [
                    Item("envoye_le", "Envoyé le", mail.sent_at),
                    Item("destinataire", "Destinataire", mail.recipient),
                    Item("objet", "Objet", mail.subject),
                ]
                for mail in sorted(mails, key=lambda m: m.sent_at)
            ],
        ),
    ]
    return PersonalDataExport(dossier.dossier_number, campaign.organiser, campaign.time_zone, now, sections)


def _situation(dossier: Dossier) -> Section:
    items = [
        Item("statut", "Statut", dossier.status.label),
        Item("code_statut", "Code du statut", str(dossier.status)),
        Item("date_limite_de_validation", "Date limite de validation", dossier.validation_deadline),
        Item("validee_le", "Demande validée le", dossier.validated_at),
        Item("instruction_le", "En instruction depuis le", dossier.instruction_started_at),
        Item("motifs_de_la_decision", "Motifs de la décision", dossier.decision_reasons or None),
    ]
    reg = dossier.regularisation
    if reg is not None:
        items += [
            Item("pieces_demandees", "Pièces demandées", ", ".join(_category_label(dossier, c) for c in reg.missing)),
            Item("pieces_demandees_le", "Demande de pièces du", reg.requested_at),
            Item("pieces_a_transmettre_avant", "Pièces à transmettre avant le", reg.deadline),
        ]
    return Section("situation", "Situation du dossier", items)


def _category_label(dossier: Dossier, code: str) -> str:
    category = dossier.route.category(code)
    return category.label if category else code
