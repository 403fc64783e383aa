"""A workflow's history in plain French: the pure mapping event by event, then a real dossier's
history on the operator's page, its JSON export and the Temporal UI link."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory

from domain.status import Status
from infra.database import Database
from infra.settings import Settings
from infra.staff_accounts import StaffRole
from ops.history import ERROR, INFO, TECHNICAL, describe
from tests.backoffice import dossiers, saved_campaign
from tests.conftest import eventually
from tests.staff.test_decisions import decide
from tests.web.pages import text_of

T0 = datetime(2026, 10, 27, 15, 30, tzinfo=UTC)  # 16:30 in Paris


def payloads(*values: object) -> Payloads:
    return Payloads(
        payloads=[Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(v).encode()) for v in values]
    )


def event(event_id: int, kind: EventType.ValueType, minutes: int = 0, **attributes: object) -> HistoryEvent:
    stamp = Timestamp()
    stamp.FromDatetime(T0 + timedelta(minutes=minutes))
    e = HistoryEvent(event_id=event_id, event_type=kind, event_time=stamp)
    for name, value in attributes.items():
        getattr(e, name).CopyFrom(value) if hasattr(value, "DESCRIPTOR") else setattr(e, name, value)
    return e


def started(**fields) -> HistoryEvent:
    e = event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    a = e.workflow_execution_started_event_attributes
    a.workflow_type.name = "DossierWorkflow"
    a.task_queue.name = "inscriptions"
    a.input.CopyFrom(
        payloads(
            {
                "candidate": {"first_name": "Maëlle", "last_name": "Le Goff"},
                "campaign": {"grade": "Rédacteur territorial"},
            }
        )
    )
    return e


def test_each_event_kind_reads_as_a_sentence() -> None:
    events = [started()]
    for i, kind in enumerate(
        (
            EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        ),
        start=2,
    ):
        events.append(event(i, kind))
    accepted = event(5, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, 5)
    request = accepted.workflow_execution_update_accepted_event_attributes.accepted_request
    request.input.name = "decide"
    request.input.args.CopyFrom(
        payloads({"kind": "incomplet", "by": "Jeanne Dupont (jdupont)", "missing": ["diplome"], "reasons": ""})
    )
    events.append(accepted)
    completed = event(6, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, 5)
    completed.workflow_execution_update_completed_event_attributes.outcome.success.CopyFrom(
        payloads({"status": "incomplet", "label": "x"})
    )
    events.append(completed)
    scheduled = event(7, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 5)
    scheduled.activity_task_scheduled_event_attributes.activity_type.name = "send_mail"
    scheduled.activity_task_scheduled_event_attributes.input.CopyFrom(
        payloads({"template": "demande_regularisation", "to": "m@example.fr"})
    )
    events.append(scheduled)
    retried = event(8, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, 9)
    retried.activity_task_started_event_attributes.scheduled_event_id = 7
    retried.activity_task_started_event_attributes.attempt = 3
    retried.activity_task_started_event_attributes.last_failure.CopyFrom(
        Failure(message="SMTP 451 temporarily unavailable")
    )
    events.append(retried)
    done = event(9, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, 9)
    done.activity_task_completed_event_attributes.scheduled_event_id = 7
    events.append(done)
    timer = event(10, EventType.EVENT_TYPE_TIMER_STARTED, 10)
    timer.timer_started_event_attributes.start_to_fire_timeout.CopyFrom(Duration(seconds=2 * 86400))
    events.append(timer)
    signal = event(11, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, 20)
    signal.workflow_execution_signaled_event_attributes.signal_name = "extend_deadline"
    signal.workflow_execution_signaled_event_attributes.input.CopyFrom(payloads("2026-11-20T16:00:00+00:00"))
    events.append(signal)
    upsert = event(12, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, 20)
    upsert.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields[
        "DossierStatus"
    ].CopyFrom(Payload(metadata={"encoding": b"json/plain", "type": b"Keyword"}, data=b'"complet"'))
    events.append(upsert)
    failed = event(13, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, 30)
    failed.workflow_task_failed_event_attributes.failure.CopyFrom(
        Failure(message="Nondeterminism error: Activity type mismatch\nstack")
    )
    events.append(failed)
    ended = event(14, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, 40)
    ended.workflow_execution_terminated_event_attributes.reason = "dossier créé par erreur"
    events.append(ended)

    lines = describe(events, "Europe/Paris")
    assert [(line.event_id, line.text, line.level) for line in lines] == [
        (1, "Dossier ouvert à la préinscription : Maëlle LE GOFF — Rédacteur territorial", INFO),
        (
            5,
            (
                "Décision « Dossier incomplet (demande de pièces) » par Jeanne Dupont (jdupont)"
                " — pièces demandées : diplome"
            ),
            INFO,
        ),
        (6, "Statut du dossier : « Dossier incomplet : merci de transmettre les pièces demandées »", INFO),
        (7, "Envoi d'un e-mail « demande_regularisation » à m@example.fr : programmé", TECHNICAL),
        (8, "Envoi d'un e-mail : tentative n° 3 (échec précédent : SMTP 451 temporarily unavailable)", ERROR),
        (9, "E-mail envoyé", TECHNICAL),
        (10, "Prochaine échéance dans 2 j 0 h, le jeudi 29 octobre 2026 à 16h40", TECHNICAL),
        (11, "Date limite de validation prolongée au vendredi 20 novembre 2026 à 17h00", INFO),
        (12, "Statut publié dans les listes : « Dossier complet »", TECHNICAL),
        (
            13,
            "Le worker n'a pas pu rejouer ou poursuivre le workflow : Nondeterminism error: Activity type mismatch",
            ERROR,
        ),
        (14, "Workflow arrêté par un opérateur : dossier créé par erreur", ERROR),
    ]
    assert lines[0].at == T0


def test_a_refused_update_and_an_unknown_event_still_read() -> None:
    completed = event(2, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    completed.workflow_execution_update_completed_event_attributes.outcome.failure.CopyFrom(
        Failure(message="Un rejet doit indiquer ses motifs.")
    )
    odd = event(3, EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
    lines = describe([completed, odd])
    assert [(line.text, line.level) for line in lines] == [
        ("Demande refusée : Un rejet doit indiquer ses motifs.", ERROR),
        ("Événement workflow_properties_modified", TECHNICAL),
    ]


async def test_the_operator_reads_a_real_history_exports_it_and_finds_it_in_the_temporal_ui(
    staff, database: Database, client: Client, prompt_queue: str, settings: Settings
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.IN_INSTRUCTION)
    instructor = await staff(StaffRole.INSTRUCTOR)
    assert (await decide(instructor, number, "complet")).status_code == 303
    assert (await decide(instructor, number, "admis")).status_code == 303
    operator = await staff(StaffRole.OPERATOR)

    page = await operator.get(f"/staff/dossiers/{number}/historique")
    assert page.status_code == 200
    text = text_of(page)
    assert "Dossier ouvert à la préinscription : Maëlle LE GOFF" in text
    assert "Décision « Dossier complet » par Agent Test" in text
    assert "Statut du dossier : « Vous êtes admis(e) à concourir »" in text
    assert "E-mail envoyé" not in text  # technical details on demand

    async def mail_sent_shown() -> bool:  # the admission email goes out a moment after the decision
        return "E-mail envoyé" in text_of(
            await operator.get(f"/staff/dossiers/{number}/historique", params={"details": 1})
        )

    await eventually(mail_sent_shown)
    description = await client.get_workflow_handle(number).describe()
    assert (
        f'href="{settings.temporal_ui_url}/namespaces/default/workflows/{number}/{description.run_id}/history"'
        in page.text
    )

    exported = await operator.get(f"/staff/dossiers/{number}/historique.json")
    assert exported.headers["content-disposition"] == f'attachment; filename="{number}.json"'
    history = WorkflowHistory.from_json(number, exported.text)
    assert history.events[0].workflow_execution_started_event_attributes.workflow_type.name == "DossierWorkflow"

    # Instructors see the dossier, not the workflow's inner history.
    assert (await instructor.get(f"/staff/dossiers/{number}/historique")).status_code == 403


def test_a_refused_mail_and_the_confirmed_new_address_read_in_french() -> None:
    """From the recorded history of tests/workflows/test_mail_set_aside.py."""
    path = Path(__file__).parents[1] / "replay" / "histories" / "mail_set_aside.json"
    history = WorkflowHistory.from_json("mail_set_aside", path.read_text(encoding="utf-8"))
    lines = [line.text for line in describe(history.events)]

    assert any(
        t.startswith("Envoi d'un e-mail : échec définitif — 550 5.1.1") and t.endswith("les suivants partent)")
        for t in lines
    ), lines
    assert any(t.startswith("Nouvelle adresse électronique confirmée par le candidat : corrigee-") for t in lines)
