"""Metrics an operator reads on deadline night: after a candidate's journey (pre-registration,
a wrong then a right login, validation, a second validation refused), the web's `/metrics` and
the worker's (the SDK's Prometheus exporter, as `worker.main` serves it) show it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.runtime import Runtime

from infra.database import Database
from infra.settings import Settings
from infra.telemetry import VisibilityFigures, prometheus_runtime
from infra.temporal import DATA_CONVERTER
from tests.conftest import eventually, free_port
from tests.web.pages import client, open_campaign, preregister, submit, token_in
from web.app import create_app
from worker import build_worker
from workflows.client import WorkflowClient


@dataclass
class Stack:
    app: FastAPI
    runtime: Runtime
    workflows: WorkflowClient
    worker_metrics: str  # URL


@pytest.fixture(scope="module")
async def stack(client: Client, settings: Settings, database: Database) -> AsyncIterator[Stack]:
    """A worker whose client has the Prometheus runtime (as `worker.main` makes it), on its own
    task queue, and a web app sending to that queue."""
    address = f"127.0.0.1:{free_port()}"
    runtime = prometheus_runtime(address)
    own = await Client.connect(client.service_client.config.target_host, data_converter=DATA_CONVERTER, runtime=runtime)
    queue_settings = settings.model_copy(update={"task_queue": f"metrics-{uuid.uuid4().hex[:8]}"})
    app = create_app(queue_settings)
    async with build_worker(own, queue_settings, database), app.router.lifespan_context(app):
        yield Stack(app, runtime, WorkflowClient(own, queue_settings.task_queue), f"http://{address}/metrics")


def value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_a_candidate_journey_moves_the_figures(stack: Stack, database: Database) -> None:
    campaign = await open_campaign(database)
    web = client(stack.app)
    web_before = (await web.get("/metrics")).text

    number, data = await preregister(web, campaign.id)
    wrong = await submit(web, "/connexion", {"dossier_number": number, "password": "Pas-le-bon-1"})
    assert wrong.status_code == 401
    right = await submit(web, "/connexion", {"dossier_number": number, "password": data["password"]})
    assert right.status_code == 303
    form = await web.get("/espace/validation")
    token = token_in(form)
    sworn = {"csrf_token": token, "sworn_statement": "oui"}
    assert (await web.post("/espace/validation", data=sworn)).status_code == 303
    again = await web.post("/espace/validation", data=sworn)
    assert again.status_code == 409

    # The web: logins by outcome, requests by route and status, with their latency.
    web_after = (await web.get("/metrics")).text
    await web.aclose()

    def moved(name: str, **labels: str) -> float:
        return value(web_after, name, **labels) - value(web_before, name, **labels)

    assert moved("inscriptions_logins_total", space="candidat", outcome="refused") == 1
    assert moved("inscriptions_logins_total", space="candidat", outcome="accepted") == 1
    assert moved("http_requests_total", handler="/espace/validation", method="POST", status="303") == 1
    assert moved("http_requests_total", handler="/espace/validation", method="POST", status="409") == 1
    assert moved("http_requests_total", handler="/api/preinscriptions", method="POST", status="201") == 1
    assert moved("http_request_duration_seconds_count", handler="/connexion", method="POST") == 2
    assert number not in web_after  # routes are templates: no dossier number in the figures

    # The worker: the business counters of this campaign, and Temporal's own metrics.
    async def worker_figures() -> str | None:
        text = await scrape(stack.worker_metrics)
        # The pre-registration's mail and the validation's, both sent.
        done = value(text, "inscriptions_mails_queued_total", campaign=campaign.id) >= 2 and value(
            text, "inscriptions_mails_sent_total", template="validation"
        )
        return text if done else None

    text = await eventually(worker_figures, timeout=30)
    assert value(text, "inscriptions_validations_total", campaign=campaign.id) == 1
    assert value(text, "inscriptions_refusals_total", campaign=campaign.id, action="validate") == 1
    assert value(text, "inscriptions_mail_delay_seconds_count") >= 2
    assert value(text, "temporal_workflow_task_execution_latency_count") > 0
    assert "temporal_num_pollers" in text
    assert number not in text

    # The visibility gauges: one dossier of this campaign, validated.
    figures = VisibilityFigures(stack.runtime.metric_meter)

    async def counted() -> str | None:
        await figures.refresh(stack.workflows, [campaign])
        text = await scrape(stack.worker_metrics)
        return text if value(text, "inscriptions_dossiers", campaign=campaign.id) == 1 else None

    text = await eventually(counted, timeout=30)
    status = next(
        s.labels["status"]
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "inscriptions_dossiers" and s.labels.get("campaign") == campaign.id and s.value == 1
    )
    assert status == "en_cours_de_transfert"  # validated, waiting for 8:30 on the next working day
    assert value(text, "inscriptions_campaign_validation_deadline", campaign=campaign.id) == int(
        campaign.validation_deadline.timestamp()
    )
