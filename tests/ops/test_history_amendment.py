"""The exam amendment signal in the operator's history, in words."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from ops.history import INFO, describe
from tests.ops.test_history import event, payloads


def test_an_exam_amendment_reads_as_the_new_dates_and_venues() -> None:
    signal = event(11, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, 20)
    attributes = signal.workflow_execution_signaled_event_attributes
    attributes.signal_name = "amend_exams"
    attributes.input.CopyFrom(
        payloads(
            {
                "campaign_id": "red2027",
                "amended_at": "2026-11-12T09:00:00Z",
                "exams": [
                    {
                        "code": "ecrit",
                        "label": "Écrit",
                        "kind": "admissibilite",
                        "starts_at": "2027-01-07T08:00:00Z",
                        "venue": "Espace Montcalm, Vannes",
                    }
                ],
            }
        )
    )
    [line] = describe([signal], "Europe/Paris")
    assert (line.text, line.level) == (
        "Épreuves modifiées par la session : ecrit le jeudi 7 janvier 2027 à 9h00 (Espace Montcalm, Vannes)",
        INFO,
    )
