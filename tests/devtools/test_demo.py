"""The run command's first-run setup: a demonstration campaign and one staff administrator."""

from __future__ import annotations

from pathlib import Path

from devtools.demo import DEMO_ID, DEMO_STAFF_LOGIN, ensure_demo_administrator, ensure_demo_campaign
from infra.database import Database, get_campaign
from infra.staff_accounts import StaffAccount, StaffRole
from web.security import verify_password


async def test_the_first_run_creates_the_campaign_and_an_administrator_once(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    await database.migrate()
    try:
        assert await ensure_demo_campaign(database)
        assert not await ensure_demo_campaign(database)
        password = await ensure_demo_administrator(database)
        assert password is not None
        assert await ensure_demo_administrator(database) is None  # never a second password
        async with database.sessions() as session:
            account = await session.get(StaffAccount, DEMO_STAFF_LOGIN)
            campaign = await get_campaign(session, DEMO_ID)
        assert account is not None and account.staff_role is StaffRole.ADMINISTRATOR
        assert verify_password(account.password_hash, password)
        assert campaign is not None and campaign.grade == "Rédacteur territorial"
    finally:
        await database.dispose()
