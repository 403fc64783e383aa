"""Campaigns from the back office: created and edited by administrators, the deadline extended
once however many clicks, and every open dossier following it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio.client import Client

from domain.campaign import ExamKind
from domain.status import Status
from infra.database import Database, get_campaign
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, post_form, saved_campaign, view
from tests.conftest import eventually
from tests.web.pages import text_of, token_in
from workflows import names

ROUTES = """externe | Concours externe | Administration générale ; Urbanisme
  formulaire | Formulaire d'inscription daté et signé | 1
  diplome | Diplôme(s) requis | 3
interne | Concours interne
  etats | État(s) des services publics | 3"""


def form(campaign_id: str, **overrides: str) -> dict[str, str]:
    year = datetime.now(ZoneInfo("America/Guadeloupe")).year + 1
    data = {
        "id": campaign_id,
        "grade": "Attaché territorial",
        "organiser": "CDG 971",
        "holiday_zone": "guadeloupe",
        "time_zone": "America/Guadeloupe",
        "registration_opens_at": f"{year}-01-05T08:00",
        "registration_closes_at": f"{year}-02-10T17:00",
        "validation_deadline": f"{year}-02-17T17:00",
        "upload_grace_days": "5",
        "convocation_lead_days": "15",
        "validation_reminders_days": "7, 1",
        "regularisation_reminder_days": "2",
        "routes": ROUTES,
        "exams": (
            f"ecrit | admissibilite | {year}-04-08 08:00 | Épreuves écrites d'admissibilité"
            " | Palais des sports, Les Abymes\n"
            f"oral | admission | {year}-06-10 08:30 | Épreuves orales d'admission | CDG 971, Baie-Mahault"
        ),
    }
    data.update(overrides)
    return data


async def test_an_administrator_creates_a_campaign_in_its_own_time_zone(staff, database: Database) -> None:
    admin = await staff(StaffRole.ADMINISTRATOR)
    campaign_id = f"att{uuid.uuid4().hex[:6]}"
    created = await post_form(admin, "/staff/sessions/nouvelle", "/staff/sessions/nouvelle", form(campaign_id))
    assert created.status_code == 303, error_of(created)
    async with database.sessions() as session:
        c = await get_campaign(session, campaign_id)
    assert c is not None and c.grade == "Attaché territorial"
    guadeloupe = ZoneInfo("America/Guadeloupe")
    assert c.validation_deadline == datetime(c.validation_deadline.year, 2, 17, 17, 0, tzinfo=guadeloupe)
    assert [r.code for r in c.routes] == ["externe", "interne"]
    assert c.routes[0].specialities == ["Administration générale", "Urbanisme"]
    assert [(d.code, d.max_files) for d in c.routes[0].documents] == [("formulaire", 1), ("diplome", 3)]
    assert [(e.code, e.kind) for e in c.exams] == [("ecrit", ExamKind.WRITTEN), ("oral", ExamKind.ORAL)]
    assert c.exams[0].starts_at.astimezone(guadeloupe).time() == time(8, 0)
    assert c.public_holidays  # looked up once for the zone
    page = text_of(await admin.get(f"/staff/sessions/{campaign_id}"))
    assert "Attaché territorial" in page and "Palais des sports, Les Abymes" in page


async def test_a_mistyped_campaign_comes_back_with_what_is_wrong(staff, database: Database) -> None:
    admin = await staff(StaffRole.ADMINISTRATOR)
    campaign_id = f"att{uuid.uuid4().hex[:6]}"
    cases = {
        "routes": (
            "externe | Concours externe\n  diplome | Diplôme(s) requis | zéro",
            "Voies, ligne 2 : le nombre maximal de fichiers doit être un entier d'au moins 1.",
        ),
        "exams": (
            "ecrit | ecrit | demain | Écrit | Lieu",
            "Épreuves, ligne 1 : « demain » n'est pas une date et heure (AAAA-MM-JJ HH:MM).",
        ),
        "validation_deadline": (
            "2020-01-01T00:00",
            "La date limite de validation ne peut précéder la clôture des préinscriptions.",
        ),
    }
    for name, (value, message) in cases.items():
        refused = await post_form(
            admin, "/staff/sessions/nouvelle", "/staff/sessions/nouvelle", form(campaign_id, **{name: value})
        )
        assert refused.status_code == 422
        assert error_of(refused) == message
        assert value.split("\n")[0] in refused.text  # what was typed is kept
    async with database.sessions() as session:
        assert await get_campaign(session, campaign_id) is None


async def test_editing_keeps_the_code_and_locks_the_deadline_once_dossiers_exist(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    admin = await staff(StaffRole.ADMINISTRATOR)
    page = f"/staff/sessions/{c.id}/modifier"
    shown = await admin.get(page)
    assert "Date limite de validation : " not in text_of(shown)  # no dossier yet: editable
    await dossiers(client, prompt_queue, c, 1, Status.AWAITING_DOSSIER)
    shown = await admin.get(page)
    assert "utilisez la prolongation" in text_of(shown)
    fields = {
        "grade": c.grade,
        "organiser": "CDG 56 (Morbihan)",
        "holiday_zone": c.holiday_zone,
        "time_zone": c.time_zone,
        "registration_opens_at": _local(c.registration_opens_at),
        "registration_closes_at": _local(c.registration_closes_at),
        "validation_deadline": _local(c.validation_deadline + timedelta(days=3)),  # ignored: locked
        "upload_grace_days": "5",
        "convocation_lead_days": "20",
        "validation_reminders_days": "7,1",
        "regularisation_reminder_days": "2",
        "id": "autre-code",
        "routes": "externe | Concours externe\n  diplome | Diplôme(s) requis | 3",
        # Dossiers are open: the exams keep their codes (moving one is tests/staff/test_exam_amendment.py).
        "exams": (
            "ecrit | admissibilite | 2031-03-18 09:00 | Écrit | Vannes\n"
            "oral | admission | 2031-05-20 09:00 | Oral | Vannes"
        ),
    }
    saved = await post_form(admin, page, page, fields)
    assert saved.status_code == 303, error_of(saved)
    async with database.sessions() as session:
        edited = await get_campaign(session, c.id)
    assert (
        edited is not None and edited.organiser == "CDG 56 (Morbihan)" and edited.convocation_lead == timedelta(days=20)
    )
    assert edited.validation_deadline == c.validation_deadline


async def test_the_deadline_extension_is_saved_and_reaches_every_open_dossier_once(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    numbers = await dossiers(client, prompt_queue, c, 3, Status.AWAITING_DOSSIER)
    admin = await staff(StaffRole.ADMINISTRATOR)
    new_deadline = (
        (c.validation_deadline + timedelta(days=7)).astimezone(ZoneInfo(c.time_zone)).replace(second=0, microsecond=0)
    )
    page = f"/staff/sessions/{c.id}"

    earlier = await post_form(
        admin, page, f"{page}/prolongation", {"deadline": _local(c.validation_deadline - timedelta(days=1))}
    )
    assert earlier.status_code == 422 and error_of(earlier).startswith("La nouvelle date limite doit suivre l'actuelle")

    # A double click: two posts of the same form at once.
    token = token_in(await admin.get(page))
    first, second = await asyncio.gather(
        *(
            admin.post(f"{page}/prolongation", data={"deadline": _local(new_deadline), "csrf_token": token})
            for _ in range(2)
        )
    )
    assert first.status_code == second.status_code == 303
    async with database.sessions() as session:
        saved = await get_campaign(session, c.id)
        assert saved is not None and saved.validation_deadline == new_deadline
    workflow_id = names.campaign_deadline_workflow_id(c.id, new_deadline.isoformat())
    told = await client.get_workflow_handle(workflow_id).result()
    assert told == 3
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1

    async def followed() -> bool:
        deadlines = [(await view(client, n)).validation_deadline for n in numbers]
        return all(d == new_deadline for d in deadlines)

    await eventually(followed)
    # Once more later (a third click): the finished extension is not run again.
    again = await post_form(admin, page, f"{page}/prolongation", {"deadline": _local(new_deadline)})
    assert again.status_code == 303
    assert len([w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]) == 1
    assert "La date limite de validation est portée au" in text_of(await admin.get(f"{page}?ok=prolongation"))


async def test_only_administrators_touch_campaigns(staff, database: Database) -> None:
    c = await saved_campaign(database)
    instructor = await staff(StaffRole.INSTRUCTOR)
    page = f"/staff/sessions/{c.id}"
    assert (await instructor.get(page)).status_code == 200
    refused = await post_form(
        instructor, page, f"{page}/prolongation", {"deadline": _local(c.validation_deadline + timedelta(days=1))}
    )
    assert refused.status_code == 403 and "Seul un administrateur" in text_of(refused)
    assert (await instructor.get(f"{page}/modifier")).status_code == 403


def _local(instant: datetime, tz: str = "Europe/Paris") -> str:
    return instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


async def test_an_administrator_sets_how_long_candidates_data_is_kept(staff, database: Database) -> None:
    admin = await staff(StaffRole.ADMINISTRATOR)
    campaign_id = f"att{uuid.uuid4().hex[:6]}"
    too_short = await post_form(
        admin, "/staff/sessions/nouvelle", "/staff/sessions/nouvelle", form(campaign_id, retention_days="30")
    )
    assert too_short.status_code == 422
    assert "ne peut être inférieure à 92 jours" in error_of(too_short)
    created = await post_form(
        admin, "/staff/sessions/nouvelle", "/staff/sessions/nouvelle", form(campaign_id, retention_days="1095")
    )
    assert created.status_code == 303, error_of(created)
    async with database.sessions() as session:
        c = await get_campaign(session, campaign_id)
    assert c is not None and c.retention == timedelta(days=1095)
    edit = await admin.get(f"/staff/sessions/{campaign_id}/modifier")
    assert 'value="1095"' in edit.text
