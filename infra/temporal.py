"""The one place that connects to Temporal, with the converter every side must share."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

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


def exit_after_temporal(code: int) -> NoReturn:
    """End a command-line tool that used the Temporal SDK. The SDK's core threads can still call
    into Python while the interpreter finalises, which aborts the process ("Fatal Python error:
    PyGILState_Release", seen after a replay) and loses the exit code an operator's script reads:
    the tool's output is complete by then, so flush it and leave without finalising."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
