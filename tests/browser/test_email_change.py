"""In Chromium, with axe-core: a candidate whose address the mail server refuses (550) reads why
on their dashboard, gives a new address, follows the link from the mailbox and is done."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi import FastAPI
from playwright.async_api import BrowserContext, expect

from devtools.mail_sink import MailSink
from infra.database import Database
from tests.browser.conftest import axe_violations, screenshot
from tests.conftest import eventually
from tests.web.pages import client, open_campaign, preregister

LINK = re.compile(r"http://testserver(/adresse-electronique/confirmer\?jeton=\S+)")


@pytest.mark.browser
async def test_a_refused_address_is_corrected_from_the_space(
    app: FastAPI, context: BrowserContext, database: Database, mail_sink: MailSink
) -> None:
    bad = f"inconnu-{uuid.uuid4().hex[:8]}@example.fr"
    good = f"nolwenn-{uuid.uuid4().hex[:8]}@example.fr"
    mail_sink.refused_recipients.add(bad)
    try:
        campaign = await open_campaign(database)
        async with client(app) as http:
            number, data = await preregister(http, campaign.id, email=bad)
        page = await context.new_page()
        serious: dict[str, list[dict]] = {}

        await page.goto("/connexion")
        await page.get_by_label("Identifiant", exact=True).fill(number)
        await page.get_by_label("Mot de passe", exact=True).fill(data["password"])
        await page.get_by_role("button", name="Connexion").click()

        async def notice() -> bool:
            await page.goto("/espace")
            return await page.locator("#courriels-non-remis").count() == 1

        await eventually(notice)
        await expect(page.locator("#courriels-non-remis")).to_contain_text(
            f"Nous n'avons pas pu vous envoyer la confirmation de votre préinscription à l'adresse {bad}"
        )
        await screenshot(page, "courriel-01-non-remis")
        serious["tableau"] = await axe_violations(page, "courriel-01-non-remis")

        await page.get_by_role("link", name="Corriger mon adresse électronique").click()
        await page.get_by_label("Nouvelle adresse électronique").fill(good)
        await page.get_by_role("button", name="Recevoir le lien de confirmation").click()
        await expect(page.get_by_role("status")).to_contain_text(
            f"Un lien de confirmation vient d'être envoyé à l'adresse {good}"
        )
        serious["demande"] = await axe_violations(page, "courriel-02-lien-envoye")

        [mail] = await eventually(lambda: mail_sink.to(good))
        found = LINK.search(mail.body)
        assert found, mail.body
        await page.goto(found.group(1))
        serious["confirmation"] = await axe_violations(page, "courriel-03-confirmation")
        await page.get_by_role("button", name="Confirmer cette adresse").click()
        await expect(page.get_by_role("status")).to_contain_text(f"Votre adresse électronique est désormais {good}")
        await screenshot(page, "courriel-04-confirmee")

        await page.get_by_role("link", name="Aller à mon espace").click()
        await expect(page.locator("#courriels-non-remis")).to_have_count(0)
        await eventually(lambda: [m for m in mail_sink.to(good) if m.subject.startswith("Votre préinscription")])
        assert {name: v for name, v in serious.items() if v} == {}
    finally:
        mail_sink.refused_recipients.discard(bad)
