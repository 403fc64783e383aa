"""Staff reads are recorded (RGPD): who opened which dossier or file, and when; only
administrators see the record."""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from domain.status import Status
from infra.database import Database
from infra.personal_data import StaffRead, staff_reads
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, saved_campaign
from tests.staff.test_dossier_page import upload
from tests.web.pages import PNG, text_of


async def test_an_instructors_reads_appear_in_the_administrators_record(
    app: FastAPI, staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    (number,) = await dossiers(client, prompt_queue, c, 1, Status.IN_INSTRUCTION)
    ref = await upload(client, app.state.files, database, number, "diplome", PNG, "image/png", "diplome-lu.png")
    instructor = await staff(StaffRole.INSTRUCTOR)
    admin = await staff(StaffRole.ADMINISTRATOR)
    before = text_of(await admin.get(f"/staff/consultations?dossier={number}"))
    assert "Aucune consultation enregistrée" in before

    assert (await instructor.get(f"/staff/dossiers/{number}")).status_code == 200
    assert (await instructor.get(f"/staff/dossiers/{number}/fichiers/{ref}")).status_code == 200

    record = await admin.get(f"/staff/consultations?dossier={number}")
    assert record.status_code == 200
    rows = text_of(record)
    assert "Fiche du dossier" in rows
    assert "Fichier du dossier : diplome-lu.png" in rows
    instructor_login = next(r.staff_login for r in await _reads(app, number))
    assert instructor_login.startswith("inst") and instructor_login in rows
    # Filtering by the agent keeps their reads and only theirs.
    by_agent = text_of(await admin.get(f"/staff/consultations?agent={instructor_login}"))
    assert number in by_agent


async def test_a_read_of_an_unknown_dossier_records_nothing(app: FastAPI, staff) -> None:
    instructor = await staff(StaffRole.INSTRUCTOR)
    assert (await instructor.get("/staff/dossiers/ZZZ-INCONNU-1")).status_code == 404
    assert await _reads(app, "ZZZ-INCONNU-1") == []


async def test_instructors_and_operators_cannot_see_the_record(staff) -> None:
    for role in (StaffRole.INSTRUCTOR, StaffRole.OPERATOR):
        http = await staff(role)
        refused = await http.get("/staff/consultations")
        assert refused.status_code == 403, role
        assert "réservé aux administrateurs" in text_of(refused)
        assert 'href="/staff/consultations"' not in (await http.get("/staff/dossiers")).text


async def _reads(app: FastAPI, number: str) -> list[StaffRead]:
    async with app.state.database.sessions() as db:
        return await staff_reads(db, dossier_number=number)
