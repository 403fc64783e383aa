"""The `summary` query on the real dev server: the pages' slim view of a running dossier, judged
at the caller's instant, equal to the rules applied to the whole dossier, and without what
no page shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from domain.documents import UploadedDocument
from domain.space import Action
from domain.summary import summarise
from infra.settings import Settings
from infra.temporal import DATA_CONVERTER
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow


def payload(value: object) -> bytes:
    return b"".join(p.data for p in DATA_CONVERTER.payload_converter.to_payloads([value]))


async def test_the_summary_is_the_rules_applied_to_the_running_dossier_at_the_callers_instant(
    client: Client, settings: Settings, worker: Worker
) -> None:
    dossiers = WorkflowClient(client, settings.task_queue)
    started = datetime.now(UTC)
    reg = registration(make_campaign(now=started, deadline_in=timedelta(days=3)), now=started)
    await dossiers.start_dossier(reg)
    number = reg.dossier_number
    await dossiers.update(
        number,
        DossierWorkflow.record_upload,
        UploadedDocument("ref-1", "diplome", "diplome.pdf", 1234, "0" * 64, "application/pdf", datetime.now(UTC)),
    )

    now = datetime.now(UTC)
    summary = await dossiers.summary(number, now)
    dossier = await dossiers.view(number)
    assert summary == summarise(dossier, now)
    assert Action.VALIDATE in summary.actions
    assert summary.has_upload("ref-1")
    # The caller's instant decides, not the worker's clock: after the deadline, nothing to validate.
    later = await dossiers.summary(number, reg.campaign.validation_deadline + timedelta(seconds=1))
    assert Action.VALIDATE not in later.actions
    assert not later.window.open

    # What a page used to receive and what it receives now: the outbox, the campaign (its
    # holiday list, other routes, exams) and the uploads' checksums stay in the worker.
    slim, whole = payload(summary), payload(dossier)
    assert len(slim) < len(whole)
    for left_out in (b'"outbox"', b'"public_holidays"', b'"sha256"', b'"routes"'):
        assert left_out in whole
        assert left_out not in slim
