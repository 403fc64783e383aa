"""The whole candidate journey in Chromium, on the real stack, with axe-core on every main page.

Pre-register, read the dossier number in the email, log in with it, upload a document, validate,
see « En cours de transfert », download a letter the centre deposited. Screenshots of each page
go to test-artifacts/screenshots/, axe reports to test-artifacts/axe/.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, FilePayload, Page, expect
from temporalio.client import Client

from devtools.mail_sink import MailSink
from infra.database import Database
from infra.files import FileStore
from infra.settings import Settings
from tests.browser.conftest import VisitedPages, axe_violations, screenshot
from tests.conftest import mail_with_subject
from tests.web.pages import PDF, deposit, open_campaign

SWORN = "J'ai lu, j'approuve et je signe l'attestation sur l'honneur présente dans mon dossier d'inscription"
PASSWORD = "Ma-Belle-Ile-2027"
LETTER = PDF + b"% courrier du service concours\n"


async def downloaded(page: Page, link_name: str) -> bytes:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=link_name).click()
    download = await info.value
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


@pytest.mark.browser
async def test_candidate_journey(
    context: BrowserContext, database: Database, mail_sink: MailSink, client: Client, settings: Settings
) -> None:
    campaign = await open_campaign(database)
    page = await context.new_page()
    visited = VisitedPages(page)
    serious: dict[str, list[dict]] = {}

    async def capture(name: str) -> None:
        await screenshot(page, name)
        serious[name] = await axe_violations(page, name)

    # The open sessions; the first Tab reaches the skip link (keyboard users).
    await page.goto("/")
    await expect(page).to_have_title(re.compile("^Sessions ouvertes aux préinscriptions"))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Aller au contenu"
    await capture("01-sessions")

    # Pre-registration form, filled through its labels.
    await page.locator(f'a[href="/preinscription/{campaign.id}"]').click()
    await page.get_by_label("Concours externe").check()
    await page.get_by_label("Madame").check()
    await page.get_by_label("Nom de naissance").fill("Le Floc'h")
    await page.get_by_label("Prénom", exact=True).fill("Nolwenn")
    await page.get_by_label("Date de naissance").fill("1995-03-08")
    await page.get_by_label("Adresse", exact=True).fill("4 rue des Halles")
    await page.get_by_label("Code postal", exact=True).fill("56100")
    await page.get_by_label("Ville", exact=True).fill("Lorient")
    email = f"nolwenn.{campaign.id}@example.fr"
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Non, je refuse la publication de mes nom et prénom").check()
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_label("Confirmation du mot de passe").fill(PASSWORD)
    await capture("02-preinscription")
    await page.get_by_role("button", name="Enregistrer ma préinscription").click()

    # Confirmation: the dossier number, the registration form to download.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Votre préinscription est enregistrée")
    shown_number = (await page.locator(".dossier-number").inner_text()).strip()
    await capture("03-confirmation")
    form_pdf = await downloaded(page, "Télécharger mon formulaire d'inscription (PDF)")
    assert form_pdf.startswith(b"%PDF")

    # The number, as the candidate reads it in the email.
    mail = await mail_with_subject(mail_sink, shown_number, "Votre préinscription")
    assert mail.to == [email]
    found = re.search(r"Votre identifiant \(n° de dossier\) : (\S+)", mail.body)
    assert found is not None, mail.body
    number = found.group(1)
    assert number == shown_number

    # Log out, then in again with the number from the email (a wrong password first).
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté(e)")
    await page.get_by_label("Identifiant", exact=True).fill(number)
    await page.get_by_label("Mot de passe", exact=True).fill("Pas-le-bon-mot-1")
    await page.get_by_role("button", name="Connexion").click()
    await expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect.")
    await capture("04-connexion-erreur")
    await page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Connexion").click()

    # Dashboard: the seed's first status.
    await expect(page.locator(".status-label")).to_have_text("En attente de votre dossier")
    await expect(page.locator(".todo")).to_contain_text("Validez votre demande d'inscription avant le")
    await capture("05-tableau-de-bord")

    # Upload a diploma.
    await (
        page.get_by_role("navigation", name="Menu de mon espace")
        .get_by_role("link", name="Pièces justificatives")
        .click()
    )
    await page.get_by_label("Nouveau fichier pour « Diplôme(s) requis »").set_input_files(
        files=[FilePayload(name="licence.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    await page.get_by_role("button", name="Ajouter le fichier : Diplôme(s) requis").click()
    await expect(page.get_by_role("status")).to_contain_text("Le fichier a bien été ajouté à votre dossier.")
    await expect(page.locator("#cat-diplome")).to_contain_text("(1/3)")
    await capture("06-pieces")

    # Validate: the box, the green button; the status changes at once.
    await page.get_by_role("link", name="Validation", exact=True).click()
    await capture("07-validation")
    await page.get_by_label(SWORN).check()
    await page.get_by_role("button", name="Valider ma demande d'inscription").click()
    await expect(page.locator(".status-label")).to_have_text("En cours de transfert")
    await expect(page.get_by_role("status")).to_contain_text("Votre demande d'inscription est validée.")
    await capture("08-demande-validee")

    # Staff deposit a letter; the candidate downloads it.
    await deposit(client, FileStore(settings.files_dir), database, number, "Courrier du service concours", LETTER)
    await page.get_by_role("link", name="Mes courriers et documents").click()
    await expect(page.get_by_role("table")).to_contain_text("Courrier du service concours")
    await capture("09-documents")
    assert await downloaded(page, "Courrier du service concours") == LETTER

    # My data, read-only; then the dashboard on a phone-sized screen.
    await page.get_by_role("link", name="Mes données").click()
    await expect(page.get_by_role("main")).to_contain_text("Aucune modification de la voie de concours")
    await capture("10-mes-donnees")
    await page.set_viewport_size({"width": 375, "height": 812})
    await page.goto("/espace")
    await capture("11-tableau-de-bord-mobile")
    await page.get_by_role("link", name="Accessibilité : partiellement conforme").click()
    await capture("12-accessibilite")

    # axe-core on every page this journey showed, not only the ones captured above.
    serious.update(await visited.axe_each("candidate-page"))

    assert not any(serious.values()), {name: v for name, v in serious.items() if v}
