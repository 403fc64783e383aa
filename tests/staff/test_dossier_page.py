"""The dossier page: identity, uploaded documents previewed inline (served only with a staff
session), and the centre's letters deposited one by one."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from temporalio.client import Client

from domain.documents import CentreDocumentKind, UploadedDocument
from domain.status import Status
from infra.database import Database, StoredFile
from infra.files import FileStore
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, letters_of, post_form, saved_campaign, view
from tests.conftest import eventually
from tests.factories import exam_of
from tests.letters.pdf import pdf_lines
from tests.web.pages import PDF, PNG, text_of
from tests.web.pages import client as http_client
from workflows.dossier import DossierWorkflow


async def upload(
    client: Client,
    files: FileStore,
    database: Database,
    number: str,
    category: str,
    data: bytes,
    content_type: str,
    filename: str,
) -> str:
    """What the candidate space does for an upload: store, then record in the dossier."""
    ref, sha256 = files.save(data)
    async with database.sessions() as session:
        session.add(
            StoredFile(
                ref=ref,
                dossier_number=number,
                filename=filename,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
        await session.commit()
    await client.get_workflow_handle(number).execute_update(
        DossierWorkflow.record_upload,
        UploadedDocument(
            ref=ref,
            category=category,
            filename=filename,
            size=len(data),
            sha256=sha256,
            content_type=content_type,
            uploaded_at=datetime.now(UTC),
        ),
    )
    return ref


async def test_uploaded_documents_are_previewed_inline_for_staff_only(
    app: FastAPI, staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    number, other = await dossiers(client, prompt_queue, c, 2, Status.IN_INSTRUCTION)
    files: FileStore = app.state.files
    png = await upload(client, files, database, number, "diplome", PNG, "image/png", "diplome.png")
    pdf = await upload(client, files, database, number, "formulaire", PDF, "application/pdf", "formulaire signé.pdf")
    foreign = await upload(client, files, database, other, "diplome", PNG, "image/png", "autre.png")
    http = await staff(StaffRole.INSTRUCTOR)

    page = await http.get(f"/staff/dossiers/{number}")
    assert f'<img src="/staff/dossiers/{number}/fichiers/{png}" alt="Aperçu de diplome.png">' in page.text
    assert f'<iframe src="/staff/dossiers/{number}/fichiers/{pdf}" title="Aperçu de formulaire signé.pdf">' in page.text
    shown = text_of(page)
    assert "Diplôme(s) requis (1/3)" in shown and "Madame Maëlle LE GOFF" in shown

    image = await http.get(f"/staff/dossiers/{number}/fichiers/{png}")
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline")
    assert image.headers["x-frame-options"] == "SAMEORIGIN"
    assert image.headers["x-content-type-options"] == "nosniff"
    # Sandboxed: opened in a tab or framed, the file runs no script and reaches nothing of the app.
    framed = await http.get(f"/staff/dossiers/{number}/fichiers/{pdf}")
    for response in (image, framed):
        policy = [d.strip() for d in response.headers["content-security-policy"].split(";")]
        assert policy[0] == "sandbox"  # no allow-scripts, no allow-same-origin
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
        assert not any("script-src" in d or "allow-" in d for d in policy)
    document = await http.get(f"/staff/dossiers/{number}/fichiers/{pdf}", params={"telecharger": 1})
    assert document.headers["content-type"] == "application/pdf" and document.headers["content-disposition"].startswith(
        "attachment"
    )

    assert (await http.get(f"/staff/dossiers/{number}/fichiers/{foreign}")).status_code == 404
    assert (await http.get(f"/staff/dossiers/{number}/fichiers/{'0' * 32}")).status_code == 404
    async with http_client(app) as anonymous:
        assert (await anonymous.get(f"/staff/dossiers/{number}/fichiers/{png}")).status_code == 303


async def test_the_page_offers_only_the_letters_the_dossier_takes(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [admitted] = await dossiers(client, prompt_queue, c, 1, Status.ADMITTED)
    [rejected] = await dossiers(client, prompt_queue, c, 1, Status.REJECTED, prefix=f"R{admitted[1:7]}")
    http = await staff(StaffRole.INSTRUCTOR)

    # Admitted: the written exam's convocation and attendance certificate, not the oral's.
    page = await http.get(f"/staff/dossiers/{admitted}")
    assert "Déposer la convocation" in text_of(page) and "Déposer l'attestation de présence" in text_of(page)
    convocation_form = page.text.split('id="epreuve-convocation"', 1)[1].split("</select>", 1)[0]
    assert 'value="ecrit"' in convocation_form and 'value="oral"' not in convocation_form
    # Rejected: nothing about an exam to offer (the workflow would refuse it anyway).
    page = await http.get(f"/staff/dossiers/{rejected}")
    assert page.status_code == 200 and "Dossier rejeté" in text_of(page)
    assert "Déposer la convocation" not in text_of(page) and "Déposer l'attestation de présence" not in text_of(page)
    refused = await post_form(
        http,
        f"/staff/dossiers/{rejected}",
        f"/staff/dossiers/{rejected}/courriers",
        {"letter": "convocation", "exam": "ecrit"},
    )
    assert refused.status_code == 409 and error_of(refused) == "Convocation : le candidat n'est pas admis à concourir."


async def test_letters_deposited_from_the_dossier_page(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.ADMITTED)
    http = await staff(StaffRole.INSTRUCTOR)
    page = f"/staff/dossiers/{number}"

    convened = await post_form(http, page, f"{page}/courriers", {"letter": "convocation", "exam": "ecrit"})
    assert convened.status_code == 303 and convened.headers["location"].endswith("?ok=courrier#haut")
    again = await post_form(http, page, f"{page}/courriers", {"letter": "convocation", "exam": "ecrit"})
    assert again.headers["location"].endswith("?ok=deja#haut")
    assert "Ce document était déjà déposé dans le dossier." in text_of(await http.get(again.headers["location"]))
    dossier = await view(client, number)
    [convocation] = dossier.documents
    assert convocation.kind is CentreDocumentKind.CONVOCATION
    assert convocation.release_at == exam_of(c, "ecrit").starts_at - timedelta(days=15)

    # The oral's convocation is for admissible candidates only: the dossier says so.
    refused = await post_form(http, page, f"{page}/courriers", {"letter": "convocation", "exam": "oral"})
    assert refused.status_code == 409 and error_of(refused) == "Convocation : le candidat n'est pas admissible."

    # A result, with its letter; then a transcript and an attendance certificate.
    recorded = await post_form(http, page, f"{page}/resultat", {"result": "admissible", "request_id": uuid.uuid4().hex})
    assert recorded.status_code == 303
    bad_marks = await post_form(
        http, page, f"{page}/courriers", {"letter": "releve", "marks": "Note de synthèse ; vingt"}
    )
    assert bad_marks.status_code == 422 and "la note doit être un nombre" in error_of(bad_marks)
    marks = "Note de synthèse ; 13,5\nQuestions à réponse courte ; ABS"
    assert (await post_form(http, page, f"{page}/courriers", {"letter": "releve", "marks": marks})).status_code == 303
    assert (
        await post_form(http, page, f"{page}/courriers", {"letter": "attestation", "exam": "ecrit"})
    ).status_code == 303

    # The result letter is printed by the dossier itself once the result is recorded.
    await eventually(lambda: letters_of(client, number, CentreDocumentKind.RESULT_LETTER))
    dossier = await view(client, number)
    assert dossier.status is Status.ADMISSIBLE
    by_kind = {d.kind: d for d in dossier.documents}
    assert set(by_kind) == {
        CentreDocumentKind.CONVOCATION,
        CentreDocumentKind.RESULT_LETTER,
        CentreDocumentKind.TRANSCRIPT,
        CentreDocumentKind.ATTENDANCE,
    }
    transcript = pdf_lines((await http.get(f"{page}/fichiers/{by_kind[CentreDocumentKind.TRANSCRIPT].ref}")).content)
    assert "Note de synthèse 13,5 / 20" in transcript and "Résultat : Admissible" in transcript
    letter = pdf_lines((await http.get(f"{page}/fichiers/{by_kind[CentreDocumentKind.RESULT_LETTER].ref}")).content)
    assert "déclaré(e) admissible" in letter
    # The result cannot be recorded twice.
    twice = await post_form(http, page, f"{page}/resultat", {"result": "admissible", "request_id": uuid.uuid4().hex})
    assert twice.status_code == 409 and "Résultat « admissible » impossible" in error_of(twice)
