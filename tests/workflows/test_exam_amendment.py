"""An exam moved by a later order reaches every open dossier of its campaign, and only those,
through CampaignExamsWorkflow (a visibility query on CampaignId, then one `amend_exams` signal
each): a pending convocation gets its new release instant, a timer for it, and the convened
candidate one email, however many times the amendment arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from devtools.mail_sink import MailSink
from devtools.prompt_instruction import dossiers_at, wait_for_status_count
from domain.campaign import ExamAmendment, ExamDate
from domain.documents import CentreDocument, CentreDocumentKind
from domain.status import Status
from infra.settings import Settings
from tests.backoffice import prompt_queue  # noqa: F401  (fixture: dossiers started at a status)
from tests.conftest import eventually, mail_with_subject
from tests.factories import campaign as make_campaign
from tests.factories import exam_of
from tests.workflows.steps import mails_settled, signals_handled
from workflows import names
from workflows.campaign import CampaignExamsWorkflow
from workflows.dossier import DossierWorkflow

MOVED = "Modification de la date ou du lieu d'une épreuve"


async def test_a_moved_exam_reaches_open_dossiers_and_its_convocation_follows(
    client: Client,
    settings: Settings,
    worker,
    mail_sink: MailSink,
    prompt_queue: str,  # noqa: F811
) -> None:
    c = make_campaign(reminders=[])
    other = make_campaign(reminders=[])
    [admitted] = await dossiers_at(client, prompt_queue, c, 1, Status.ADMITTED)
    [waiting] = await dossiers_at(client, prompt_queue, c, 1, Status.AWAITING_DOSSIER)
    [elsewhere] = await dossiers_at(client, prompt_queue, other, 1, Status.ADMITTED)
    await wait_for_status_count(client, c.id, Status.ADMITTED, 1)
    await wait_for_status_count(client, c.id, Status.AWAITING_DOSSIER, 1)
    await wait_for_status_count(client, other.id, Status.ADMITTED, 1)
    handle = client.get_workflow_handle_for(DossierWorkflow.run, admitted)

    written = c.exam("ecrit")
    assert written is not None
    now = datetime.now(UTC)
    convocation = CentreDocument(
        ref=f"convocation-{admitted}",
        kind=CentreDocumentKind.CONVOCATION,
        title="Convocation à l'épreuve écrite",
        exam_code="ecrit",
        deposited_at=now,
        release_at=now,
    )
    await handle.execute_update(DossierWorkflow.deposit_document, convocation)
    pending = (await handle.query(DossierWorkflow.view)).documents[0]
    assert pending.release_at == written.starts_at - c.convocation_lead  # about 45 days from now

    # The written exam is brought forward: its convocation is now due a few seconds from now.
    new_start = (datetime.now(UTC) + c.convocation_lead + timedelta(seconds=8)).replace(microsecond=0)
    exams = [
        ExamDate(
            e.code,
            e.label,
            e.kind,
            new_start if e.code == "ecrit" else e.starts_at,
            "Espace Montcalm, Vannes" if e.code == "ecrit" else e.venue,
        )
        for e in c.exams
    ]
    amendment = ExamAmendment(c.id, exams, amended_at=datetime.now(UTC))
    told = await client.execute_workflow(
        CampaignExamsWorkflow.run,
        amendment,
        id=names.campaign_exams_workflow_id(c.id, amendment.digest()),
        task_queue=settings.task_queue,
    )
    assert told == 2

    dossier = await handle.query(DossierWorkflow.view)
    assert exam_of(dossier.campaign, "ecrit").starts_at == new_start
    assert dossier.documents[0].release_at == new_start - c.convocation_lead
    assert dossier.documents[0].released_at is None
    assert dossier.timeline[-1].code == "epreuve_modifiee"
    shown = dossier.next_deadlines(datetime.now(UTC))
    assert ("Épreuve écrite d'admissibilité — Espace Montcalm, Vannes", new_start) in shown
    mail = await mail_with_subject(mail_sink, admitted, MOVED)
    assert "Espace Montcalm, Vannes" in mail.body

    # Not convened, not mailed, but following the new date; another campaign untouched.
    assert exam_of((await _view(client, waiting)).campaign, "ecrit").starts_at == new_start
    assert exam_of((await _view(client, elsewhere)).campaign, "ecrit").starts_at == exam_of(other, "ecrit").starts_at

    # The same amendment again (a retried activity, a second run): handled, nothing changes, no mail.
    queued = (await handle.query(DossierWorkflow.view)).mails_queued
    await handle.signal(DossierWorkflow.amend_exams, amendment)
    await signals_handled(handle, names.AMEND_EXAMS, 2)
    again = await handle.query(DossierWorkflow.view)
    assert len([t for t in again.timeline if t.code == "epreuve_modifiee"]) == 1
    assert exam_of(again.campaign, "ecrit").starts_at == new_start

    # The new release instant has a timer: the convocation comes out on time, and is mailed.
    await mail_with_subject(mail_sink, admitted, "Nouveau document dans votre espace", timeout=30)
    settled = await mails_settled(handle)
    released = settled.documents[0]
    assert released.released_at is not None
    assert released.released_at >= new_start - c.convocation_lead
    # Since the second amendment: one email queued, the convocation's; all sent, none pending.
    assert settled.mails_queued == queued + 1
    assert len([m for m in mail_sink.for_dossier(admitted) if MOVED in m.subject]) == 1
    await mails_settled(client.get_workflow_handle(waiting))
    assert not [m for m in mail_sink.for_dossier(waiting) if MOVED in m.subject]
    assert len([t for t in settled.timeline if t.code == "epreuve_modifiee"]) == 1

    for number in (admitted, waiting, elsewhere):
        await client.get_workflow_handle(number).signal(DossierWorkflow.archive)
    await eventually(lambda: _archived(client, admitted))


async def _view(client: Client, number: str):
    return await client.get_workflow_handle_for(DossierWorkflow.run, number).query(DossierWorkflow.view)


async def _archived(client: Client, number: str) -> bool:
    return (await _view(client, number)).archived
