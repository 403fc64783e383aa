"""An accommodation from request to attendance sheet, and the exam-day documents of one exam:
attendance sheet (alphabetical, signature column, accommodations), door list, the list for the
exam-day team and the CSV of convened candidates, produced by a batch and downloaded by staff."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from temporalio.client import Client

from domain.accommodations import CERTIFICATE_CATEGORY, AccommodationKind, AccommodationRequest
from domain.documents import CentreDocumentKind, UploadedDocument
from domain.status import Status
from infra.database import Database
from infra.settings import Settings
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, post_form, saved_campaign, view
from tests.batch.test_results_import import finished
from tests.letters.pdf import pdf_lines
from tests.web.pages import text_of
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow

TIERS_TEMPS = "Temps de composition majoré (tiers-temps)"
SEPARATE_ROOM = "Salle à part"


def certificate() -> UploadedDocument:
    now = datetime.now(UTC)
    return UploadedDocument("certif-1", CERTIFICATE_CATEGORY, "certificat.pdf", 1200, "0" * 64, "application/pdf", now)


async def test_granted_accommodations_reach_the_convocation_and_the_exam_day_documents(
    staff, database: Database, client: Client, prompt_queue: str, settings: Settings
) -> None:
    campaign = await saved_campaign(database)
    written = campaign.exam("ecrit")
    assert written is not None
    # Index 0..5 of the sample candidates: Le Goff, Le Bihan, Tanguy, Guillou, Le Gall, Morvan.
    numbers = await dossiers(client, prompt_queue, campaign, 6, Status.ADMITTED)
    complete = await dossiers(client, prompt_queue, campaign, 1, Status.COMPLETE, prefix=f"S{numbers[0][1:7]}")
    le_gall = numbers[4]

    # The candidate's request, as the space sends it; staff grant it from the dossier page.
    workflows = WorkflowClient(client, settings.task_queue)
    await workflows.update(
        le_gall,
        DossierWorkflow.request_accommodations,
        AccommodationRequest(
            [AccommodationKind.EXTRA_TIME, AccommodationKind.SEPARATE_ROOM], certificates=[certificate()]
        ),
    )
    instructor = await staff(StaffRole.INSTRUCTOR)
    page = f"/staff/dossiers/{le_gall}"
    granted = await post_form(instructor, page, f"{page}/amenagements", {"outcome": "accorde"})
    assert granted.status_code == 303, error_of(granted)

    # The convocation prints them.
    campaign_page = f"/staff/sessions/{campaign.id}"
    started = await post_form(
        instructor, campaign_page, f"{campaign_page}/lots", {"kind": "convocations", "exam": "ecrit"}
    )
    assert (await finished(client, started.headers["location"].rsplit("/", 1)[-1])).applied == 6
    [convocation] = [d for d in (await view(client, le_gall)).documents if d.kind is CentreDocumentKind.CONVOCATION]
    text = pdf_lines((await instructor.get(f"{page}/fichiers/{convocation.ref}")).content)
    assert "Aménagements d'épreuves accordés" in text and TIERS_TEMPS in text and SEPARATE_ROOM in text
    other = (await view(client, numbers[0])).documents[0]
    assert "Aménagements" not in pdf_lines(
        (await instructor.get(f"/staff/dossiers/{numbers[0]}/fichiers/{other.ref}")).content
    )

    # The exam-day documents: a batch over the exam's convened candidates.
    started = await post_form(
        instructor, campaign_page, f"{campaign_page}/lots", {"kind": "jour-epreuve", "exam": "ecrit"}
    )
    assert started.status_code == 303, error_of(started)
    batch_url = started.headers["location"]
    progress = await finished(client, batch_url.rsplit("/", 1)[-1])
    assert progress.total == 6 and progress.applied == 6 and len(progress.outputs) == 4
    shown = await instructor.get(batch_url)
    assert "Liste d'émargement" in text_of(shown) and "Liste de porte" in text_of(shown)
    files = {o.title.split(" — ")[0]: await instructor.get(f"{batch_url}/fichiers/{o.ref}") for o in progress.outputs}
    assert all(r.status_code == 200 for r in files.values())
    assert (await instructor.get(f"{batch_url}/fichiers/not-ours")).status_code == 404

    order = ["GUILLOU", "LE BIHAN", "LE GALL", "LE GOFF", "MORVAN", "TANGUY"]
    sheet = pdf_lines(files["Liste d'émargement"].content)
    assert "LISTE D'ÉMARGEMENT".lower() in sheet.lower() and written.venue in sheet and "Signature" in sheet
    positions = [sheet.index(f"{name} Maëlle") for name in order]
    assert positions == sorted(positions), "alphabetical order"
    # The accommodations sit on Le Gall's row, between that name and the next one.
    row = sheet[positions[2] : positions[3]]
    assert le_gall in row and TIERS_TEMPS in row and SEPARATE_ROOM in row
    assert "6 candidat(s) convoqué(s), dont 1 avec aménagements" in sheet

    door = pdf_lines(files["Liste de porte"].content)
    assert "De GUILLOU à TANGUY" in door and all(n in door for n in order)
    assert "1990" not in door  # no birth date on a list posted at the door
    team = pdf_lines(files["Aménagements d'épreuves accordés"].content)
    assert "LE GALL Maëlle" in team and TIERS_TEMPS in team and "LE GOFF" not in team

    rows = list(
        csv.DictReader(io.StringIO(files["Candidats convoqués (CSV)"].content.decode("utf-8-sig")), delimiter=";")
    )
    assert [r["nom"].upper() for r in rows] == order
    assert complete[0] not in {r["numero_dossier"] for r in rows}  # not admitted: not convened
    by_number = {r["numero_dossier"]: r for r in rows}
    assert by_number[le_gall]["amenagements"] == f"{TIERS_TEMPS} | {SEPARATE_ROOM}"
    assert by_number[numbers[0]]["amenagements"] == "" and by_number[numbers[0]]["lieu"] == written.venue
