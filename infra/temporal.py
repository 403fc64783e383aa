"""The one place that connects to Temporal, with the converter every side must share."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, NoReturn

from pydantic import TypeAdapter
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.runtime import Runtime
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from infra.settings import Settings

# pydantic builds a TypeAdapter (a schema) per type, then reuses it. The SDK makes a payload
# converter for every workflow instance it creates (each dossier's first task, and again after
# the worker's cache evicted it), each with an empty cache of its own: profiled, building the
# `Registration` adapter again was a third of a dossier's first workflow task. One cache per
# process instead (the types are the same objects: the workflow modules are passed through).
_type_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


class _SharedAdaptersJSON(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _type_adapter

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._type_adapter = _type_adapter


class _PayloadConverter(CompositePayloadConverter):
    """`temporalio.contrib.pydantic`'s payload converter, with the shared cache."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _SharedAdaptersJSON() if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


# Dataclasses with datetime/timedelta fields need the pydantic converter; client, worker and
# replayer must all use this same one.
DATA_CONVERTER = DataConverter(payload_converter_class=_PayloadConverter)

# The project's own modules a workflow imports: the sandbox would otherwise import them again
# for every workflow instance (profiled: another third of a dossier's first task, and of every
# replay after an eviction, which at 10,000 dossiers is every dossier a bulk action touches).
# They hold no mutable module state; the sandbox still refuses non-deterministic calls in them.
PASSED_THROUGH = ("domain", "workflows", "devtools.prompt_instruction", "devtools.samples")
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
)


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
