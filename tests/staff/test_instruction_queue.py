"""The instruction queue on the real stack: oldest validation first, one dossier per instructor
at a time, the next one after each decision, and the workflow still the judge of a decision."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from temporalio.client import Client

from domain.status import Status
from infra.clock import now
from infra.database import Database
from infra.instruction import InstructionClaim
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, new_staff, post_form, saved_campaign, staff_client, view
from tests.conftest import eventually
from tests.web.pages import text_of, token_in
from workflows import names
from workflows.dossier import DossierWorkflow, Validate

QUEUE = "/staff/instruction"


async def take_next(http: httpx.AsyncClient, campaign_id: str) -> httpx.Response:
    return await post_form(http, f"{QUEUE}?session={campaign_id}", f"{QUEUE}/suivant", {"session": campaign_id})


def opened(response: httpx.Response) -> str:
    """The dossier number the queue sent the instructor to ("" when it sent them back)."""
    assert response.status_code == 303, response.text[:300]
    match = re.match(r"^/staff/instruction/([A-Z0-9-]+)", response.headers["location"])
    return match.group(1) if match else ""


async def decide_in_queue(http: httpx.AsyncClient, number: str, campaign_id: str, kind: str) -> httpx.Response:
    page = await http.get(f"{QUEUE}/{number}?session={campaign_id}")
    assert page.status_code == 200, text_of(page)[:300]
    data = {"kind": kind, "request_id": uuid.uuid4().hex, "session": campaign_id, "csrf_token": token_in(page)}
    return await http.post(f"{QUEUE}/{number}/decision", data=data)


def remaining_on(page: httpx.Response) -> int:
    match = re.search(r'<strong id="restants">(\d+)</strong>', page.text)
    assert match, "the page says how many dossiers remain"
    return int(match.group(1))


async def test_two_instructors_never_get_the_same_dossier(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    numbers = await dossiers(client, prompt_queue, c, 3, Status.IN_INSTRUCTION)
    first, second, third, fourth = [await staff(StaffRole.INSTRUCTOR) for _ in range(4)]

    # Two instructors ask at the same instant: two different dossiers.
    a, b = await asyncio.gather(take_next(first, c.id), take_next(second, c.id))
    taken = {opened(a), opened(b)}
    assert len(taken) == 2 and taken <= set(numbers)
    # Asking again gives each their own dossier back, not another one.
    assert opened(await take_next(first, c.id)) == opened(a)
    # The third gets the last one; a fourth is told none is left.
    assert opened(await take_next(third, c.id)) == (set(numbers) - taken).pop()
    empty = await take_next(fourth, c.id)
    assert empty.headers["location"].endswith("ok=vide")
    page = await fourth.get(empty.headers["location"])
    assert "Aucun dossier n'attend de décision avec ces critères." in text_of(page)

    # A dossier another instructor holds does not open in the queue, and says who holds it.
    held = await second.get(f"{QUEUE}/{opened(a)}")
    assert held.status_code == 409
    assert "Ce dossier est en cours d'instruction par Agent Test" in error_of(held)

    # Given back to the queue, it is the next one for the fourth instructor.
    page = await first.get(f"{QUEUE}/{opened(a)}?session={c.id}")
    released = await first.post(f"{QUEUE}/{opened(a)}/liberer", data={"session": c.id, "csrf_token": token_in(page)})
    assert released.status_code == 303
    assert opened(await take_next(fourth, c.id)) == opened(a)


async def test_oldest_validation_first_then_the_next_opens_after_each_decision(
    staff, app: FastAPI, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database, receipt_delay=timedelta(minutes=5))
    numbers = await dossiers(client, prompt_queue, c, 3, Status.AWAITING_DOSSIER)
    # Validated in the order 2, 0, 1 (the instants the web stamped), sent in another order.
    at = now()
    stamps = {numbers[2]: at - timedelta(minutes=3), numbers[0]: at - timedelta(minutes=2), numbers[1]: at}
    for number in (numbers[1], numbers[0], numbers[2]):
        handle = client.get_workflow_handle_for(DossierWorkflow.run, number)
        await handle.execute_update(DossierWorkflow.validate, Validate(True, received_at=stamps[number]))

    async def listed_with_validation() -> bool:
        query = (
            f"{names.CAMPAIGN.name} = '{c.id}' AND {names.STATUS.name} = 'en_instruction' AND ValidatedAt IS NOT NULL"
        )
        return (await client.count_workflows(query)).count == 3

    await eventually(listed_with_validation)

    # An account of this test's own: the head of service's page lists every instructor of the
    # test session, and this one's row is the one to read.
    login = await new_staff(database, StaffRole.INSTRUCTOR)
    http = await staff_client(app, login)
    queue_page = await http.get(f"{QUEUE}?session={c.id}")
    assert remaining_on(queue_page) == 3
    assert "Dossier suivant à instruire" in text_of(queue_page)

    number = opened(await take_next(http, c.id))
    assert number == numbers[2]  # the oldest validation
    page = await http.get(f"{QUEUE}/{number}?session={c.id}")
    # The documents beside the decision form, and what remains.
    assert "Pièces justificatives" in text_of(page) and f'action="{QUEUE}/{number}/decision"' in page.text
    assert remaining_on(page) == 3

    decided = await decide_in_queue(http, number, c.id, "complet")
    assert opened(decided) == numbers[0]  # the next one opens at once
    assert (await view(client, number)).status is Status.COMPLETE
    decided = await decide_in_queue(http, numbers[0], c.id, "complet")
    assert opened(decided) == numbers[1]
    decided = await decide_in_queue(http, numbers[1], c.id, "complet")
    assert decided.headers["location"].endswith("ok=vide")

    # The head of service sees who decided how many, per day.
    head = await staff(StaffRole.ADMINISTRATOR)
    stats = await head.get("/staff/instruction-statistiques")
    assert stats.status_code == 200
    row = re.search(rf'<tr data-instructeur="{login}">(.*?)</tr>', stats.text, re.S)
    assert row and re.search(r"<td data-total>3</td>", row.group(1))
    assert (await http.get("/staff/instruction-statistiques")).status_code == 403  # heads of service only
    await http.aclose()


async def test_an_expired_claim_frees_the_dossier_and_the_workflow_refuses_a_conflicting_decision(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.IN_INSTRUCTION)
    first, second = await staff(StaffRole.INSTRUCTOR), await staff(StaffRole.INSTRUCTOR)
    assert opened(await take_next(first, c.id)) == number
    assert (await take_next(second, c.id)).headers["location"].endswith("ok=vide")
    page = await first.get(f"{QUEUE}/{number}?session={c.id}")  # the first instructor's form, still open

    # The first instructor walked away: the claim runs out (moved to the past rather than waited for).
    async with database.sessions() as session:
        await session.execute(
            update(InstructionClaim)
            .where(InstructionClaim.dossier_number == number)
            .values(expires_at=now() - timedelta(seconds=1))
        )
        await session.commit()
    assert opened(await take_next(second, c.id)) == number

    # Both decide: the second one's decision goes through, the first one's conflicting one is
    # refused by the workflow, with its reason, and changes nothing.
    assert (await decide_in_queue(second, number, c.id, "incomplet")).status_code == 409  # no missing pieces
    accepted = await decide_in_queue(second, number, c.id, "complet")
    assert accepted.headers["location"].endswith("ok=vide")
    late = await first.post(
        f"{QUEUE}/{number}/decision",
        data={"kind": "complet", "request_id": uuid.uuid4().hex, "session": c.id, "csrf_token": token_in(page)},
    )
    assert late.status_code == 409
    assert error_of(late) == ("Décision « Dossier complet » impossible : le dossier est au statut « Dossier complet ».")
    dossier = await view(client, number)
    assert dossier.status is Status.COMPLETE
    assert sum("Dossier complet" in t.text for t in dossier.timeline) == 1
