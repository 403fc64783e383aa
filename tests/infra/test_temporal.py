"""The converter every client, worker and replayer shares (`infra.temporal`)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import CompositePayloadConverter

from devtools.samples import registration
from domain.candidate import Registration
from infra.temporal import DATA_CONVERTER
from tests.factories import campaign


def test_payloads_round_trip_and_every_workflow_instance_reuses_the_same_type_adapters() -> None:
    """The SDK builds a payload converter per workflow instance (each first task, each replay
    after an eviction); building pydantic's schema again each time was a third of that task."""
    reg = registration(campaign(), "RED2027-00001", registered_at=datetime(2027, 1, 5, 9, tzinfo=UTC))
    first = DATA_CONVERTER.payload_converter_class()
    second = DATA_CONVERTER.payload_converter_class()  # as for a second workflow instance
    [payload] = first.to_payloads([reg])
    assert first.from_payloads([payload], [Registration]) == [reg]
    assert second.from_payloads([payload], [Registration]) == [reg]
    adapters = [
        json._type_adapter
        for converter in (first, second)
        if isinstance(converter, CompositePayloadConverter)
        for json in converter.converters.values()
        if isinstance(json, PydanticJSONPlainPayloadConverter)
    ]
    assert len(adapters) == 2 and adapters[0] is adapters[1]
    assert adapters[0].cache_info().hits >= 1
