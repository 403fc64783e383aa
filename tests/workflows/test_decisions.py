"""Staff decisions and candidate messages once a dossier is under instruction, on the
time-skipping server: each transition, its email, and each refusal (which writes nothing)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.workflow import UpdateMethodMultiParam

from devtools.mail_sink import MailSink
from domain.calendar import uploads_reopen_at
from domain.campaign import Campaign
from domain.candidate import Address
from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocumentKind
from domain.exams import ExamResult
from domain.status import Status
from infra.settings import Settings
from tests.conftest import eventually, mail_with_subject
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


async def under_instruction(env: WorkflowEnvironment, settings: Settings) -> tuple[WorkflowHandle, Campaign]:
    """A dossier validated on a Monday morning, now under instruction (Tuesday 8:30 passed)."""
    t0 = await env.get_current_time()
    monday = next_weekday_at(t0, 0, time(10, 0))
    c = make_campaign(now=t0, deadline_in=(monday - t0) + timedelta(days=10), grace=timedelta(days=3))
    reg = registration(c, t0)
    await WorkflowClient(env.client, settings.task_queue).start_dossier(reg)
    handle = env.client.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)
    await skip_to(env, monday)
    await handle.execute_update(DossierWorkflow.validate, Validate(True))
    await skip_to(env, uploads_reopen_at(monday, PARIS, c.public_holidays) + timedelta(minutes=1))
    await status_becomes(handle, Status.IN_INSTRUCTION)
    return handle, c


async def accepted_updates(handle: WorkflowHandle) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


def decision(kind: DecisionKind, **fields) -> Decision:
    return Decision(kind, by="instructeur", **fields)


async def test_rejection_with_reasons_is_emailed_and_closes_the_dossier(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    handle, _ = await under_instruction(time_env, time_settings)
    number = handle.id
    message = await refused(handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.REJECT)))
    assert message == "Un rejet doit indiquer ses motifs."

    ack = await handle.execute_update(
        DossierWorkflow.decide, decision(DecisionKind.REJECT, reasons="Diplôme de niveau insuffisant")
    )
    assert ack.label == "Dossier rejeté"
    mail = await mail_with_subject(mail_sink, number, "Dossier rejeté")
    assert "Diplôme de niveau insuffisant" in mail.body

    # Closed: the candidate can neither upload nor withdraw; staff cannot admit.
    now = await time_env.get_current_time()
    assert "ne reçoit plus de pièces" in await refused(
        handle.execute_update(DossierWorkflow.record_upload, upload("9" * 32, "diplome", now))
    )
    assert "Ce dossier est clos" in await refused(handle.execute_update(DossierWorkflow.withdraw))
    assert "impossible" in await refused(handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.ADMIT)))
    await handle.signal(DossierWorkflow.archive)
    await handle.result()
    await record_history(handle, "rejection")


async def test_admission_under_reserve_then_rejection_withholds_the_pending_convocation(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    handle, c = await under_instruction(time_env, time_settings)
    number = handle.id
    # A convocation cannot be deposited before admission.
    convocation = deposit("c" * 32, CentreDocumentKind.CONVOCATION, "Convocation à l'épreuve écrite", "ecrit")
    assert "n'est pas admis à concourir" in await refused(
        handle.execute_update(DossierWorkflow.deposit_document, convocation)
    )
    ack = await handle.execute_update(
        DossierWorkflow.decide, decision(DecisionKind.ADMIT_UNDER_RESERVE, reasons="Diplôme étranger à vérifier")
    )
    assert ack.label == "Vous êtes admis(e) à concourir sous réserve"
    await mail_with_subject(mail_sink, number, "sous réserve")
    await handle.execute_update(DossierWorkflow.deposit_document, convocation)
    # An oral convocation needs the written exam's admissibility first.
    oral = deposit("o" * 32, CentreDocumentKind.CONVOCATION, "Convocation à l'oral", "oral")
    assert "n'est pas admissible" in await refused(handle.execute_update(DossierWorkflow.deposit_document, oral))

    # The reserve is lifted the other way: rejected before the convocation's release.
    await handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.REJECT, reasons="Équivalence refusée"))
    written = c.exam("ecrit")
    assert written is not None
    await skip_to(time_env, written.starts_at - timedelta(days=14))
    dossier = await view(handle)
    # The convocation is withheld; only the rejection letter the workflow printed is released.
    assert [d.kind for d in dossier.released_documents()] == [CentreDocumentKind.REJECTION_LETTER]
    assert "document_retire" in [e.code for e in dossier.timeline]
    assert mail_counts(mail_sink, number)["Nouveau document dans votre espace"] == 1
    await handle.signal(DossierWorkflow.archive)
    await handle.result()


async def test_withdrawal_and_change_of_address_are_recorded_and_emailed(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    handle, _ = await under_instruction(time_env, time_settings)
    number = handle.id
    assert "obligatoires" in await refused(
        handle.execute_update(DossierWorkflow.change_address, Address(" ", "56000", "Vannes"))
    )
    await handle.execute_update(DossierWorkflow.change_address, Address("3 place Lucien Laroche", "56000", "Vannes"))
    dossier = await view(handle)
    assert dossier.registration.candidate.address.line1 == "3 place Lucien Laroche"
    await mail_with_subject(mail_sink, number, "Changement d'adresse enregistré")

    ack = await handle.execute_update(DossierWorkflow.withdraw)
    assert ack.label == "Inscription annulée à votre demande"
    await mail_with_subject(mail_sink, number, "Désistement enregistré")
    assert "Ce dossier est clos" in await refused(handle.execute_update(DossierWorkflow.withdraw))
    assert "Ce dossier est clos" in await refused(
        handle.execute_update(DossierWorkflow.change_address, Address("1 rue Neuve", "56000", "Vannes"))
    )
    assert "impossible" in await refused(handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.COMPLETE)))
    await handle.signal(DossierWorkflow.archive)
    await handle.result()
    await record_history(handle, "withdrawal")


async def test_refusals_write_nothing_to_the_history(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    handle, c = await under_instruction(time_env, time_settings)
    now = await time_env.get_current_time()
    for i in range(3):  # « Diplôme(s) requis » takes 3 files
        await handle.execute_update(DossierWorkflow.record_upload, upload(f"{i}" * 32, "diplome", now))
    before = await accepted_updates(handle)
    mails_before = len(mail_sink.for_dossier(handle.id))

    # Updates taking different arguments: each row pairs an update with an argument of its type.
    refusals: list[tuple[UpdateMethodMultiParam[[Any, Any], Any], object, str]] = [
        (
            DossierWorkflow.record_upload,
            upload("4" * 32, "diplome", now),
            "le nombre maximal de fichiers (3) est atteint",
        ),
        (DossierWorkflow.record_upload, upload("5" * 32, "permis", now), "n'est pas demandée"),
        (DossierWorkflow.validate, Validate(True), "déjà validée"),
        (DossierWorkflow.decide, decision(DecisionKind.ADMIT), "impossible"),
        (
            DossierWorkflow.decide,
            decision(DecisionKind.INCOMPLETE, missing=[], deadline=now + timedelta(days=5)),
            "Indiquez les pièces manquantes",
        ),
        (
            DossierWorkflow.decide,
            decision(DecisionKind.INCOMPLETE, missing=["permis"], deadline=now + timedelta(days=5)),
            "Pièces inconnues",
        ),
        (
            DossierWorkflow.decide,
            decision(DecisionKind.INCOMPLETE, missing=["diplome"], deadline=now - timedelta(hours=1)),
            "dans le futur",
        ),
        (DossierWorkflow.record_result, ResultEntry(ExamResult.ADMISSIBLE, by="jury"), "impossible"),
        (
            DossierWorkflow.deposit_document,
            deposit("m" * 32, CentreDocumentKind.CONVOCATION, "Convocation", "inconnue"),
            "indiquez une épreuve",
        ),
    ]
    for update, argument, reason in refusals:
        assert reason in await refused(handle.execute_update(update, argument)), reason
    assert await accepted_updates(handle) == before
    dossier = await view(handle)
    assert dossier.status is Status.IN_INSTRUCTION and len(dossier.uploads) == 3
    assert len(mail_sink.for_dossier(handle.id)) == mails_before

    # The regularisation reopens the full category, once, until after the grace period.
    deadline = c.validation_deadline + c.upload_grace + timedelta(days=2)
    await handle.execute_update(
        DossierWorkflow.decide, decision(DecisionKind.INCOMPLETE, missing=["diplome"], deadline=deadline)
    )
    await handle.execute_update(DossierWorkflow.record_upload, upload("6" * 32, "diplome", now))
    dossier = await view(handle)
    assert dossier.category_counts()["diplome"] == 4
    assert "Décision « Dossier incomplet » impossible" in await refused(
        handle.execute_update(
            DossierWorkflow.decide, decision(DecisionKind.INCOMPLETE, missing=["autre"], deadline=deadline)
        )
    )
    await skip_to(time_env, deadline + timedelta(minutes=1))
    await eventually(lambda: _expired(handle))
    later = await time_env.get_current_time()
    assert "close" in await refused(
        handle.execute_update(DossierWorkflow.record_upload, upload("7" * 32, "autre", later))
    )
    await handle.signal(DossierWorkflow.archive)
    await handle.result()


async def _expired(handle: WorkflowHandle) -> bool:
    dossier = await view(handle)
    return bool(dossier.regularisation and dossier.regularisation.expired)


@pytest.mark.parametrize(("result", "label"), [(ExamResult.NOT_ADMISSIBLE, "Non admissible")])
async def test_a_non_admissible_result_closes_the_dossier(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink, result, label
) -> None:
    handle, _ = await under_instruction(time_env, time_settings)
    await handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.COMPLETE))
    await handle.execute_update(DossierWorkflow.decide, decision(DecisionKind.ADMIT))
    ack = await handle.execute_update(DossierWorkflow.record_result, ResultEntry(result, by="jury"))
    assert ack.label == label
    await mail_with_subject(mail_sink, handle.id, "Votre résultat")
    assert "impossible" in await refused(
        handle.execute_update(DossierWorkflow.record_result, ResultEntry(ExamResult.PASSED, by="jury"))
    )
    await handle.signal(DossierWorkflow.archive)
    outcome = await handle.result()
    assert outcome.status is Status.NOT_ADMISSIBLE
