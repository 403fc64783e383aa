"""The registration form ("formulaire d'inscription") generated at the end of pre-registration.

The candidate saves it, reads it, prints it, completes and signs it, then uploads it with the
supporting documents (CDG 56 guide). It is rendered from the dossier's own view whenever asked
for, so it always shows what the dossier holds and needs no stored copy.
"""

from __future__ import annotations

from datetime import datetime

from domain.dossier import Dossier
from domain.fr import date_fr, datetime_fr
from letters.dossier_document import DossierDocument
from letters.fonts import FAMILY

TITLE = "Formulaire d'inscription"

SWORN_STATEMENT = (
    "Je soussigné(e) {name} certifie sur l'honneur l'exactitude des renseignements portés dans "
    "le présent formulaire, et remplir les conditions générales d'accès à la fonction publique "
    "ainsi que les conditions particulières requises pour me présenter à ce concours ou examen "
    "professionnel. Je reconnais avoir été informé(e) que toute fausse déclaration entraîne "
    "l'annulation de mon inscription et, le cas échéant, de mon éventuelle admission."
)


class RegistrationForm(DossierDocument):
    def __init__(self, dossier: Dossier, now: datetime) -> None:
        super().__init__(TITLE, dossier.dossier_number, dossier.campaign.organiser)
        self.dossier = dossier
        self.now = now
        self.time_zone = dossier.campaign.time_zone

    # ------------------------------------------------------------------ building blocks
    def section(self, title: str) -> None:
        self.ln(2)
        self.set_font(FAMILY, "B", 11)
        self.set_fill_color(225, 230, 245)
        self.cell(0, 7, title.upper(), fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def rows(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font(FAMILY, "B", 10)
            self.cell(55, 6, label)
            self.set_font(FAMILY, size=10)
            self.multi_cell(0, 6, value or "—", new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, *, bold: bool = False, size: int = 10) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def when(self, instant: datetime) -> str:
        return datetime_fr(instant, self.time_zone)

    # ------------------------------------------------------------------ the form
    def build(self) -> bytes:
        d = self.dossier
        reg = d.registration
        person = reg.candidate
        address = person.address
        self.add_page()
        self.set_font(FAMILY, "B", 16)
        self.cell(0, 9, TITLE.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=11)
        self.multi_cell(0, 6, d.campaign.grade, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, "B", 11)
        self.cell(0, 7, f"Dossier n° {d.dossier_number}", align="C", new_x="LMARGIN", new_y="NEXT")

        self.section("Concours ou examen")
        self.rows(
            [
                ("Grade", d.campaign.grade),
                ("Voie d'accès", d.route.label),
                ("Spécialité / option", reg.speciality or "Sans objet"),
                ("Préinscription du", self.when(reg.registered_at)),
            ]
        )

        self.section("Identité")
        self.rows(
            [
                ("Civilité", person.civility),
                ("Nom", person.last_name.upper()),
                ("Prénom", person.first_name),
                (
                    "Date de naissance",
                    f"{person.birth_date.day:02d}/{person.birth_date.month:02d}/{person.birth_date.year}",
                ),
            ]
        )

        self.section("Coordonnées")
        lines = [address.line1, address.line2, f"{address.postal_code} {address.city}", address.country]
        self.rows(
            [
                ("Adresse", "\n".join(line for line in lines if line and line.strip())),
                ("Adresse e-mail", person.email),
                ("Téléphone", person.phone),
            ]
        )

        self.section("Options de confidentialité")
        self.rows(
            [
                (
                    "Publication du nom",
                    "J'accepte que mes nom et prénom figurent sur les listes de résultats publiées."
                    if person.publish_name
                    else "Je refuse que mes nom et prénom figurent sur les listes de résultats publiées.",
                )
            ]
        )

        self.section("Pièces justificatives à joindre")
        self.paragraph(
            "À déposer sur votre espace sécurisé. Format(s) autorisé(s) : PDF ou GIF ou JPEG ou PNG "
            "(10 Mo maximum par document). Joignez ce formulaire daté et signé."
        )
        for category in d.route.documents:
            self.set_x(self.l_margin + 4)
            plural = "s" if category.max_files > 1 else ""
            self.paragraph(f"- {category.label} ({category.max_files} fichier{plural} au plus)")

        self.section("Dates à retenir")
        self.paragraph(
            "Validez votre demande d'inscription sur votre espace sécurisé avant le "
            f"{self.when(d.validation_deadline)}.",
            bold=True,
        )
        self.paragraph(
            "LA PRÉINSCRIPTION SUR INTERNET NE CONSTITUE PAS UNE INSCRIPTION DÉFINITIVE. EN L'ABSENCE "
            "DE VALIDATION DE L'INSCRIPTION DANS LES DÉLAIS IMPARTIS, LA PRÉINSCRIPTION SERA ANNULÉE.",
            bold=True,
            size=9,
        )
        self.paragraph(
            "Après la validation, les pièces pourront être déposées sur votre espace sécurisé dès le "
            "matin du jour ouvré suivant (à partir de 8h30). La période de dépôt se poursuit quelques "
            "jours après la date limite de validation de l'inscription."
        )
        for exam in d.campaign.exams:
            self.paragraph(f"- {exam.label} : {date_fr(exam.starts_at, self.time_zone)} — {exam.venue}")

        self.section("Attestation sur l'honneur")
        self.paragraph(SWORN_STATEMENT.format(name=f"{person.civility} {person.full_name}"))
        self.ln(4)
        self.set_font(FAMILY, size=10)
        self.cell(90, 7, "Fait à : ....................................")
        self.cell(0, 7, "le : ....... / ....... / ...........", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.cell(0, 6, "Signature :", new_x="LMARGIN", new_y="NEXT")
        self.rect(self.l_margin, self.get_y(), 80, 25)
        self.ln(28)
        self.set_font(FAMILY, size=8)
        self.multi_cell(
            0,
            4,
            f"Document généré le {self.when(self.now)} depuis l'espace sécurisé candidat. "
            "Aucun courrier ne sera envoyé par voie postale : tous les documents afférents au "
            "concours ou à l'examen seront déposés dans votre espace.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        return bytes(self.output())


def registration_form_pdf(dossier: Dossier, now: datetime) -> bytes:
    """The registration form of `dossier`, as PDF bytes."""
    return RegistrationForm(dossier, now).build()
