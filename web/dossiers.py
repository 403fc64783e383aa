"""The web layer's only way to a dossier: start its workflow, send it messages, query it.

Nothing here keeps dossier state; every read is a query, every change a message. A refusal from
the workflow becomes an HTTP 409 carrying the workflow's French message as is.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.dossier import Dossier, Registration
from workflows import names
from workflows.dossier import REFUSAL, Ack, DossierWorkflow

UNAVAILABLE = "Le service est momentanément indisponible. Merci de réessayer dans quelques instants."


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
        return self.client.get_workflow_handle_for(
            DossierWorkflow.run, names.dossier_workflow_id(dossier_number)
        )

    async def view(self, dossier_number: str) -> Dossier:
        try:
            return await self.handle(dossier_number).query(DossierWorkflow.view)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "Dossier introuvable.") from exc
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    async def update(self, dossier_number: str, update: Any, *args: Any) -> Ack:
        """Send an Update; its validator's refusal comes back as HTTP 409 with its message."""
        try:
            return await self.handle(dossier_number).execute_update(update, *args)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSAL:
                raise HTTPException(status.HTTP_409_CONFLICT, cause.message) from exc
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "Dossier introuvable.") from exc
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from exc

    async def signal(self, dossier_number: str, signal: Any, *args: Any) -> None:
        await self.handle(dossier_number).signal(signal, *args)
