"""Deadline night on the time-skipping server: a validation stamped before the deadline and
delivered minutes after it is accepted; one stamped after, or with a stale stamp, is refused; a
dossier is cancelled only once no on-time validation can arrive, and never with an accepted one."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from devtools.mail_sink import MailSink
from domain.status import Status
from infra.settings import Settings
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from tests.workflows.steps import mail_counts, refused, skip_to, status_becomes, view
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

DELAY = timedelta(minutes=5)
SECOND = timedelta(seconds=1)


async def test_receipt_time_decides_the_deadline_and_the_cancellation_waits_for_it(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    t0 = await time_env.get_current_time()
    c = make_campaign(now=t0, deadline_in=timedelta(days=2), reminders=[], receipt_delay=DELAY)
    dossiers = WorkflowClient(time_env.client, time_settings.task_queue)
    on_time, late, stale, silent = (registration(c, t0) for _ in range(4))
    for reg in (on_time, late, stale, silent):
        await dossiers.start_dossier(reg)
    handle = {
        reg.dossier_number: time_env.client.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number)
        for reg in (on_time, late, stale, silent)
    }

    # Clicks received around the deadline reach their dossiers two minutes after it (a backlog).
    await skip_to(time_env, c.validation_deadline + timedelta(minutes=2))
    assert (await view(handle[silent.dossier_number])).status is Status.AWAITING_DOSSIER  # not closed yet

    ack = await handle[on_time.dossier_number].execute_update(
        DossierWorkflow.validate, Validate(True, received_at=c.validation_deadline - SECOND)
    )
    assert ack.status is Status.TRANSFERRING
    message = await refused(
        handle[late.dossier_number].execute_update(
            DossierWorkflow.validate, Validate(True, received_at=c.validation_deadline + SECOND)
        )
    )
    assert "est dépassée : votre demande d'inscription ne peut plus être validée." in message
    now = await time_env.get_current_time()
    message = await refused(
        handle[stale.dossier_number].execute_update(
            DossierWorkflow.validate, Validate(True, received_at=now - DELAY - timedelta(minutes=1))
        )
    )
    assert message == "Cette demande est trop ancienne pour être prise en compte : renvoyez-la depuis votre espace."

    # Once no on-time click can arrive any more, the dossiers not validated are cancelled.
    await skip_to(time_env, c.validation_deadline + DELAY + timedelta(minutes=1))
    for reg in (late, stale, silent):
        await status_becomes(handle[reg.dossier_number], Status.CANCELLED)
    accepted = await view(handle[on_time.dossier_number])
    assert accepted.status is Status.TRANSFERRING
    assert accepted.validated_at == c.validation_deadline - SECOND
    assert "annulation" not in [entry.code for entry in accepted.timeline]
    assert mail_counts(mail_sink, on_time.dossier_number)["Préinscription annulée"] == 0
    for h in handle.values():
        await h.signal(DossierWorkflow.archive)
