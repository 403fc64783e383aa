"""Every staff list downloads, with its filters, as CSV and XLSX (read back with openpyxl);
a candidate's name typed as a formula comes out as text."""

from __future__ import annotations

import csv
import io
import uuid

from openpyxl import load_workbook
from temporalio.client import Client

from devtools.prompt_instruction import start_dossier, wait_for_status_count
from devtools.samples import registration
from domain.status import Status
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.backoffice import saved_campaign


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows()]


async def test_the_dossier_list_downloads_with_its_filters(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    prefix = f"X{uuid.uuid4().hex[:6].upper()}"
    people = {
        f"{prefix}-00001": ("=1+2", "Anne", Status.IN_INSTRUCTION),
        f"{prefix}-00002": ("@SUM(A1)", "Loïc", Status.IN_INSTRUCTION),
        f"{prefix}-00003": ("Nguyễn", "Thị Minh Khuê", Status.COMPLETE),
    }
    for number, (last, first, status) in people.items():
        await start_dossier(client, prompt_queue, registration(c, number, last_name=last, first_name=first), status)
    await wait_for_status_count(client, c.id, Status.IN_INSTRUCTION, 2)
    await wait_for_status_count(client, c.id, Status.COMPLETE, 1)
    http = await staff(StaffRole.INSTRUCTOR)

    page = await http.get(f"/staff/dossiers?session={c.id}&statut=en_instruction")
    assert f'href="/staff/dossiers.xlsx?session={c.id}&amp;statut=en_instruction"' in page.text

    xlsx = await http.get(f"/staff/dossiers.xlsx?session={c.id}&statut=en_instruction")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in xlsx.headers["content-disposition"]
    rows = sheet_rows(xlsx.content)
    assert rows[0][:5] == ["N° de dossier", "Candidat(e)", "Session", "Voie", "Statut"]
    by_number = {r[0]: r for r in rows[1:]}
    assert set(by_number) == {f"{prefix}-00001", f"{prefix}-00002"}  # the status filter holds
    assert by_number[f"{prefix}-00001"][1] == "'=1+2 Anne"  # text, never a formula
    assert by_number[f"{prefix}-00002"][1] == "'@SUM(A1) Loïc"
    assert by_number[f"{prefix}-00001"][3] == "Concours externe"
    assert by_number[f"{prefix}-00001"][4] == "Dossier en cours d'instruction"

    text = (await http.get(f"/staff/dossiers.csv?session={c.id}")).content.decode("utf-8")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    names = {line[0]: line[1] for line in lines[1:]}
    assert names == {
        f"{prefix}-00001": "'=1+2 Anne",
        f"{prefix}-00002": "'@SUM(A1) Loïc",
        f"{prefix}-00003": "Nguyễn Thị Minh Khuê",
    }

    searched = sheet_rows((await http.get(f"/staff/dossiers.xlsx?session={c.id}&q=Nguyễn")).content)
    assert [r[0] for r in searched[1:]] == [f"{prefix}-00003"]
    assert (await http.get("/staff/dossiers.pdf")).status_code == 404


async def test_the_sessions_list_and_the_decision_counts_download(staff, database: Database) -> None:
    c = await saved_campaign(database)
    http = await staff(StaffRole.ADMINISTRATOR)
    rows = sheet_rows((await http.get("/staff/sessions.xlsx")).content)
    assert rows[0][0] == "Session"
    assert any(r[0] == c.id and r[1] == c.grade for r in rows[1:])
    text = (await http.get("/staff/sessions.csv")).content.decode("utf-8")
    assert c.id in text and text.startswith("\ufeffSession;Grade")
    counts = await http.get("/staff/instruction-statistiques.xlsx")
    assert counts.status_code == 200 and sheet_rows(counts.content)[0][0] == "Instructeur"
    instructor = await staff(StaffRole.INSTRUCTOR)
    assert (await instructor.get("/staff/instruction-statistiques.csv")).status_code == 403
