"""Moving an exam from the back office once dossiers are open: the edit is saved, then
CampaignExamsWorkflow carries it to every open dossier (pending convocations follow their exam,
convened candidates get one email), once however many clicks."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.campaign import Campaign, ExamAmendment
from domain.documents import CentreDocument, CentreDocumentKind
from domain.status import Status
from infra.clock import now
from infra.database import Database, get_campaign
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, post_form, saved_campaign, view
from tests.conftest import eventually
from tests.factories import exam_of
from tests.web.pages import text_of, token_in
from tests.workflows.steps import mails_settled, signals_handled
from web.staff.campaign_form import CampaignForm
from workflows import names
from workflows.dossier import DossierWorkflow

MOVED = "Modification de la date ou du lieu d'une épreuve"


def fields(c: Campaign, exams: str | None = None, **overrides: str) -> dict[str, str]:
    data = {k: v for k, v in dataclasses.asdict(CampaignForm.of(c)).items() if k != "errors"}
    if exams is not None:
        data["exams"] = exams
    data.update(overrides)
    return data


def exam_line(c: Campaign, code: str, when: str | None = None, venue: str | None = None) -> str:
    e = c.exam(code)
    assert e is not None
    local = e.starts_at.astimezone(ZoneInfo(c.time_zone)).strftime("%Y-%m-%d %H:%M")
    return f"{e.code} | {e.kind.value} | {when or local} | {e.label} | {venue or e.venue}"


async def saved(database: Database, campaign_id: str) -> Campaign:
    async with database.sessions() as session:
        c = await get_campaign(session, campaign_id)
    assert c is not None
    return c


async def test_moving_an_exam_is_saved_and_reaches_every_open_dossier_once(
    staff, database: Database, client: Client, prompt_queue: str, mail_sink: MailSink
) -> None:
    c = await saved_campaign(database)
    [admitted, waiting] = [
        *(await dossiers(client, prompt_queue, c, 1, Status.ADMITTED)),
        *(await dossiers(client, prompt_queue, c, 1, Status.AWAITING_DOSSIER)),
    ]
    handle = client.get_workflow_handle_for(DossierWorkflow.run, admitted)
    at = now()
    await handle.execute_update(
        DossierWorkflow.deposit_document,
        CentreDocument(
            ref=f"convocation-{admitted}",
            kind=CentreDocumentKind.CONVOCATION,
            title="Convocation à l'épreuve écrite",
            exam_code="ecrit",
            deposited_at=at,
            release_at=at,
        ),
    )
    admin = await staff(StaffRole.ADMINISTRATOR)
    page = f"/staff/sessions/{c.id}/modifier"
    assert "gardez les mêmes codes et natures d'épreuves" in text_of(await admin.get(page))

    # Exams can no longer be removed (nor added, nor change kind): refused, nothing saved.
    refused = await post_form(admin, page, page, fields(c, exams=exam_line(c, "ecrit")))
    assert refused.status_code == 422
    assert error_of(refused).startswith(
        "Des dossiers sont ouverts : les épreuves ne peuvent plus être ajoutées ni retirées"
    )
    assert [e.code for e in (await saved(database, c.id)).exams] == ["ecrit", "oral"]

    # Another field edited, the exams shown to the minute sent back as they were: no amendment,
    # and the exams keep their exact instants.
    other = await post_form(admin, page, page, fields(c, organiser="CDG 56 (Morbihan)"))
    assert other.status_code == 303 and other.headers["location"].endswith("?ok=modifiee"), error_of(other)
    kept = await saved(database, c.id)
    assert kept.organiser == "CDG 56 (Morbihan)" and kept.exams == c.exams and kept.exams_amended_at is None
    c = kept

    # The written exam moves three weeks later, to another venue. A double click: two posts at once.
    tz = ZoneInfo(c.time_zone)
    new_local = (exam_of(c, "ecrit").starts_at + timedelta(days=21)).astimezone(tz).replace(second=0, microsecond=0)
    moved = "\n".join(
        [exam_line(c, "ecrit", new_local.strftime("%Y-%m-%d %H:%M"), "Espace Montcalm, Vannes"), exam_line(c, "oral")]
    )
    token = token_in(await admin.get(page))
    first, second = await asyncio.gather(
        *(admin.post(page, data={**fields(c, exams=moved), "csrf_token": token}) for _ in range(2))
    )
    assert first.status_code == second.status_code == 303, error_of(first) or error_of(second)
    assert "?ok=epreuves" in first.headers["location"] + second.headers["location"]
    amended = await saved(database, c.id)
    assert (
        exam_of(amended, "ecrit").starts_at == new_local
        and exam_of(amended, "ecrit").venue == "Espace Montcalm, Vannes"
    )
    assert exam_of(amended, "oral").starts_at == exam_of(c, "oral").starts_at
    assert amended.exams_amended_at is not None

    workflow_id = names.campaign_exams_workflow_id(c.id, ExamAmendment(c.id, amended.exams, now()).digest())
    assert await client.get_workflow_handle(workflow_id).result() == 2
    assert len([w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]) == 1

    dossier = await view(client, admitted)
    assert exam_of(dossier.campaign, "ecrit").starts_at == new_local
    assert dossier.documents[0].release_at == new_local - c.convocation_lead
    assert exam_of((await view(client, waiting)).campaign, "ecrit").venue == "Espace Montcalm, Vannes"
    await eventually(lambda: [m for m in mail_sink.for_dossier(admitted) if MOVED in m.subject])
    flash = text_of(await admin.get(f"/staff/sessions/{c.id}?ok=epreuves"))
    assert "Les nouvelles dates, nouveaux lieux ou libellés des épreuves sont transmis à chaque dossier ouvert" in flash

    # Sent again from the campaign page (say, after a transmission that could not start): the
    # dossiers already follow it, so no second email.
    queued = (await view(client, admitted)).mails_queued
    instructor = await staff(StaffRole.INSTRUCTOR)
    action = f"/staff/sessions/{c.id}/epreuves/transmettre"
    assert (await post_form(instructor, f"/staff/sessions/{c.id}", action)).status_code == 403
    again = await post_form(admin, f"/staff/sessions/{c.id}", action)
    assert again.status_code == 303 and again.headers["location"].endswith("?ok=epreuves_retransmises")
    await eventually(lambda: _runs(client, workflow_id, 2))
    assert await client.get_workflow_handle(workflow_id).result() == 2
    # Both dossiers handled the second signal: it queued no email and noted nothing.
    for number in (admitted, waiting):
        await signals_handled(client.get_workflow_handle(number), names.AMEND_EXAMS, 2)
    settled = await mails_settled(client.get_workflow_handle(admitted))
    assert settled.mails_queued == queued
    assert len([t for t in settled.timeline if t.code == "epreuve_modifiee"]) == 1
    assert len([m for m in mail_sink.for_dossier(admitted) if MOVED in m.subject]) == 1
    await mails_settled(client.get_workflow_handle(waiting))
    assert not [m for m in mail_sink.for_dossier(waiting) if MOVED in m.subject]


async def _runs(client: Client, workflow_id: str, count: int) -> bool:
    return len([w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]) == count
