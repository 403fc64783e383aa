"""A staff member's day in Chromium, on the real stack: log in, find dossiers, preview a
candidate's documents, decide, admit the complete dossiers in bulk and follow the progress,
read a dossier's history, check the system's health. Beside it, in a browser of their own, a
candidate asks for exam accommodations with the certificate, which staff partly grant; the
candidate reads the answer, and the accommodations come out on the convocation and on the exam's
attendance sheet. Screenshots go to test-artifacts/screenshots/staff-*.png; axe-core checks
every page either browser showed (WCAG 2.1 AA)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, FilePayload, Page, expect
from temporalio.client import Client

from domain.status import Status
from infra.database import Account, Database, get_campaign
from infra.staff_accounts import StaffRole
from tests.backoffice import STAFF_PASSWORD, cheap_staff_hashing, dossiers, new_staff, prompt_queue  # noqa: F401
from tests.batch.test_convocations import png
from tests.browser.conftest import VisitedPages, axe_violations, screenshot
from tests.letters.pdf import pdf_lines
from tests.staff.test_dossier_page import upload
from tests.web.pages import PDF
from web.security import hash_password

EXTRA_TIME = "Temps de composition majoré (tiers-temps)"
SEPARATE_ROOM = "Salle à part"
CANDIDATE_PASSWORD = "Ma-Belle-Ile-2027"

ROUTES = """externe | Concours externe
  formulaire | Formulaire d'inscription daté et signé | 1
  diplome | Diplôme(s) requis | 3
  autre | Toute(s) autre(s) pièce(s) complémentaire(s) | 1
interne | Concours interne
  formulaire | Formulaire d'inscription daté et signé | 1
  etats | État(s) des services publics | 3"""


def _local(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M")


async def _candidate_account(database: Database, number: str, campaign_id: str, grade: str) -> None:
    """The login the pre-registration form would have made for this dossier (started directly on
    the prompt-instruction queue, so that staff can decide on it at once)."""
    async with database.sessions() as session:
        session.add(
            Account(
                dossier_number=number,
                campaign_id=campaign_id,
                grade=grade,
                person_key=f"journey-{number}",
                email=f"{number.lower()}@example.fr",
                password_hash=hash_password(CANDIDATE_PASSWORD),
            )
        )
        await session.commit()


async def _pdf(page: Page, link_name: str | re.Pattern[str]) -> str:
    """The text of the PDF a link of the page serves, fetched with the page's session."""
    href = await page.get_by_role("link", name=link_name).first.get_attribute("href")
    assert href, link_name
    response = await page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf", href
    return pdf_lines(await response.body())


@pytest.mark.browser
async def test_staff_journey(
    context: BrowserContext,
    browser: Browser,
    live_server: str,
    app: FastAPI,
    database: Database,
    client: Client,
    prompt_queue: str,  # noqa: F811
) -> None:
    login = await new_staff(database, StaffRole.ADMINISTRATOR, name="Jeanne Dupont")
    page = await context.new_page()
    visited = VisitedPages(page)
    serious: dict[str, list[dict]] = {}

    async def capture(name: str) -> None:
        await screenshot(page, f"staff-{name}")
        serious[name] = await axe_violations(page, f"staff-{name}")

    # Log in.
    await page.goto("/staff")
    await expect(page).to_have_url(re.compile("/staff/connexion$"))
    await page.get_by_label("Identifiant").fill(login)
    await page.get_by_label("Mot de passe").fill(STAFF_PASSWORD)
    await capture("00-connexion")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dossiers")

    # A new campaign, typed in the form.
    campaign_id = f"red{uuid.uuid4().hex[:6]}"
    now = datetime.now(ZoneInfo("Europe/Paris"))
    await page.get_by_role("link", name="Sessions").click()
    await page.get_by_role("link", name="Créer une session").click()
    await page.get_by_label("Code de la session").fill(campaign_id)
    await page.get_by_label("Concours ou examen (grade)").fill("Rédacteur territorial principal de 2e classe")
    await page.get_by_label("Organisateur", exact=True).fill("CDG 56")
    await page.get_by_label("Ouverture des préinscriptions").fill(_local(now - timedelta(days=10)))
    await page.get_by_label("Clôture des préinscriptions").fill(_local(now + timedelta(days=10)))
    await page.get_by_label("Date limite de validation").fill(_local(now + timedelta(days=17)))
    await page.locator("#champ-routes").fill(ROUTES)
    await page.locator("#champ-exams").fill(
        f"ecrit | admissibilite | {_local(now + timedelta(days=60))[:10]} 09:00 | Épreuves écrites d'admissibilité"
        " | Parc des expositions du Chorus, Vannes"
    )
    await capture("01-nouvelle-session")
    await page.get_by_role("button", name="Créer la session").click()
    await expect(page.get_by_role("status").first).to_contain_text("La session est créée.")
    async with database.sessions() as session:
        campaign = await get_campaign(session, campaign_id)
    assert campaign is not None

    # Candidates register (prompt dossiers: instruction starts at once), one uploads documents.
    [to_instruct, to_reject] = await dossiers(client, prompt_queue, campaign, 2, Status.IN_INSTRUCTION)
    complete = await dossiers(client, prompt_queue, campaign, 4, Status.COMPLETE, prefix=f"B{to_instruct[1:7]}")
    await upload(client, app.state.files, database, to_instruct, "diplome", png(), "image/png", "diplome.png")
    await upload(client, app.state.files, database, to_instruct, "formulaire", PDF, "application/pdf", "formulaire.pdf")
    await page.get_by_role("link", name="Dossiers", exact=True).click()

    # The campaign's dossiers, with their counts per status.
    await page.get_by_label("Session").select_option(campaign.id)
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.locator('[data-statut="complet"]')).to_have_text("4")
    await capture("02-dossiers")

    # One dossier: its documents previewed, then the decisions.
    await page.get_by_role("link", name=to_instruct).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Dossier n° {to_instruct}")
    preview = page.get_by_alt_text("Aperçu de diplome.png")
    await expect(preview).to_be_visible()
    # Visible is not loaded: wait until the browser has decoded it (slow on a busy machine); a
    # broken image rejects decode() and fails here.
    await preview.evaluate("img => img.decode()")
    assert await preview.evaluate("img => img.naturalWidth") > 0
    await expect(page.locator("iframe[title='Aperçu de formulaire.pdf']")).to_be_visible()
    await capture("03-dossier")
    await page.get_by_role("button", name="Dossier complet").click()
    await expect(page.get_by_role("status").first).to_contain_text("La décision est enregistrée")
    await expect(page.locator(".status-label")).to_have_text("Dossier complet")
    await page.get_by_role("button", name="Admettre à concourir", exact=True).click()
    await expect(page.locator(".status-label")).to_have_text("Vous êtes admis(e) à concourir")
    await capture("04-decision")

    # The candidate, in a browser of their own, asks for accommodations with the certificate.
    await _candidate_account(database, to_instruct, campaign.id, campaign.grade)
    candidate_context = await browser.new_context(
        base_url=live_server, locale="fr-FR", accept_downloads=True, bypass_csp=True
    )
    candidate_context.set_default_timeout(10_000)
    tab = await candidate_context.new_page()
    candidate_visited = VisitedPages(tab)

    async def capture_tab(name: str) -> None:
        await screenshot(tab, f"staff-candidat-{name}")
        serious[f"candidat-{name}"] = await axe_violations(tab, f"staff-candidat-{name}")

    await tab.goto("/connexion")
    await tab.get_by_label("Identifiant", exact=True).fill(to_instruct)
    await tab.get_by_label("Mot de passe", exact=True).fill(CANDIDATE_PASSWORD)
    await tab.get_by_role("button", name="Connexion").click()
    await expect(tab.locator(".status-label")).to_have_text("Vous êtes admis(e) à concourir")
    await (
        tab.get_by_role("navigation", name="Menu de mon espace")
        .get_by_role("link", name="Aménagements d'épreuves")
        .click()
    )
    await tab.get_by_label(EXTRA_TIME).check()
    await tab.get_by_label(SEPARATE_ROOM).check()
    await tab.get_by_label("Certificat d'un médecin agréé").set_input_files(
        files=[FilePayload(name="certificat-medecin-agree.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    await capture_tab("a1-amenagements-demande")
    await tab.get_by_role("button", name="Envoyer ma demande d'aménagements").click()
    await expect(tab.get_by_role("main")).to_contain_text("Demande en cours d'examen")
    await expect(tab.get_by_role("link", name="certificat-medecin-agree.pdf")).to_be_visible()

    # Staff see the request and its certificate, and grant extra time only, with the reason.
    await page.reload()
    section = page.locator("section", has=page.get_by_role("heading", name="Aménagements d'épreuves"))
    await expect(section).to_contain_text(f"{EXTRA_TIME}, {SEPARATE_ROOM}")
    await expect(page.locator("iframe[title='Aperçu de certificat-medecin-agree.pdf']")).to_be_visible()
    await page.get_by_label("Aménagements accordés en partie").check()
    await section.get_by_label(EXTRA_TIME).check()
    await section.get_by_label("Motif").fill("Une salle à part n'est pas justifiée par le certificat.")
    await capture("04a-amenagements")
    await page.get_by_role("button", name="Enregistrer la décision").click()
    await expect(page.get_by_role("status").first).to_contain_text("La décision sur les aménagements est enregistrée")
    await expect(section).to_contain_text("Aménagements accordés en partie")

    # The candidate reads the answer in their space.
    await tab.reload()
    answer = tab.get_by_role("main")
    await expect(answer).to_contain_text("Aménagements accordés en partie")
    await expect(answer).to_contain_text("Une salle à part n'est pas justifiée par le certificat.")
    await expect(answer).to_contain_text("Ils figurent sur votre convocation")
    await capture_tab("a2-amenagements-reponse")

    # The convocation, deposited from the dossier page, prints what was granted.
    await page.get_by_label("Épreuve (convocation)").select_option("ecrit")
    await page.get_by_role("button", name="Déposer la convocation").click()
    await expect(page.get_by_role("status").first).to_contain_text("Le document est déposé")
    convocation = await _pdf(page, "Convocation — Épreuves écrites d'admissibilité")
    assert EXTRA_TIME in convocation and SEPARATE_ROOM not in convocation, convocation

    # A rejection without reasons is refused by the browser; with reasons, by nobody.
    await page.goto(f"/staff/dossiers/{to_reject}")
    await page.get_by_label("Motifs (un par ligne ; repris dans le courrier)").first.fill(
        "Diplôme de niveau insuffisant"
    )
    await page.get_by_role("button", name="Rejeter le dossier").click()
    await expect(page.locator(".status-label")).to_have_text("Dossier rejeté")
    # The letter is printed by an activity of the test session's shared worker, which other tests
    # keep busy: the page reloads itself until the letter is there (once, in a full run, after 20 s).
    await expect(page.get_by_role("link", name="Courrier de non admission à concourir")).to_be_visible(timeout=60_000)

    # The instruction queue: the next dossier waiting, by keyboard, and the next one after a decision.
    queued = await dossiers(client, prompt_queue, campaign, 2, Status.IN_INSTRUCTION, prefix=f"Q{to_instruct[1:7]}")
    await page.get_by_role("link", name="File d'instruction").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Instruction des dossiers")
    await page.get_by_label("Session").select_option(campaign.id)
    await page.get_by_role("button", name="Appliquer les filtres").click()
    await expect(page.locator("#restants")).to_have_text("2")
    await capture("05a-file-instruction")
    next_button = page.get_by_role("button", name="Dossier suivant à instruire")
    await expect(next_button).to_be_focused()  # Enter is enough
    await page.keyboard.press("Enter")
    # Both were validated at the same instant (prompt dossiers): either may come first.
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_contain_text(re.compile(f"Dossier n° ({queued[0]}|{queued[1]})"))
    first = queued[0] if queued[0] in await heading.inner_text() else queued[1]
    await expect(page.locator("#restants")).to_have_text("2")
    await capture("05b-file-dossier")
    await page.get_by_role("button", name="Admettre à concourir sous réserve").click()
    await expect(heading).to_contain_text(f"Dossier n° {(set(queued) - {first}).pop()}")
    await expect(page.locator("#restants")).to_have_text("1")
    await page.get_by_role("button", name="Admettre à concourir sous réserve").click()
    await expect(page.get_by_role("status").first).to_contain_text("Aucun dossier n'attend de décision")
    await page.get_by_role("link", name="Décisions par instructeur et par jour").click()
    # Three decisions on dossier pages above, two in the queue: all counted.
    await expect(page.locator("tr[data-instructeur] td[data-total]")).to_have_text("5")
    await capture("05c-decisions-par-instructeur")

    # The campaign at a glance: the chart drawn on the server, its figures in a table.
    await page.goto(f"/staff/sessions/{campaign.id}")
    await page.get_by_role("link", name="Vue d'ensemble (graphique et chiffres)").click()
    await expect(page.locator("#attente-decision")).to_have_text("0")
    chart = page.get_by_alt_text(re.compile("^Graphique en barres des préinscriptions"))
    await expect(chart).to_be_visible()
    # Drawn on request (matplotlib): wait for the picture to arrive, not for a fixed time.
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await chart.element_handle(), timeout=30_000
    )
    await capture("05d-vue-ensemble")

    # Bulk admission of the complete dossiers, its progress page refreshing itself.
    await page.goto(f"/staff/sessions/{campaign.id}")
    await expect(page.get_by_text("4 dossier(s) au statut « Dossier complet »")).to_be_visible()
    await capture("05-session")
    await page.get_by_role("button", name="Admettre les dossiers complets").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Admission à concourir des dossiers complets")
    await expect(page.locator("[data-etat]")).to_have_text("Terminé", timeout=30_000)
    await expect(page.locator("[data-appliques]")).to_have_text("4")
    await capture("06-lot")

    # The exam-day documents: the attendance sheet lists the accommodation beside the candidate.
    await page.goto(f"/staff/sessions/{campaign.id}")
    await page.get_by_role("button", name="Préparer les documents du jour d'épreuve").click()
    await expect(page.locator("[data-etat]")).to_have_text("Terminé", timeout=30_000)
    await capture("06a-jour-epreuve")
    sheet = await _pdf(page, re.compile("^Liste d'émargement"))
    assert to_instruct in sheet and EXTRA_TIME in sheet and SEPARATE_ROOM not in sheet, sheet

    # The operator's view of one dossier.
    await page.goto(f"/staff/dossiers/{complete[0]}")
    await page.get_by_role("link", name="Historique du workflow").click()
    await expect(
        page.get_by_role("cell", name=re.compile("Décision « Admis\\(e\\) à concourir » par Jeanne Dupont"))
    ).to_be_visible()
    await capture("07-historique")
    await page.get_by_role("link", name="État du système").click()
    await expect(page.get_by_role("status").first).to_contain_text("Tout fonctionne.")
    await capture("08-sante")
    await page.get_by_role("link", name="Accessibilité : partiellement conforme").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration d'accessibilité")
    await capture("09-accessibilite")

    # axe-core on every page this journey showed, not only the ones captured above.
    serious.update(await visited.axe_each("staff-page"))
    serious.update(await candidate_visited.axe_each("staff-candidat-page"))
    await candidate_context.close()
    assert len(serious) > 20
    await page.goto("/staff/dossiers")

    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page).to_have_url(re.compile("/staff/connexion\\?ok=deconnexion$"))
    assert {name: found for name, found in serious.items() if found} == {}
