"""A campaign at a glance, on the real stack: the chart's figures in a table screen readers
read, counts per status and route, the dossiers waiting for a decision, convocations per exam."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from temporalio.client import Client

from domain.status import Status
from infra.clock import now
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, saved_campaign
from tests.conftest import eventually
from workflows import names
from workflows.dossier import DossierWorkflow, Validate


def cells(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf"<table[^>]*id=\"{table_id}\".*?</table>", page, re.S)
    assert table, table_id
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    ]


async def test_the_campaign_page_at_a_glance(staff, database: Database, client: Client, prompt_queue: str) -> None:
    c = await saved_campaign(database, receipt_delay=timedelta(minutes=5))
    await dossiers(client, prompt_queue, c, 2, Status.IN_INSTRUCTION)
    await dossiers(client, prompt_queue, c, 1, Status.ADMITTED)
    [fresh] = await dossiers(client, prompt_queue, c, 1, Status.AWAITING_DOSSIER)
    await client.get_workflow_handle_for(DossierWorkflow.run, fresh).execute_update(
        DossierWorkflow.validate, Validate(True, received_at=now())
    )

    async def validation_listed() -> bool:
        query = f"{names.CAMPAIGN.name} = '{c.id}' AND ValidatedAt IS NOT NULL AND DossierStatus = 'en_instruction'"
        return (await client.count_workflows(query)).count == 1

    await eventually(validation_listed)
    http = await staff(StaffRole.INSTRUCTOR)

    page = await http.get(f"/staff/sessions/{c.id}/apercu")
    assert page.status_code == 200
    today = now().astimezone(ZoneInfo(c.time_zone)).strftime("%d/%m/%Y")
    assert cells(page.text, "par-jour") == [[today, "4", "1"]]  # the chart's data, as a table
    assert re.search(r'<strong id="attente-decision">3</strong>', page.text)
    by_status = {row[0]: row[1] for row in cells(page.text, "par-statut")}
    assert by_status == {"Dossier en cours d'instruction": "3", "Vous êtes admis(e) à concourir": "1"}
    assert cells(page.text, "par-voie") == [["Concours externe", "4"]]
    convocations = {row[0]: row for row in cells(page.text, "convocations")}
    written = next(e for e in c.exams if e.kind.value == "admissibilite")
    # Admitted: convened to the written exam; no convocation prepared yet, so it waits.
    assert convocations[written.label][3:] == ["1", "0", "0", "1"]

    chart = await http.get(f"/staff/sessions/{c.id}/apercu.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content and "Préinscriptions".encode() in chart.content
    assert f'<img src="/staff/sessions/{c.id}/apercu.svg" alt="' in page.text
    assert (await http.get("/staff/sessions/inconnue/apercu")).status_code == 404
