"""A campaign's deadline extension reaches every open dossier of that campaign, and only those,
through CampaignDeadlineWorkflow (a visibility query on CampaignId, then one signal each); staff
lists find dossiers by status through the search attributes the workflows keep current."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from devtools.mail_sink import MailSink
from domain.status import Status
from infra.settings import Settings
from tests.conftest import eventually, mail_with_subject
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from workflows import names
from workflows.campaign import CampaignDeadlineWorkflow, DeadlineExtension
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate


async def ids_matching(client: Client, query: str) -> set[str]:
    return {w.id async for w in client.list_workflows(query)}


async def test_an_extension_reaches_every_open_dossier_of_the_campaign_only(
    client: Client, settings: Settings, worker, mail_sink: MailSink
) -> None:
    gateway = WorkflowClient(client, settings.task_queue)
    c = make_campaign(deadline_in=timedelta(seconds=15), reminders=[])
    other = make_campaign(deadline_in=timedelta(seconds=15), reminders=[])
    waiting, validated, elsewhere = (registration(c), registration(c), registration(other))
    for reg in (waiting, validated, elsewhere):
        await gateway.start_dossier(reg)
    handles: dict[str, WorkflowHandle] = {
        r.dossier_number: gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, r.dossier_number)
        for r in (waiting, validated, elsewhere)
    }
    await handles[validated.dossier_number].execute_update(DossierWorkflow.validate, Validate(True))

    # Staff lists: a visibility query on the search attributes, no scan of the dossiers.
    transferring = f"{names.CAMPAIGN.name} = '{c.id}' AND {names.STATUS.name} = '{Status.TRANSFERRING}'"
    assert await eventually(lambda: _equals(ids_matching(client, transferring), {validated.dossier_number}))
    by_name = f"{names.CAMPAIGN.name} = '{c.id}' AND {names.DOSSIER_NUMBER.name} = '{waiting.dossier_number}'"
    assert await eventually(lambda: _equals(ids_matching(client, by_name), {waiting.dossier_number}))

    new_deadline = c.validation_deadline + timedelta(days=3)
    extension = DeadlineExtension(c.id, new_deadline)
    workflow_id = names.campaign_deadline_workflow_id(c.id, new_deadline.isoformat())
    told = await client.execute_workflow(
        CampaignDeadlineWorkflow.run,
        extension,
        id=workflow_id,
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    assert told == 2

    for number in (waiting.dossier_number, validated.dossier_number):
        dossier = await handles[number].query(DossierWorkflow.view)
        assert dossier.validation_deadline == new_deadline
        assert dossier.timeline[-1].code == "prolongation"
    untouched = await handles[elsewhere.dossier_number].query(DossierWorkflow.view)
    assert untouched.validation_deadline == other.validation_deadline

    # Only the dossier still awaiting validation is told by email.
    await mail_with_subject(mail_sink, waiting.dossier_number, "Date limite de validation prolongée")
    assert not [m for m in mail_sink.for_dossier(validated.dossier_number) if "prolongée" in m.subject]

    # Past the old deadline: the other campaign's dossier is cancelled, this one still validates.
    # (The other campaign was made after this one: its deadline, and so its cancellation, comes
    # after this campaign's old deadline, on the same server clock.)
    assert other.validation_deadline >= c.validation_deadline
    await eventually(lambda: _status(handles[elsewhere.dossier_number], Status.CANCELLED), timeout=30)
    ack = await handles[waiting.dossier_number].execute_update(DossierWorkflow.validate, Validate(True))
    assert ack.status is Status.TRANSFERRING
    validated_at = (await handles[waiting.dossier_number].query(DossierWorkflow.view)).validated_at
    assert validated_at is not None and validated_at > c.validation_deadline

    for handle in handles.values():
        await handle.signal(DossierWorkflow.archive)


async def _equals(found, expected: set[str]) -> bool:
    return await found == expected


async def _status(handle: WorkflowHandle, status: Status) -> bool:
    return (await handle.query(DossierWorkflow.view)).status is status
