"""« Télécharger mes données »: a candidate downloads everything the centre holds about them,
as JSON and as a readable PDF, and nothing of anyone else."""

from __future__ import annotations

import json

from sqlalchemy import select

from infra.database import Database, SentMail
from tests.conftest import eventually
from tests.web.conftest import NewCandidate
from tests.web.pages import PDF, client, pdf_text, text_of
from tests.web.test_pages_documents import upload


async def sent_subjects(database: Database, number: str) -> list[str]:
    async with database.sessions() as session:
        rows = await session.scalars(select(SentMail).where(SentMail.key.startswith(f"{number}/")))
        return [r.subject for r in rows]


async def test_the_candidate_downloads_their_data_as_json_and_pdf(
    new_candidate: NewCandidate, database: Database
) -> None:
    candidate = await new_candidate(first_name="Maëlle", last_name="Le Goff", phone="02 97 00 00 00")
    other = await new_candidate(first_name="Yannick", last_name="Autre")
    assert (await upload(candidate, "diplome", PDF, "Licence d'histoire.pdf")).status_code == 303
    subjects = await eventually(lambda: sent_subjects(database, candidate.number), timeout=60)

    page = text_of(await candidate.http.get("/espace/mes-donnees"))
    assert "Télécharger tout ce que le centre détient sur vous" in page
    assert "après son dernier résultat, pendant 2 ans" in page

    response = await candidate.http.get("/espace/mes-donnees/export.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == (f'attachment; filename="mes-donnees-{candidate.number}.json"')
    data = json.loads(response.content)
    assert data["export"]["dossier"] == candidate.number
    assert data["identite"] == {
        "civilite": "Madame",
        "nom": "Le Goff",
        "prenom": "Maëlle",
        "date_de_naissance": "1994-05-17",
    }
    assert data["coordonnees"]["email"] == candidate.email and data["coordonnees"]["telephone"] == "02 97 00 00 00"
    assert data["compte"]["email_du_compte"] == candidate.email
    assert data["candidature"]["voie"] == "Concours externe"
    assert data["situation"]["code_statut"] == "en_attente"
    assert [p["nom_du_fichier"] for p in data["pieces_deposees"]] == ["Licence d'histoire.pdf"]
    assert any("Pièce déposée : Licence d'histoire.pdf" in e["evenement"] for e in data["historique"])
    assert [m["objet"] for m in data["emails_envoyes"]] == subjects
    assert all(m["destinataire"] == candidate.email for m in data["emails_envoyes"])
    assert "Yannick" not in response.text and other.number not in response.text

    pdf = await candidate.http.get("/espace/mes-donnees/export.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = pdf_text(pdf.content)
    for expected in (
        "Mes données personnelles",
        "Maëlle",
        "Le Goff",
        "Licence d'histoire.pdf",
        "Courriels envoyés",
        candidate.number,
    ):
        assert expected in words, expected
    assert "Yannick" not in words


async def test_the_export_needs_the_candidates_session(app) -> None:
    async with client(app) as anonymous:
        for path in ("/espace/mes-donnees/export.json", "/espace/mes-donnees/export.pdf"):
            response = await anonymous.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/connexion"), path
