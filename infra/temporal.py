"""The one place that connects to Temporal, with the converter every side must share."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from infra.settings import Settings

# Dataclasses with datetime/timedelta fields need the pydantic converter; client, worker and
# replayer must all use this same one.
DATA_CONVERTER = pydantic_data_converter


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """`runtime`: the worker's, whose Prometheus exporter serves its metrics (`infra.telemetry`)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        runtime=runtime,
    )
