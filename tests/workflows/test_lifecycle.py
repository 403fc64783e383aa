"""A dossier's whole life with realistic dates, on the time-skipping server.

Each test moves the server's clock to the instants that matter (a Tuesday 16:30 validation, the
next working day at 8:30, 15 days before an exam) and checks what the candidate would see:
status, allowed uploads, released documents, and the emails in the real SMTP sink.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from devtools.mail_sink import MailSink
from domain.calendar import local_instant, to_local, uploads_reopen_at
from domain.campaign import Campaign, ExamDate, ExamKind
from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocumentKind
from domain.dossier import Dossier
from domain.exams import ExamResult
from domain.status import Status
from infra.settings import Settings
from tests.conftest import eventually
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from tests.workflows.steps import (
    PARIS,
    deposit,
    mail_counts,
    next_weekday_at,
    record_history,
    refused,
    skip_to,
    status_becomes,
    upload,
    view,
)
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, ResultEntry, Validate


def realistic_campaign(t0: datetime, validation_day: datetime) -> Campaign:
    written = local_instant(to_local(validation_day, PARIS).date() + timedelta(days=60), time(9), PARIS)
    oral = local_instant(to_local(validation_day, PARIS).date() + timedelta(days=95), time(9), PARIS)
    return make_campaign(
        now=t0,
        deadline_in=(validation_day + timedelta(days=7)) - t0,
        grace=timedelta(days=5),
        exams=[
            ExamDate(
                "ecrit", "Épreuve écrite d'admissibilité", ExamKind.WRITTEN, written, "Parc des expositions, Vannes"
            ),
            ExamDate("oral", "Épreuve orale d'admission", ExamKind.ORAL, oral, "CDG 56, Vannes"),
        ],
    )


async def test_a_dossier_lives_from_preregistration_to_its_results(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    client = time_env.client
    t0 = await time_env.get_current_time()
    tuesday = next_weekday_at(t0, 1, time(16, 30))
    c = realistic_campaign(t0, tuesday)
    reg = registration(c, t0)
    gateway = WorkflowClient(client, time_settings.task_queue)
    await gateway.start_dossier(reg)
    handle = gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)
    number = reg.dossier_number

    # Validation on a Tuesday at 16:30: uploads close until Wednesday 8:30 (the seed's example).
    await skip_to(time_env, tuesday)
    ack = await handle.execute_update(DossierWorkflow.validate, Validate(True))
    assert ack.label == "En cours de transfert"
    reopen = uploads_reopen_at(tuesday, PARIS, c.public_holidays)
    assert to_local(reopen, PARIS).time() == time(8, 30)
    message = await refused(handle.execute_update(DossierWorkflow.record_upload, upload("a" * 32, "diplome", tuesday)))
    assert "Les pièces pourront être déposées à partir du" in message

    # Next working day at 8:30: under instruction, acknowledged, uploads open again.
    await skip_to(time_env, reopen + timedelta(minutes=1))
    dossier = await status_becomes(handle, Status.IN_INSTRUCTION)
    assert dossier.instruction_started_at is not None and dossier.instruction_started_at >= reopen
    await handle.execute_update(DossierWorkflow.record_upload, upload("b" * 32, "formulaire", reopen))

    # One regularisation request, with a reminder two days before its deadline.
    reg_deadline = reopen + timedelta(days=10)
    await handle.execute_update(
        DossierWorkflow.decide,
        Decision(DecisionKind.INCOMPLETE, by="instructeur", missing=["diplome"], deadline=reg_deadline),
    )
    second = await refused(
        handle.execute_update(
            DossierWorkflow.decide,
            Decision(DecisionKind.INCOMPLETE, by="instructeur", missing=["autre"], deadline=reg_deadline),
        )
    )
    assert (
        second == f"Décision « Dossier incomplet » impossible : le dossier est au statut « {Status.INCOMPLETE.label} »."
    )
    await skip_to(time_env, reg_deadline - timedelta(days=2) + timedelta(minutes=1))
    await eventually(lambda: mail_counts(mail_sink, number)["Rappel"] == 1)
    now = await time_env.get_current_time()
    await handle.execute_update(DossierWorkflow.record_upload, upload("c" * 32, "diplome", now))

    # Complete, then admitted: convocation email promised, convocation held until 15 days before.
    await handle.execute_update(DossierWorkflow.decide, Decision(DecisionKind.COMPLETE, by="instructeur"))
    await handle.execute_update(DossierWorkflow.decide, Decision(DecisionKind.ADMIT, by="instructeur"))
    await handle.execute_update(
        DossierWorkflow.deposit_document,
        deposit("d" * 32, CentreDocumentKind.CONVOCATION, "Convocation à l'épreuve écrite", "ecrit"),
    )
    written = c.exam("ecrit")
    assert written is not None
    dossier = await view(handle)
    # Released so far: the regularisation letter the workflow printed with its decision.
    assert [d.kind for d in dossier.released_documents()] == [CentreDocumentKind.REGULARISATION]
    [convocation] = [d for d in dossier.documents if d.kind is CentreDocumentKind.CONVOCATION]
    assert convocation.release_at == written.starts_at - timedelta(days=15)

    await skip_to(time_env, written.starts_at - timedelta(days=15) + timedelta(minutes=1))
    dossier = await eventually(lambda: _released(handle, 2))
    assert dossier.released_documents()[0].title == "Convocation à l'épreuve écrite"

    # Written results, the oral's convocation, the final result and its letter.
    await handle.execute_update(DossierWorkflow.record_result, ResultEntry(ExamResult.ADMISSIBLE, by="jury"))
    await handle.execute_update(
        DossierWorkflow.deposit_document,
        deposit("e" * 32, CentreDocumentKind.CONVOCATION, "Convocation à l'épreuve orale", "oral"),
    )
    oral = c.exam("oral")
    assert oral is not None
    await skip_to(time_env, oral.starts_at - timedelta(days=15) + timedelta(minutes=1))
    # Released: regularisation letter, written convocation, admissibility letter, oral convocation.
    await eventually(lambda: _released(handle, 4))
    await handle.execute_update(DossierWorkflow.record_result, ResultEntry(ExamResult.PASSED, by="jury"))
    # Each result's letter is printed by the workflow itself.
    dossier = await eventually(lambda: _released(handle, 5))
    assert [d.title for d in dossier.documents if d.kind is CentreDocumentKind.RESULT_LETTER] == [
        "Courrier de résultat — Admissible",
        "Courrier de résultat — Admis(e)",
    ]
    await handle.signal(DossierWorkflow.archive)
    outcome = await handle.result()
    assert outcome.status is Status.PASSED

    counts = mail_counts(mail_sink, number)
    assert counts == Counter(
        {
            "Votre préinscription": 1,
            "Demande d'inscription validée": 1,
            "Accusé de réception": 1,
            "Dossier incomplet": 1,
            "Rappel": 1,
            "Vous êtes admis(e) à concourir": 1,
            "Nouveau document dans votre espace": 5,
            "Votre résultat": 2,
        }
    ), counts
    await record_history(handle, "full_lifecycle")


async def _released(handle: WorkflowHandle, count: int) -> Dossier | None:
    dossier = await view(handle)
    return dossier if len(dossier.released_documents()) >= count else None


async def test_uploads_close_at_the_end_of_the_grace_period(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    client = time_env.client
    t0 = await time_env.get_current_time()
    friday = next_weekday_at(t0, 4, time(9, 0))
    c = realistic_campaign(t0, friday)
    reg = registration(c, t0)
    gateway = WorkflowClient(client, time_settings.task_queue)
    await gateway.start_dossier(reg)
    handle = gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)

    # Friday 9:00 → Monday 8:30 (the seed's second example), unless Monday is a holiday.
    await skip_to(time_env, friday)
    await handle.execute_update(DossierWorkflow.validate, Validate(True))
    reopen = uploads_reopen_at(friday, PARIS, c.public_holidays)
    assert to_local(reopen, PARIS).weekday() == 0 or to_local(reopen, PARIS).date() in {
        d + timedelta(days=1) for d in c.public_holidays
    }
    grace_end = c.validation_deadline + c.upload_grace
    await skip_to(time_env, grace_end - timedelta(minutes=5))
    await handle.execute_update(DossierWorkflow.record_upload, upload("1" * 32, "diplome", grace_end))

    await skip_to(time_env, grace_end + timedelta(minutes=5))
    message = await refused(
        handle.execute_update(DossierWorkflow.record_upload, upload("2" * 32, "diplome", grace_end))
    )
    assert "La période de dépôt des pièces est close" in message
    dossier = await view(handle)
    assert [e.code for e in dossier.timeline if e.code == "fin_depot"] == ["fin_depot"]
    await handle.signal(DossierWorkflow.archive)
    await handle.result()
    await record_history(handle, "grace_period")


async def test_reminders_7_and_1_days_before_the_deadline_then_cancellation(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    client = time_env.client
    t0 = await time_env.get_current_time()
    c = make_campaign(now=t0, deadline_in=timedelta(days=20))
    reg = registration(c, t0)
    gateway = WorkflowClient(client, time_settings.task_queue)
    await gateway.start_dossier(reg)
    handle = gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)
    number = reg.dossier_number

    await skip_to(time_env, c.validation_deadline - timedelta(days=7) + timedelta(minutes=1))
    await eventually(lambda: mail_counts(mail_sink, number)["Rappel"] == 1)
    await skip_to(time_env, c.validation_deadline - timedelta(days=1) + timedelta(minutes=1))
    await eventually(lambda: mail_counts(mail_sink, number)["Rappel"] == 2)
    assert (await view(handle)).status is Status.AWAITING_DOSSIER

    await skip_to(time_env, c.validation_deadline + timedelta(seconds=1))
    dossier = await status_becomes(handle, Status.CANCELLED)
    assert dossier.status.label.startswith("Préinscription annulée")
    await eventually(lambda: mail_counts(mail_sink, number)["Préinscription annulée"] == 1)
    message = await refused(handle.execute_update(DossierWorkflow.validate, Validate(True)))
    assert "ne peut plus être validé" in message
    assert mail_counts(mail_sink, number)["Rappel"] == 2
    await handle.signal(DossierWorkflow.archive)
    await handle.result()
    await record_history(handle, "reminders_and_cancellation")
