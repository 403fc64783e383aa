"""The health page: Temporal, the worker's pollers, the database and SMTP, each checked; one
failing check is named without hiding the others."""

from __future__ import annotations

from temporalio.client import Client

from infra.database import Database
from infra.settings import Settings
from infra.staff_accounts import StaffRole
from ops.health import run_checks
from tests.conftest import free_port
from tests.web.pages import text_of


async def test_everything_up_reads_ok(staff, worker) -> None:
    operator = await staff(StaffRole.OPERATOR)
    page = await operator.get("/staff/sante")
    assert page.status_code == 200, text_of(page)
    assert "Tout fonctionne." in text_of(page)
    assert page.text.count('data-ok="oui"') == 4
    report = (await operator.get("/staff/sante.json")).json()
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == [
        "Temporal joignable",
        "Worker à l'écoute",
        "Base de données",
        "Serveur SMTP",
    ]


async def test_a_missing_worker_and_a_dead_smtp_server_are_named(
    client: Client, database: Database, settings: Settings
) -> None:
    broken = settings.model_copy(update={"task_queue": "file-sans-worker", "smtp_port": free_port()})
    checks = {c.name: c for c in await run_checks(client, database, broken)}
    assert checks["Temporal joignable"].ok and checks["Base de données"].ok
    assert not checks["Worker à l'écoute"].ok
    assert "aucun worker n'interroge la file « file-sans-worker »" in checks["Worker à l'écoute"].detail
    assert not checks["Serveur SMTP"].ok and checks["Serveur SMTP"].detail


async def test_health_is_for_operators(staff) -> None:
    instructor = await staff(StaffRole.INSTRUCTOR)
    assert (await instructor.get("/staff/sante")).status_code == 403
    assert (await instructor.get("/staff/sante.json")).status_code == 403
