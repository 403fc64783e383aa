"""Dossier numbers on PostgreSQL: concurrent pre-registrations each get their own number, with
no duplicate and no gap, the very first ones of a campaign included."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from fastapi import FastAPI
from sqlalchemy import select
from temporalio.client import Client

from domain.registration import dossier_number
from infra.database import Account, Counter, Database
from tests.factories import form
from tests.web.pages import client, open_campaign


async def test_concurrent_pre_registrations_get_every_number_once(
    pg_app: FastAPI, pg_database: Database, client: Client
) -> None:
    campaign = await open_campaign(pg_database)  # a new campaign: its counter does not exist yet
    count = 24
    people = [form(campaign.id, birth_date=(date(1990, 1, 1) + timedelta(days=i)).isoformat()) for i in range(count)]

    async def register(data: dict) -> str:
        async with client_of(pg_app) as http:
            created = await http.post("/api/preinscriptions", json=data)
        assert created.status_code == 201, created.text
        return created.json()["dossier_number"]

    numbers = await asyncio.gather(*(register(data) for data in people))

    assert sorted(numbers) == [dossier_number(campaign, i) for i in range(1, count + 1)]
    async with pg_database.sessions() as session:
        accounts = set(await session.scalars(select(Account.dossier_number).where(Account.campaign_id == campaign.id)))
        counter = await session.get(Counter, campaign.id)
    assert accounts == set(numbers)
    assert counter is not None and counter.value == count
    # Every number is a dossier: its workflow runs.
    for number in numbers:
        assert (await client.get_workflow_handle(number).describe()).status is not None


def client_of(app: FastAPI):
    return client(app)
