"""Dossier lists read from visibility: filters, search by name or number, counts per status,
pages of 50 chained by page tokens."""

from __future__ import annotations

import re

import pytest
from temporalio.client import Client

from devtools.prompt_instruction import (
    dossiers_at,
    start_dossier,
    wait_for_status_count,
)
from devtools.samples import registration
from domain.status import Status
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.backoffice import saved_campaign
from tests.conftest import eventually
from tests.web.pages import text_of
from workflows.visibility import BadQueryValue, DossierFilter, dossier_query, looks_like_number

ROW = re.compile(r'<td><a href="/staff/dossiers/([A-Z0-9-]+)">')


def numbers_on(page_html: str) -> list[str]:
    return ROW.findall(page_html)


async def test_filters_counts_search_and_pages(staff, database: Database, client: Client, prompt_queue: str) -> None:
    c = await saved_campaign(database)
    prefix = f"L{c.id[1:7].upper()}"
    complete = await dossiers_at(client, prompt_queue, c, 52, Status.COMPLETE, prefix=prefix)
    waiting = await dossiers_at(client, prompt_queue, c, 3, Status.AWAITING_DOSSIER, prefix=prefix, start_index=52)
    rejected = await dossiers_at(client, prompt_queue, c, 2, Status.REJECTED, prefix=prefix, start_index=55)
    number = f"{prefix}-09001"
    await start_dossier(
        client,
        prompt_queue,
        registration(c, number, route="interne", last_name="N'Diaye", first_name="Aïssatou"),
        Status.IN_INSTRUCTION,
    )
    for status, count in (
        (Status.COMPLETE, 52),
        (Status.AWAITING_DOSSIER, 3),
        (Status.REJECTED, 2),
        (Status.IN_INSTRUCTION, 1),
    ):
        await wait_for_status_count(client, c.id, status, count)
    http = await staff(StaffRole.INSTRUCTOR)

    # Counts per status, one count query each.
    page = await http.get("/staff/dossiers", params={"session": c.id})
    assert page.status_code == 200
    for status, count in (
        (Status.COMPLETE, 52),
        (Status.AWAITING_DOSSIER, 3),
        (Status.REJECTED, 2),
        (Status.IN_INSTRUCTION, 1),
    ):
        assert f'data-statut="{status.value}">{count}<' in page.text
    assert "(58 dossiers)" in text_of(page)

    # 50 per page; the next page follows its token; nothing twice, nothing missed.
    first = numbers_on(page.text)
    assert len(first) == 50
    next_link = re.search(r'<a rel="next" href="([^"]+)"', page.text)
    assert next_link
    second_page = await http.get("/staff/dossiers" + next_link.group(1).replace("&amp;", "&"))
    second = numbers_on(second_page.text)
    assert len(second) == 8 and not set(first) & set(second)
    assert set(first) | set(second) == set(complete + waiting + rejected + [number])
    assert 'rel="next"' not in second_page.text

    # A status, a route.
    only_rejected = numbers_on((await http.get("/staff/dossiers", params={"session": c.id, "statut": "rejete"})).text)
    assert sorted(only_rejected) == sorted(rejected)
    internal = numbers_on((await http.get("/staff/dossiers", params={"session": c.id, "voie": "interne"})).text)
    assert internal == [number]

    # Search by whole words of the name (accents and case aside), or by the start of a number.
    async def search(q: str, **params: str) -> list[str]:
        return numbers_on((await http.get("/staff/dossiers", params={"q": q, **params})).text)

    for q in ("n'diaye", "AISSATOU diaye", "Aïssatou"):
        assert await search(q, session=c.id) == [number], q
    assert await search("ndiaye", session=c.id) == []  # whole words only: "N'Diaye" is "N" and "Diaye"
    assert await search(number.lower()) == [number]
    assert sorted(await search(f"{prefix}-0005")) == sorted(
        n for n in complete + waiting + rejected if n.startswith(f"{prefix}-0005")
    )
    # Injection attempts are words like any other.
    assert await search("' OR 1=1 --", session=c.id) == []


async def test_lists_follow_decisions(staff, database: Database, client: Client, prompt_queue: str) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers_at(client, prompt_queue, c, 1, Status.COMPLETE)
    http = await staff(StaffRole.INSTRUCTOR)
    from tests.staff.test_decisions import decide

    assert (await decide(http, number, "admis")).status_code == 303

    async def listed_as_admitted() -> bool:
        page = await http.get("/staff/dossiers", params={"session": c.id, "statut": Status.ADMITTED.value})
        return numbers_on(page.text) == [number]

    await eventually(listed_as_admitted)


@pytest.mark.parametrize(
    ("search", "clause"),
    [
        ("RED2027-00012", "DossierNumber STARTS_WITH 'RED2027-00012'"),
        ("red2027", "DossierNumber STARTS_WITH 'RED2027'"),
        ("Le Goff", "CandidateName = 'Le' AND CandidateName = 'Goff'"),
        ("O'Brien; DROP", "CandidateName = 'O' AND CandidateName = 'Brien' AND CandidateName = 'DROP'"),
    ],
)
def test_search_becomes_a_safe_visibility_clause(search: str, clause: str) -> None:
    query = dossier_query(DossierFilter(campaign_id="red2027", search=search))
    assert query.startswith("WorkflowType = 'DossierWorkflow' AND CampaignId = 'red2027'")
    assert query.endswith(clause)
    assert looks_like_number(search) == ("STARTS_WITH" in clause)


def test_codes_with_quotes_are_refused() -> None:
    with pytest.raises(BadQueryValue, match="not a code"):
        dossier_query(DossierFilter(campaign_id="x' OR '1'='1"))
