"""Dossiers ready for staff decisions on a real-time server, for tests, demos and benchmarks.

A validated dossier goes under instruction at 8:30 on the next working day: on the dev server,
whose clock cannot skip a night, no staff decision could be tried before tomorrow. This module
registers, on its own task queue, the real `DossierWorkflow` with two changes:
- instruction starts at validation (`PromptDossier`);
- a dossier may be started already at a later status (memo `prepare_to`): the workflow applies
  the same domain steps a candidate and staff would (validate, instruction, decisions) in its
  first task, and drops the emails of those steps, which no test or demo reads.
Everything after that — staff pages, bulk actions, the rules and refusals, emails — is the
real code. The production worker never registers this workflow.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from devtools.samples import registration
    from domain.campaign import Campaign
    from domain.candidate import Registration
    from domain.decisions import Decision, DecisionKind
    from domain.dossier import Dossier
    from domain.exams import ExamResult
    from domain.status import Status
    from workflows import names
    from workflows.dossier import DossierWorkflow, Outcome

PREPARE_TO = "prepare_to"  # memo key: the status to start at

# The domain steps that lead to each status from a fresh pre-registration.
_STEPS: dict[Status, list[str]] = {
    Status.AWAITING_DOSSIER: [],
    Status.TRANSFERRING: ["validate_later"],
    Status.IN_INSTRUCTION: ["validate"],
    Status.COMPLETE: ["validate", "complete"],
    Status.INCOMPLETE: ["validate", "incomplete"],
    Status.REJECTED: ["validate", "reject"],
    Status.ADMITTED_UNDER_RESERVE: ["validate", "admit_under_reserve"],
    Status.ADMITTED: ["validate", "complete", "admit"],
    Status.ADMISSIBLE: ["validate", "complete", "admit", "admissible"],
    Status.WITHDRAWN: ["withdraw"],
}


class PromptDossier(Dossier):
    """The domain's dossier, except that uploads reopen (and instruction starts) at validation."""

    def validate(self, sworn_statement: bool, now: datetime, received_at: datetime | None = None) -> None:
        super().validate(sworn_statement, now, received_at)
        self.uploads_reopen_at = now


def _prepare(dossier: Dossier, to: Status, now: datetime) -> None:
    by = "préparation"
    for step in _STEPS[to]:
        if step == "validate":
            dossier.validate(True, now)
            dossier.run_due(now)
        elif step == "validate_later":
            Dossier.validate(dossier, True, now)
        elif step == "complete":
            dossier.decide(Decision(DecisionKind.COMPLETE, by=by), now)
        elif step == "incomplete":
            category = dossier.route.documents[0].code
            dossier.decide(
                Decision(DecisionKind.INCOMPLETE, by=by, missing=[category], deadline=now + timedelta(days=10)), now
            )
        elif step == "reject":
            dossier.decide(Decision(DecisionKind.REJECT, by=by, reasons="Diplôme requis non fourni."), now)
        elif step == "admit_under_reserve":
            dossier.decide(Decision(DecisionKind.ADMIT_UNDER_RESERVE, by=by), now)
        elif step == "admit":
            dossier.decide(Decision(DecisionKind.ADMIT, by=by), now)
        elif step == "admissible":
            dossier.record_result(ExamResult.ADMISSIBLE, now)
        elif step == "withdraw":
            dossier.withdraw(now)
    if _STEPS[to]:
        dossier.outbox.clear()


@workflow.defn(name=names.DOSSIER_WORKFLOW)
class PromptInstructionDossierWorkflow(DossierWorkflow):
    @workflow.init
    def __init__(self, registration: Registration) -> None:
        super().__init__(registration)
        self.dossier.__class__ = PromptDossier
        to = workflow.memo_value(PREPARE_TO, "", type_hint=str)
        if to:
            _prepare(self.dossier, Status(to), workflow.now())

    @workflow.run
    async def run(self, registration: Registration) -> Outcome:
        return await super().run(registration)


def build_prompt_worker(client: Client, task_queue: str, settings, database) -> Worker:
    """A worker for prompt dossiers only, on its own task queue, with the real mail and letter
    activities."""
    # Not at module level: the workflow sandbox re-imports this module.
    from activities.letters import DocumentIssuer
    from activities.mail import Mailer
    from activities.rendering import LetterRenderer
    from infra.files import FileStore
    from infra.temporal import WORKFLOW_RUNNER
    from workflows.client import WorkflowClient

    issuer = DocumentIssuer(
        WorkflowClient(client, task_queue),
        database,
        FileStore(settings.files_dir),
        LetterRenderer(settings.letter_processes),
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PromptInstructionDossierWorkflow],
        activities=[Mailer(settings, database).send_mail, issuer.print_letter],
        # As the production worker runs dossiers (`worker.build_worker`).
        workflow_runner=WORKFLOW_RUNNER,
        max_cached_workflows=settings.worker_cached_workflows,
    )


async def start_dossier(
    client: Client, task_queue: str, reg: Registration, status: Status = Status.AWAITING_DOSSIER
) -> None:
    await client.start_workflow(
        DossierWorkflow.run,
        reg,
        id=names.dossier_workflow_id(reg.dossier_number),
        task_queue=task_queue,
        # Listed at its status from the start (the workflow upserts the same value).
        search_attributes=TypedSearchAttributes(
            [p for p in names.dossier_search_attributes(reg) if p.key.name != names.STATUS.name]
            + [SearchAttributePair(names.STATUS, str(status))]
        ),
        memo={PREPARE_TO: str(status)},
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )


async def dossiers_at(
    client: Client,
    task_queue: str,
    campaign: Campaign,
    count: int,
    status: Status,
    prefix: str | None = None,
    concurrency: int = 32,
    start_index: int = 0,
) -> list[str]:
    """Start `count` dossiers of `campaign` at `status`; their numbers. Visibility shows
    their status a moment later (see `wait_for_status_count`)."""
    prefix = prefix or f"P{uuid.uuid4().hex[:6].upper()}"
    numbers = [f"{prefix}-{i:05d}" for i in range(start_index + 1, start_index + count + 1)]
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int, number: str) -> None:
        async with limit:
            await start_dossier(client, task_queue, registration(campaign, number, index), status)

    await asyncio.gather(*(one(start_index + i, n) for i, n in enumerate(numbers)))
    return numbers


async def wait_for_status_count(
    client: Client, campaign_id: str, status: Status, count: int, timeout: float = 60
) -> None:
    query = f"{names.CAMPAIGN.name} = '{campaign_id}' AND {names.STATUS.name} = '{status}'"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await client.count_workflows(query)).count < count:
        if loop.time() > deadline:
            raise TimeoutError(f"visibility did not show {count} dossiers at {status} within {timeout} s")
        await asyncio.sleep(0.2)


async def main() -> None:
    """`python -m devtools.prompt_instruction`: a prompt-dossier worker configured like the
    production one (INSCRIPTIONS_* environment), polling INSCRIPTIONS_TASK_QUEUE, until SIGTERM.
    Demos and benchmarks run it in its own process."""
    import logging
    import signal

    # Run as `-m`, this file is `__main__`; the workflow sandbox must find the workflow class
    # under its module's real name, so take it from the module imported properly.
    from devtools import prompt_instruction
    from infra.database import Database
    from infra.settings import get_settings
    from infra.temporal import connect

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    database = Database(settings.database_url)
    await database.migrate()
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with prompt_instruction.build_prompt_worker(client, settings.task_queue, settings, database):
        await stop.wait()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
