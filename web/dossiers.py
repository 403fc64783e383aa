"""The web layer's only way to a dossier: start its workflow, send it messages, query it.

Nothing here keeps dossier state; every read is a query, every change a message. A refusal from
the workflow becomes an HTTP 409 carrying the workflow's French message as is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException, status
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.candidate import Registration
from domain.dossier import Dossier
from workflows import names
from workflows.dossier import REFUSAL, Ack, DossierWorkflow

UNAVAILABLE = "Le service est momentanément indisponible. Merci de réessayer dans quelques instants."


def dossier_handle(client: Client, dossier_number: str) -> WorkflowHandle[DossierWorkflow, Any]:
    return client.get_workflow_handle_for(DossierWorkflow.run, names.dossier_workflow_id(dossier_number))


@contextmanager
def workflow_errors() -> Iterator[None]:
    """What a call to a dossier's workflow can answer, as HTTP: the workflow's refusal → 409
    with its French message; an unknown dossier → 404; Temporal unreachable → 503."""
    try:
        yield
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == REFUSAL:
            raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from exc
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Dossier introuvable.") from exc
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc


class DossierGateway:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    async def start(self, registration: Registration) -> None:
        await self.client.start_workflow(
            DossierWorkflow.run,
            registration,
            id=names.dossier_workflow_id(registration.dossier_number),
            task_queue=self.task_queue,
            search_attributes=names.dossier_search_attributes(registration),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )

    def handle(self, dossier_number: str) -> WorkflowHandle[DossierWorkflow, Any]:
        return dossier_handle(self.client, dossier_number)

    async def view(self, dossier_number: str) -> Dossier:
        with workflow_errors():
            return await self.handle(dossier_number).query(DossierWorkflow.view)

    async def update(self, dossier_number: str, update: Any, *args: Any, update_id: str | None = None) -> Ack:
        """Send an Update; its validator's refusal comes back as HTTP 409 with its message.
        An `update_id` makes a repeated request (a double click) apply once."""
        with workflow_errors():
            return await self.handle(dossier_number).execute_update(update, *args, id=update_id)

    async def signal(self, dossier_number: str, signal: Any, *args: Any) -> None:
        await self.handle(dossier_number).signal(signal, *args)
