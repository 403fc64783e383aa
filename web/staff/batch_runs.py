"""Bulk actions as Temporal lists them: a campaign's recent runs, each run's state in French.

Shared by the campaign's page (its recent runs) and the bulk actions' pages (one run's state),
so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus

from workflows.visibility import batches_query

EXECUTION_LABELS = {
    WorkflowExecutionStatus.RUNNING: "En cours",
    WorkflowExecutionStatus.COMPLETED: "Terminé",
    WorkflowExecutionStatus.FAILED: "En échec",
    WorkflowExecutionStatus.TERMINATED: "Arrêté",
    WorkflowExecutionStatus.CANCELED: "Annulé",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "En cours",
    WorkflowExecutionStatus.TIMED_OUT: "Expiré",
}


def execution_label(execution_status: WorkflowExecutionStatus | None) -> str:
    return EXECUTION_LABELS.get(execution_status, "?") if execution_status else "?"


@dataclass
class BatchRow:
    workflow_id: str
    label: str
    by: str
    started_at: datetime | None
    state: str


async def recent_batches(client: Client, campaign_id: str, limit: int = 20) -> list[BatchRow]:
    rows = []
    async for execution in client.list_workflows(batches_query(campaign_id), limit=limit):
        memo = await execution.memo()
        rows.append(BatchRow(
            workflow_id=execution.id,
            label=str(memo.get("label", execution.id)),
            by=str(memo.get("by", "")),
            started_at=execution.start_time,
            state=execution_label(execution.status),
        ))
    return rows
