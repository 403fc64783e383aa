"""The candidate's dates as an iCalendar (.ics) file: deadlines, document releases, exams.

Built from the dossier's view at download time with the same rules the dashboard shows
(`Dossier.next_deadlines`), so the two never disagree. UIDs are stable per dossier and item: a
calendar app that imports the file again updates the events instead of doubling them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from domain.campaign import ExamKind
from domain.dossier import Dossier
from domain.status import Status

PRODID = "-//Concours de la fonction publique territoriale//Espace sécurisé candidat//FR"


def _uid(dossier_number: str, key: str) -> str:
    return f"{dossier_number}-{hashlib.sha256(key.encode()).hexdigest()[:16]}@inscriptions"


def _event(
    dossier: Dossier,
    key: str,
    summary: str,
    at: datetime,
    now: datetime,
    location: str = "",
    remind: timedelta | None = None,
) -> Event:
    event = Event()
    event.add("uid", _uid(dossier.dossier_number, key))
    event.add("dtstamp", now)
    event.add("dtstart", at)
    event.add("summary", summary)
    event.add(
        "description",
        f"{dossier.campaign.grade} — {dossier.route.label} — dossier n° {dossier.dossier_number}. "
        "Détails dans votre espace sécurisé candidat.",
    )
    if location:
        event.add("location", location)
    if remind:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -remind)
        event.add_component(alarm)
    return event


def dossier_calendar(dossier: Dossier, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{dossier.campaign.grade} — dossier n° {dossier.dossier_number}")
    cal.add("x-wr-timezone", dossier.campaign.time_zone)

    exams_listed: set[str] = set()
    for label, at in dossier.next_deadlines(now):
        exam = next((e for e in dossier.campaign.exams if e.starts_at == at and label.startswith(e.label)), None)
        if exam is not None:
            exams_listed.add(exam.code)
            cal.add_component(_event(dossier, f"exam:{exam.code}", exam.label, at, now, exam.venue, timedelta(days=2)))
        else:
            cal.add_component(_event(dossier, f"deadline:{label}", label, at, now, remind=timedelta(days=1)))

    # Exams not yet confirmed for this candidate still belong in their diary, marked as such.
    if not dossier.status.is_closed:
        for exam in dossier.campaign.exams:
            if exam.code in exams_listed or exam.starts_at <= now:
                continue
            if exam.kind is ExamKind.ORAL and dossier.status is not Status.ADMISSIBLE:
                summary = f"{exam.label} (pour les candidats admissibles)"
            else:
                summary = f"{exam.label} (sous réserve de l'admission à concourir)"
            cal.add_component(_event(dossier, f"exam:{exam.code}", summary, exam.starts_at, now, exam.venue))
    return cal.to_ical()
