"""Preparing the convocations of one exam date from the back office: admitted candidates only,
the venue's access map printed in each, released by each dossier 15 days before the exam,
never deposited twice; and a bulk admission launched from the campaign page."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from temporalio.client import Client

from domain.documents import CentreDocumentKind
from domain.status import Status
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, post_form, saved_campaign, view
from tests.batch.test_results_import import finished
from tests.letters.pdf import pdf_lines
from tests.web.pages import text_of


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


async def test_convocations_of_an_exam_date_reach_admitted_candidates_once(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    campaign = await saved_campaign(database)
    written = campaign.exam("ecrit")
    assert written is not None
    admitted = await dossiers(client, prompt_queue, campaign, 6, Status.ADMITTED)
    under_reserve = await dossiers(
        client, prompt_queue, campaign, 2, Status.ADMITTED_UNDER_RESERVE, prefix=f"R{admitted[0][1:7]}"
    )
    complete = await dossiers(client, prompt_queue, campaign, 2, Status.COMPLETE, prefix=f"S{admitted[0][1:7]}")
    admin = await staff(StaffRole.ADMINISTRATOR)

    # The access map first (an image: it is printed in the convocation).
    page = f"/staff/sessions/{campaign.id}"
    refused = await post_form(
        admin, page, f"{page}/plans/ecrit", files={"plan": ("plan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    )
    assert refused.status_code == 415 and "image PNG, JPEG ou GIF" in error_of(refused)
    saved = await post_form(admin, page, f"{page}/plans/ecrit", files={"plan": ("plan.png", png(), "image/png")})
    assert saved.status_code == 303

    started = await post_form(admin, page, f"{page}/lots", {"kind": "convocations", "exam": "ecrit"})
    assert started.status_code == 303, error_of(started)
    workflow_id = started.headers["location"].rsplit("/", 1)[-1]
    progress = await finished(client, workflow_id)
    assert progress.total == 8 and progress.applied == 8 and progress.refused == 0

    for number in admitted + under_reserve:
        dossier = await view(client, number)
        [convocation] = [d for d in dossier.documents if d.kind is CentreDocumentKind.CONVOCATION]
        assert convocation.exam_code == "ecrit"
        assert convocation.release_at == written.starts_at - timedelta(days=15)
        assert convocation.released_at is None  # the candidate sees it 15 days before
    for number in complete:
        assert (await view(client, number)).documents == []

    pdf = (await admin.get(f"/staff/dossiers/{dossier.dossier_number}/fichiers/{convocation.ref}")).content
    text = pdf_lines(pdf)
    assert "CONVOCATION" in text and written.venue in text and "Plan d'accès" in text
    assert b"/Subtype /Image" in pdf  # the map is printed

    # Again: nothing deposited twice; each dossier says why.
    again = await post_form(admin, page, f"{page}/lots", {"kind": "convocations", "exam": "ecrit"})
    progress = await finished(client, again.headers["location"].rsplit("/", 1)[-1])
    assert progress.applied == 0 and progress.refused == 8
    assert {i.message for i in progress.issues} == {"Convocation déjà déposée dans ce dossier."}
    for number in admitted:
        assert len([d for d in (await view(client, number)).documents if d.kind is CentreDocumentKind.CONVOCATION]) == 1


async def test_bulk_admission_from_the_campaign_page(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    campaign = await saved_campaign(database)
    complete = await dossiers(client, prompt_queue, campaign, 5, Status.COMPLETE)
    instructor = await staff(StaffRole.INSTRUCTOR)
    page = await instructor.get(f"/staff/sessions/{campaign.id}")
    assert "5 dossier(s) au statut « Dossier complet »" in text_of(page)
    started = await post_form(
        instructor, f"/staff/sessions/{campaign.id}", f"/staff/sessions/{campaign.id}/lots", {"kind": "admission"}
    )
    assert started.status_code == 303
    workflow_id = started.headers["location"].rsplit("/", 1)[-1]
    progress = await finished(client, workflow_id)
    assert progress.applied == 5
    shown = text_of(await instructor.get(f"/staff/lots/{workflow_id}"))
    assert "Admission à concourir des dossiers complets" in shown and "5 traité(s) sur 5" in shown
    for number in complete:
        assert (await view(client, number)).status is Status.ADMITTED
    # Listed on the campaign page.
    assert workflow_id in (await instructor.get(f"/staff/sessions/{campaign.id}")).text
