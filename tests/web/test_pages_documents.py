"""Supporting documents (upload and its refusals) and the centre's documents (download)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from temporalio.client import Client

from domain.documents import MAX_UPLOAD_BYTES
from infra.database import Database, StoredFile
from infra.files import FileStore
from infra.settings import Settings
from tests.web.conftest import NewCandidate
from tests.web.pages import EXE, PDF, PNG, Candidate, client, deposit, submit, text_of, token_in
from workflows.dossier import DossierWorkflow, Validate


async def upload(
    candidate: Candidate, category: str, content: bytes, filename: str = "piece.pdf", mime: str = "application/pdf"
) -> httpx.Response:
    return await submit(
        candidate.http,
        "/espace/pieces",
        {"category": category},
        files={"fichier": (filename, content, mime)},
    )


async def stored_rows(database: Database, number: str) -> list[StoredFile]:
    async with database.sessions() as session:
        return list((await session.scalars(select(StoredFile).where(StoredFile.dossier_number == number))).all())


def files_on_disk(settings: Settings) -> set[str]:
    root = settings.files_dir
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def test_upload_is_counted_listed_and_downloadable(new_candidate: NewCandidate, database: Database) -> None:
    candidate = await new_candidate()
    page = await candidate.http.get("/espace/pieces")
    text = text_of(page)
    assert "Format(s) autorisé(s) : PDF ou GIF ou JPEG ou PNG (10 Mo maximum par document)." in text
    assert "Diplôme(s) requis (0/3)" in text

    response = await upload(candidate, "diplome", PDF, "Licence d'histoire.pdf")

    assert response.status_code == 303
    after = await candidate.http.get(response.headers["location"])
    text = text_of(after)
    assert "Le fichier a bien été ajouté à votre dossier." in text
    assert "Diplôme(s) requis (1/3)" in text
    assert "Licence d'histoire.pdf" in text
    [row] = await stored_rows(database, candidate.number)
    assert row.content_type == "application/pdf" and row.size == len(PDF)
    download = await candidate.http.get(f"/espace/pieces/{row.ref}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    assert "(1/3)" in text_of(await candidate.http.get("/espace"))


async def test_refused_uploads_say_why_in_french_and_keep_nothing(
    new_candidate: NewCandidate, database: Database, settings: Settings
) -> None:
    candidate = await new_candidate()
    before = files_on_disk(settings)
    cases = [
        (
            "diplome",
            EXE,
            "rapport.pdf",
            415,
            "Format non autorisé : seuls les fichiers PDF, GIF, JPEG ou PNG sont acceptés.",
        ),
        (
            "diplome",
            b"%PDF" + b"0" * MAX_UPLOAD_BYTES,
            "gros.pdf",
            413,
            "Le fichier dépasse la taille maximale de 10 Mo.",
        ),
        ("diplome", b"", "vide.pdf", 422, "Le fichier est vide."),
        ("inconnue", PDF, "x.pdf", 409, "Cette catégorie de pièce n'est pas demandée pour ce dossier"),
    ]
    for category, content, name, code, message in cases:
        response = await upload(candidate, category, content, name)
        assert response.status_code == code, (name, response.text[:500])
        assert message in text_of(response)
        assert "Erreur :" in response.text.split("</title>")[0]
    assert await stored_rows(database, candidate.number) == []
    assert files_on_disk(settings) == before


async def test_full_category_is_refused(new_candidate: NewCandidate, database: Database, settings: Settings) -> None:
    candidate = await new_candidate()
    assert (await upload(candidate, "autre", PNG, "photo.png", "image/png")).status_code == 303
    page = text_of(await candidate.http.get("/espace/pieces"))
    assert "Toute(s) autre(s) pièce(s) complémentaire(s) (1/1)" in page
    assert "Le nombre maximal de fichiers est atteint pour cette pièce." in page
    before = files_on_disk(settings)

    # The form is hidden once full; a request sent anyway gets the workflow's answer.
    refused = await upload(candidate, "autre", PDF)

    assert refused.status_code == 409
    assert (
        "« Toute(s) autre(s) pièce(s) complémentaire(s) » : le nombre maximal de fichiers (1) est atteint."
        in text_of(refused)
    )
    assert len(await stored_rows(database, candidate.number)) == 1
    assert files_on_disk(settings) == before


async def test_upload_while_closed_says_from_when(new_candidate: NewCandidate, database: Database) -> None:
    candidate = await new_candidate()
    assert (await submit(candidate.http, "/espace/validation", {"sworn_statement": "oui"})).status_code == 303

    page = await candidate.http.get("/espace/pieces")
    assert "Les pièces pourront être déposées à partir du" in text_of(page)
    assert 'type="file"' not in page.text
    refused = await candidate.http.post(
        "/espace/pieces",
        data={"category": "diplome", "csrf_token": token_in(page)},
        files={"fichier": ("diplome.pdf", PDF, "application/pdf")},
    )

    assert refused.status_code == 409
    assert "Les pièces pourront être déposées à partir du" in text_of(refused)
    assert "à 8h30" in text_of(refused)
    assert await stored_rows(database, candidate.number) == []


async def test_oversized_request_is_cut_before_parsing(new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    page = await candidate.http.get("/espace/pieces")

    response = await candidate.http.post(
        "/espace/pieces",
        data={"category": "diplome", "csrf_token": token_in(page)},
        files={"fichier": ("huge.pdf", b"%PDF" + b"0" * (12 * 1024 * 1024), "application/pdf")},
    )

    assert response.status_code == 413
    assert "Le fichier dépasse la taille maximale de 10 Mo." in text_of(response)


async def test_released_documents_are_listed_newest_first_and_downloadable(
    new_candidate: NewCandidate, client: Client, database: Database, settings: Settings
) -> None:
    candidate = await new_candidate()
    empty = await candidate.http.get("/espace/documents")
    assert "Aucun document n'a encore été déposé dans votre espace." in text_of(empty)
    await client.get_workflow_handle(candidate.number).execute_update(DossierWorkflow.validate, Validate(True))
    files = FileStore(settings.files_dir)
    first = await deposit(client, files, database, candidate.number, "Courrier d'information")
    second = await deposit(client, files, database, candidate.number, "Courrier complémentaire", PDF + b"%2")

    page = await candidate.http.get("/espace/documents")

    text = text_of(page)
    assert text.index("Courrier complémentaire") < text.index("Courrier d'information")
    download = await candidate.http.get(f"/espace/documents/{first}")
    assert download.status_code == 200 and download.content == PDF
    assert (
        'filename="Courrier d' in download.headers["content-disposition"]
        or "filename*=" in download.headers["content-disposition"]
    )
    assert (await candidate.http.get(f"/espace/documents/{second}")).content == PDF + b"%2"
    # A file of the dossier that is not a released centre document is not served here.
    missing = await candidate.http.get("/espace/documents/" + "0" * 32)
    assert missing.status_code == 404
    assert "Document introuvable dans votre dossier." in text_of(missing)
    assert (await candidate.http.get("/espace/documents/..%2F..%2Fetc%2Fpasswd")).status_code == 404


async def test_api_upload_needs_the_csrf_header(app: FastAPI, new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()
    async with client(app) as http:
        login = await http.post(
            "/api/session", json={"dossier_number": candidate.number, "password": candidate.password}
        )
        assert login.status_code == 200
        token = login.json()["csrf_token"]
        files = {"file": ("d.pdf", PDF, "application/pdf")}

        without = await http.post("/api/dossier/pieces", data={"category": "diplome"}, files=files)
        assert without.status_code == 403
        accepted = await http.post(
            "/api/dossier/pieces", data={"category": "diplome"}, files=files, headers={"X-CSRF-Token": token}
        )
        assert accepted.status_code == 201, accepted.text
        bad = await http.post(
            "/api/dossier/pieces",
            data={"category": "diplome"},
            headers={"X-CSRF-Token": token},
            files={"file": ("d.pdf", EXE, "application/pdf")},
        )
        assert bad.status_code == 415
        assert bad.json()["detail"].startswith("Format non autorisé")
        assert (await http.get("/api/dossier")).json()["categories"][0]["count"] == 1
