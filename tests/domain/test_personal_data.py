"""The candidate's data export: every section the centre holds, the same in JSON and in words."""

from __future__ import annotations

import json
from datetime import datetime

from domain.documents import CentreDocumentKind
from domain.personal_data import AccountFacts, SentMailFacts, personal_data_export
from tests.domain.test_dossier import (
    DECIDED,
    EMAIL,
    NUMBER,
    REGISTERED,
    centre_document,
    incomplete,
    paris,
    upload,
)

NOW = paris(2026, 11, 20, 9, 0)


def exported():
    dossier = incomplete(missing=["diplome"])
    dossier.record_upload(upload("diplome", at=DECIDED), DECIDED)
    dossier.deposit(centre_document(CentreDocumentKind.LETTER, title="Courrier du service"), DECIDED)
    mails = [
        SentMailFacts(EMAIL, "Demande de pièces", paris(2026, 11, 5, 10, 1)),
        SentMailFacts(EMAIL, "Votre préinscription", paris(2026, 10, 5, 10, 1)),
    ]
    return dossier, personal_data_export(dossier, AccountFacts(EMAIL, REGISTERED), mails, NOW)


def test_the_json_export_holds_identity_choices_timeline_files_documents_and_mails() -> None:
    dossier, export = exported()
    data = json.loads(json.dumps(export.as_json()))  # it is plain JSON
    assert data["export"]["dossier"] == NUMBER
    assert data["identite"]["nom"] == dossier.registration.candidate.last_name
    assert data["identite"]["date_de_naissance"] == dossier.registration.candidate.birth_date.isoformat()
    assert data["coordonnees"]["email"] == EMAIL
    assert data["candidature"]["voie"] == "Concours externe"
    assert data["situation"]["code_statut"] == "incomplet"
    assert data["situation"]["pieces_demandees"] == "Diplôme(s) requis"
    assert [e["evenement"] for e in data["historique"]] == [e.text for e in dossier.timeline]
    (piece,) = data["pieces_deposees"]
    assert piece["piece"] == "Diplôme(s) requis" and piece["taille_octets"] == 120_000
    assert [d["titre"] for d in data["documents_du_centre"]] == ["Courrier du service"]
    # Mails in the order they were sent, each an ISO instant.
    assert [m["objet"] for m in data["emails_envoyes"]] == ["Votre préinscription", "Demande de pièces"]
    assert datetime.fromisoformat(data["emails_envoyes"][0]["envoye_le"]) == paris(2026, 10, 5, 10, 1)
    assert "argon2id" in data["compte"]["mot_de_passe"]


def test_the_readable_values_are_french() -> None:
    _, export = exported()
    assert export.readable(paris(2026, 10, 5, 10, 0)) == "lundi 5 octobre 2026 à 10h00"
    assert export.readable(True) == "Oui"
    assert export.readable(None) == "Non renseigné"
