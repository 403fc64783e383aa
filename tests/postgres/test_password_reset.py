"""Password reset links on PostgreSQL: single use under concurrent submissions, expiry compared
in the database across time zones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from fastapi import FastAPI
from sqlalchemy import update

from devtools.mail_sink import MailSink
from infra.database import Database, PasswordReset
from tests.web.pages import client, open_campaign, preregister, submit
from tests.web.test_pages_auth import reset_link
from web.password_reset import token_hash


async def test_a_reset_link_submitted_twice_at_once_changes_the_password_once(
    pg_app: FastAPI, pg_database: Database, mail_sink: MailSink
) -> None:
    campaign = await open_campaign(pg_database)
    async with client(pg_app) as http:
        number, data = await preregister(http, campaign.id)
        link = await reset_link(http, mail_sink, number)
    token = parse_qs(urlparse(link).query)["jeton"][0]
    passwords = ["Premier-Secret-2027", "Second-Secret-2027"]

    async def use(password: str) -> int:
        async with client(pg_app) as browser:  # two tabs, two sessions
            answer = await submit(
                browser,
                "/mot-de-passe/nouveau",
                {"jeton": token, "password": password, "password_confirmation": password},
                page=link,
            )
            return answer.status_code

    statuses = await asyncio.gather(*(use(p) for p in passwords))

    assert sorted(statuses) == [303, 410]
    winner = passwords[statuses.index(303)]
    async with client(pg_app) as http:
        for password, expected in [(winner, 303), (data["password"], 401), (passwords[statuses.index(410)], 401)]:
            login = await submit(http, "/connexion", {"dossier_number": number, "password": password})
            assert login.status_code == expected, password
            if expected == 303:
                await submit(http, "/deconnexion", page="/espace")


async def test_an_expired_reset_link_is_refused(pg_app: FastAPI, pg_database: Database, mail_sink: MailSink) -> None:
    campaign = await open_campaign(pg_database)
    async with client(pg_app) as http:
        number, _ = await preregister(http, campaign.id)
        link = await reset_link(http, mail_sink, number)
        token = parse_qs(urlparse(link).query)["jeton"][0]
        async with pg_database.sessions() as session:  # a second past its hour
            await session.execute(
                update(PasswordReset)
                .where(PasswordReset.token_hash == token_hash(token))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()

        assert (await http.get(link)).status_code == 410
        late = await submit(
            http,
            "/mot-de-passe/nouveau",
            {"jeton": token, "password": "Tardif-Secret-44", "password_confirmation": "Tardif-Secret-44"},
            page="/connexion",
        )
        assert late.status_code == 410
