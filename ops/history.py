"""A workflow's history in plain French, one line per event an operator cares about.

Pure: history events (protobuf) in, lines out. Workflow-task bookkeeping (scheduled, started,
completed) is left out as noise; its failures and timeouts are kept, flagged as errors, since
that is where a non-deterministic release or a dead worker shows. Payloads are decoded only when
they are plain JSON (this project's converter); anything else is shown by its encoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from domain.fr import datetime_fr
from domain.letters import LetterKind
from domain.status import Status
from workflows import names

INFO, ERROR, TECHNICAL = "info", "erreur", "technique"


@dataclass
class HistoryLine:
    event_id: int
    at: datetime
    text: str
    level: str = INFO  # info, erreur, technique


# ----------------------------------------------------------------------------- payloads
def payload_value(payload: Payload) -> Any:
    """The JSON value of a payload, None for a null one; raises ValueError otherwise."""
    encoding = payload.metadata.get("encoding", b"").decode()
    if encoding == "binary/null":
        return None
    if encoding == "json/plain":
        return json.loads(payload.data)
    raise ValueError(encoding or "sans encodage")


def first_value(payloads: Payloads) -> Any:
    if not payloads.payloads:
        return None
    try:
        return payload_value(payloads.payloads[0])
    except ValueError:
        return None


def _status_label(code: Any) -> str:
    try:
        return Status(code).label
    except ValueError:
        return str(code)


# ----------------------------------------------------------------------------- messages
_DECISIONS = {
    "complet": "Dossier complet",
    "incomplet": "Dossier incomplet (demande de pièces)",
    "rejete": "Dossier rejeté",
    "non_conforme": "Dossier non conforme",
    "admis": "Admis(e) à concourir",
    "admis_sous_reserve": "Admis(e) à concourir sous réserve",
}
_RESULTS = {
    "admissible": "admissible",
    "non_admissible": "non admissible",
    "admis": "admis(e)",
    "non_admis": "non admis(e)",
}


def _update_text(name: str, arg: Any) -> str:
    if name == names.CONFIRM_REPLACEMENT:
        return f"Remplacement par la préinscription n° {arg} confirmé depuis l'espace du dossier"
    arg = arg if isinstance(arg, dict) else {}
    if name == names.VALIDATE:
        return "Validation de la demande d'inscription par le candidat"
    if name == names.RECORD_UPLOAD:
        return f"Pièce déposée par le candidat : {arg.get('filename', '?')} ({arg.get('category', '?')})"
    if name == names.WITHDRAW:
        return "Désistement demandé par le candidat"
    if name == names.CHANGE_ADDRESS:
        return f"Changement d'adresse : {arg.get('postal_code', '')} {arg.get('city', '')}".rstrip()
    if name == names.CHANGE_EMAIL:
        return f"Nouvelle adresse électronique confirmée par le candidat : {arg.get('email', '?')}"
    if name == names.DECIDE:
        text = f"Décision « {_DECISIONS.get(arg.get('kind'), arg.get('kind', '?'))} »"
        if arg.get("by"):
            text += f" par {arg['by']}"
        if arg.get("missing"):
            text += f" — pièces demandées : {', '.join(arg['missing'])}"
        if arg.get("reasons"):
            text += f" — motifs : {arg['reasons']}"
        return text
    if name == names.DEPOSIT_DOCUMENT:
        return f"Document déposé par le centre : {arg.get('title', '?')}"
    if name == names.RECORD_RESULT:
        return f"Résultat enregistré : {_RESULTS.get(arg.get('result'), arg.get('result', '?'))}"
    if name == names.ISSUE_LETTER:
        text = f"Courrier demandé : {_LETTERS.get(arg.get('kind'), arg.get('kind', '?'))}"
        return text + (f" par {arg['by']}" if arg.get("by") else "")
    return f"Demande « {name} »"


def _signal_text(name: str, arg: Any, time_zone: str) -> str:
    if name == names.EXTEND_DEADLINE and isinstance(arg, str):
        try:
            return f"Date limite de validation prolongée au {datetime_fr(datetime.fromisoformat(arg), time_zone)}"
        except ValueError:
            pass
    if name == names.AMEND_EXAMS:
        exams = arg.get("exams") if isinstance(arg, dict) else None
        if isinstance(exams, list):
            parts = []
            for e in exams:
                if not isinstance(e, dict):
                    continue
                try:
                    when = datetime_fr(datetime.fromisoformat(str(e.get("starts_at"))), time_zone)
                except ValueError:
                    when = str(e.get("starts_at", "?"))
                parts.append(f"{e.get('code', '?')} le {when} ({e.get('venue', '?')})")
            return "Épreuves modifiées par la session : " + " ; ".join(parts)
        return "Épreuves modifiées par la session"
    if name == names.ARCHIVE:
        return "Archivage du dossier demandé"
    if name == names.REPLACED_BY:
        return f"Remplacé par la préinscription n° {arg}"
    return f"Signal « {name} » reçu"


_LETTERS = {kind.value: kind.document_kind.label for kind in LetterKind}

_ACTIVITIES = {
    names.SEND_MAIL: "Envoi d'un e-mail",
    names.PRINT_LETTER: "Impression d'un courrier",
    names.SIGNAL_DEADLINE_EXTENSION: "Prolongation transmise aux dossiers ouverts",
    names.SIGNAL_EXAM_AMENDMENT: "Modification des épreuves transmise aux dossiers ouverts",
    names.BATCH_COUNT: "Décompte du travail",
    names.BATCH_LIST_PAGE: "Lecture d'une page de dossiers",
    names.BATCH_ADMIT: "Admission d'un lot de dossiers",
    names.BATCH_CONVOCATIONS: "Préparation d'un lot de convocations",
    names.BATCH_RESULTS: "Import d'un lot de résultats",
}


def _activity_text(activity_type: str, arg: Any) -> str:
    text = _ACTIVITIES.get(activity_type, f"Activité « {activity_type} »")
    if activity_type == names.SEND_MAIL and isinstance(arg, dict):
        text += f" « {arg.get('template', '?')} » à {arg.get('to', '?')}"
    if activity_type == names.PRINT_LETTER and isinstance(arg, dict) and isinstance(arg.get("order"), dict):
        kind = arg["order"].get("kind")
        text += f" : {_LETTERS.get(kind, kind or '?')}"
    return text


def _failure_text(failure: Any) -> str:
    message = getattr(failure, "message", "") or "erreur sans message"
    return message.splitlines()[0][:300]


def _duration_fr(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} j {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def time_zone_of(events: Iterable[HistoryEvent], default: str = "Europe/Paris") -> str:
    """The organiser's time zone, from a dossier's start (its campaign snapshot)."""
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            reg = first_value(event.workflow_execution_started_event_attributes.input)
            if isinstance(reg, dict) and isinstance(reg.get("campaign"), dict):
                return str(reg["campaign"].get("time_zone") or default)
        break
    return default


# ----------------------------------------------------------------------------- events
def describe(events: Iterable[HistoryEvent], time_zone: str = "Europe/Paris") -> list[HistoryLine]:
    lines: list[HistoryLine] = []
    activities: dict[int, str] = {}  # scheduled event id -> activity type
    updates: dict[int, str] = {}  # accepted event id -> update name
    E = EventType
    for event in events:
        at = event.event_time.ToDatetime(tzinfo=UTC)

        def add(text: str, level: str = INFO, event_id: int = event.event_id, at: datetime = at) -> None:
            lines.append(HistoryLine(event_id, at, text, level))

        t = event.event_type
        if t == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            started = event.workflow_execution_started_event_attributes
            kind = started.workflow_type.name
            if started.continued_execution_run_id:
                add(f"Suite de l'exécution précédente (continue-as-new) de {kind}", TECHNICAL)
            elif kind == names.DOSSIER_WORKFLOW:
                reg = first_value(started.input) or {}
                candidate = reg.get("candidate", {}) if isinstance(reg, dict) else {}
                who = f"{candidate.get('first_name', '')} {str(candidate.get('last_name', '')).upper()}".strip()
                grade = reg.get("campaign", {}).get("grade", "") if isinstance(reg, dict) else ""
                add(f"Dossier ouvert à la préinscription : {who or '?'} — {grade}".rstrip(" —"))
            else:
                add(f"Démarrage de {kind} (file {started.task_queue.name})")
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes
            name = accepted.accepted_request.input.name
            updates[event.event_id] = name
            add(_update_text(name, first_value(accepted.accepted_request.input.args)))
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            completed = event.workflow_execution_update_completed_event_attributes
            if completed.outcome.HasField("failure"):
                add(f"Demande refusée : {_failure_text(completed.outcome.failure)}", ERROR)
            else:
                ack = first_value(completed.outcome.success)
                if isinstance(ack, dict) and "status" in ack:
                    add(f"Statut du dossier : « {_status_label(ack['status'])} »")
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            add(_signal_text(signaled.signal_name, first_value(signaled.input), time_zone))
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            activities[event.event_id] = scheduled.activity_type.name
            add(_activity_text(scheduled.activity_type.name, first_value(scheduled.input)) + " : programmé", TECHNICAL)
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            task_started = event.activity_task_started_event_attributes
            if task_started.attempt > 1:
                what = _ACTIVITIES.get(activities.get(task_started.scheduled_event_id, ""), "Activité")
                reason = (
                    f" (échec précédent : {_failure_text(task_started.last_failure)})"
                    if task_started.HasField("last_failure")
                    else ""
                )
                add(f"{what} : tentative n° {task_started.attempt}{reason}", ERROR)
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            kind = activities.get(done.scheduled_event_id, "")
            add(
                "E-mail envoyé" if kind == names.SEND_MAIL else f"{_ACTIVITIES.get(kind, 'Activité')} : terminé",
                TECHNICAL,
            )
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            failed = event.activity_task_failed_event_attributes
            kind = activities.get(failed.scheduled_event_id, "")
            text = f"{_ACTIVITIES.get(kind, 'Activité')} : échec définitif — {_failure_text(failed.failure)}"
            if kind == names.SEND_MAIL:
                text += " (courriel mis de côté ; les suivants partent)"
            add(text, ERROR)
        elif t == E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            timed_out = event.activity_task_timed_out_event_attributes
            kind = activities.get(timed_out.scheduled_event_id, "")
            add(f"{_ACTIVITIES.get(kind, 'Activité')} : délai dépassé — {_failure_text(timed_out.failure)}", ERROR)
        elif t == E.EVENT_TYPE_TIMER_STARTED:
            timer = event.timer_started_event_attributes
            delay = timer.start_to_fire_timeout.ToTimedelta()
            add(f"Prochaine échéance dans {_duration_fr(delay)}, le {datetime_fr(at + delay, time_zone)}", TECHNICAL)
        elif t == E.EVENT_TYPE_TIMER_FIRED:
            add("Échéance atteinte : le dossier applique ce qui arrive à terme")
        elif t == E.EVENT_TYPE_TIMER_CANCELED:
            add("Échéance recalculée après un message", TECHNICAL)
        elif t == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if names.STATUS.name in fields:
                try:
                    status = payload_value(fields[names.STATUS.name])
                except ValueError:
                    status = "?"
                add(f"Statut publié dans les listes : « {_status_label(status)} »", TECHNICAL)
            else:
                add(f"Attributs de recherche mis à jour : {', '.join(sorted(fields))}", TECHNICAL)
        elif t == E.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            task_failed = event.workflow_task_failed_event_attributes
            add(f"Le worker n'a pas pu rejouer ou poursuivre le workflow : {_failure_text(task_failed.failure)}", ERROR)
        elif t == E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            add("Tâche de workflow non traitée à temps (worker arrêté ou surchargé ?)", ERROR)
        elif t == E.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_patch":
                add("Marqueur de version de code (patch) enregistré", TECHNICAL)
            else:
                add(f"Marqueur « {marker.marker_name} »", TECHNICAL)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            result = first_value(event.workflow_execution_completed_event_attributes.result)
            if isinstance(result, dict) and "status" in result:
                add(f"Dossier archivé, statut final « {_status_label(result['status'])} »")
            else:
                add("Workflow terminé")
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            add(f"Workflow en échec : {_failure_text(event.workflow_execution_failed_event_attributes.failure)}", ERROR)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            reason = event.workflow_execution_terminated_event_attributes.reason or "sans motif"
            add(f"Workflow arrêté par un opérateur : {reason}", ERROR)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            add("Poursuivi dans une nouvelle exécution (continue-as-new)", TECHNICAL)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
            add("Workflow annulé", ERROR)
        elif t == E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            add("Workflow expiré", ERROR)
        elif t in (
            E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
        ):
            continue
        else:
            add(f"Événement {EventType.Name(t).removeprefix('EVENT_TYPE_').lower()}", TECHNICAL)
    return lines
