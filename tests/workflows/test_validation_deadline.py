"""The validation deadline is judged by the Update's validator on the workflow's own clock, on
the real dev server: a validation that arrives after the deadline is refused even when the timer
that cancels the dossier has not fired yet."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from domain.status import Status
from infra.settings import Settings
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from tests.workflows.steps import refused, status_becomes
from workflows import names
from workflows.dossier import DossierWorkflow, Validate


async def test_validation_after_the_deadline_is_refused_even_before_the_timer_fires(
    client: Client, settings: Settings, worker
) -> None:
    # The deadline passed a minute ago. The validation comes with the dossier's first workflow
    # task (update-with-start): its validator runs before `run` could look at the clock and
    # cancel the dossier, so no timer has fired, whatever the machine's load.
    c = make_campaign(deadline_in=-timedelta(minutes=1), reminders=[])
    reg = registration(c)
    start = WithStartWorkflowOperation(
        DossierWorkflow.run,
        reg,
        id=names.dossier_workflow_id(reg.dossier_number),
        task_queue=settings.task_queue,
        search_attributes=names.dossier_search_attributes(reg),
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )

    message = await refused(
        client.execute_update_with_start_workflow(
            DossierWorkflow.validate, Validate(True), start_workflow_operation=start
        )
    )

    # The validator's own clock check (the dossier was still awaiting validation), not the
    # refusal of a dossier already cancelled ("ne peut plus être validé (Préinscription annulée").
    assert message.startswith("La date limite de validation (")
    assert message.endswith(") est dépassée : votre demande d'inscription ne peut plus être validée.")
    # Then `run` cancels it; the refused validation left nothing.
    handle = await start.workflow_handle()
    dossier = await status_becomes(handle, Status.CANCELLED)
    assert [e.code for e in dossier.timeline] == ["preinscription", "annulation"]
    assert dossier.validated_at is None
    await handle.signal(DossierWorkflow.archive)
