"""Pages before login: open sessions, the pre-registration form, its confirmation and PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from devtools.mail_sink import MailSink
from infra.database import Account, Database
from tests.conftest import mail_with_subject
from tests.factories import form
from tests.web.pages import open_campaign, pdf_text, submit, text_of


def page_form(campaign_id: str, **overrides) -> dict:
    data = form(campaign_id, **overrides)
    data.pop("campaign_id")
    data.setdefault("password_confirmation", data["password"])
    data.setdefault("publish_name", "non")
    return data


async def test_home_lists_open_sessions_only(http: httpx.AsyncClient, database: Database) -> None:
    opened = await open_campaign(database)
    closed = await open_campaign(
        database,
        registration_opens_at=datetime.now(UTC) - timedelta(days=20),
        registration_closes_at=datetime.now(UTC) - timedelta(days=1),
    )

    page = await http.get("/")

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert f'href="/preinscription/{opened.id}"' in page.text
    assert opened.grade in page.text
    assert closed.grade not in page.text


async def test_preregistration_shows_the_number_opens_the_space_and_offers_the_form_pdf(
    http: httpx.AsyncClient, database: Database, mail_sink: MailSink
) -> None:
    c = await open_campaign(database)
    data = page_form(c.id, last_name="Lœuvre", first_name="Anaïs")

    response = await submit(http, f"/preinscription/{c.id}", data)

    assert response.status_code == 303
    assert response.headers["location"] == "/preinscription/confirmation"
    done = await http.get("/preinscription/confirmation")
    assert done.status_code == 200
    text = text_of(done)
    assert "Votre préinscription est terminée, votre « espace sécurisé » s'est automatiquement créé." in text
    async with database.sessions() as session:
        account = await session.scalar(select(Account).where(Account.campaign_id == c.id))
    assert account is not None
    assert f"Votre identifiant (n° de dossier) : {account.dossier_number}" in text

    mail = await mail_with_subject(mail_sink, account.dossier_number, "Votre préinscription")
    assert mail.to == [data["email"]]

    pdf = await http.get("/espace/formulaire-inscription.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF")
    drawn = " ".join(pdf_text(pdf.content).split())  # a wrapped sentence reads whole
    assert account.dossier_number in drawn
    assert "ATTESTATION SUR L'HONNEUR" in drawn
    assert "LŒUVRE" in drawn  # as typed: the form's font is embedded Unicode
    assert "Je refuse que mes nom et prénom" in drawn

    # The space is open at once: the dashboard shows the seed's first status.
    dashboard = await http.get("/espace")
    assert "En attente de votre dossier" in text_of(dashboard)


async def test_preregistration_refusals_keep_the_form_and_create_nothing(
    http: httpx.AsyncClient, database: Database
) -> None:
    c = await open_campaign(database)
    cases = [
        (
            page_form(c.id, password_confirmation="Autre-chose-99"),
            422,
            "Les deux mots de passe saisis ne sont pas identiques.",
        ),
        (page_form(c.id, password="court", password_confirmation="court"), 422, "au moins 10 caractères"),
        (page_form(c.id, route="inconnue"), 422, "Voie d'accès inconnue"),
        (page_form(c.id, email="pas-une-adresse"), 422, "L'adresse e-mail doit comporter un « @ »"),
        (page_form(c.id, email="foo<a@example.fr>"), 422, "Adresse e-mail invalide"),
        (page_form(c.id, birth_date=""), 422, "Vérifiez les champs suivants : Date de naissance."),
        (page_form(c.id, civility=""), 422, "Civilité"),
        (page_form(c.id, city=" "), 422, "La ville est obligatoire."),
    ]
    for data, code, message in cases:
        response = await submit(http, f"/preinscription/{c.id}", data)
        assert response.status_code == code, (data, response.text)
        text = text_of(response)
        assert message in text, text
        assert "Erreur :" in response.text.split("</title>")[0]
        # What the candidate typed is kept (except passwords).
        assert f'value="{data["first_name"]}"' in response.text
        assert data["password"] not in response.text
    async with database.sessions() as session:
        assert (await session.scalars(select(Account).where(Account.campaign_id == c.id))).all() == []


async def test_closed_or_unknown_session_cannot_be_registered_for(http: httpx.AsyncClient, database: Database) -> None:
    closed = await open_campaign(
        database,
        registration_opens_at=datetime.now(UTC) - timedelta(days=20),
        registration_closes_at=datetime.now(UTC) - timedelta(days=1),
    )
    page = await http.get(f"/preinscription/{closed.id}")
    assert "ne sont pas ouvertes en ce moment" in text_of(page)

    # The closed form has no token of its own: take one from the login page.
    response = await submit(http, f"/preinscription/{closed.id}", page_form(closed.id), page="/connexion")
    assert response.status_code == 409
    assert "Les préinscriptions à cette session sont closes." in text_of(response)

    unknown = await http.get("/preinscription/nulle-part")
    assert unknown.status_code == 404
    assert "Session de concours introuvable." in text_of(unknown)


async def test_preregistration_without_csrf_token_is_refused(http: httpx.AsyncClient, database: Database) -> None:
    c = await open_campaign(database)
    await http.get(f"/preinscription/{c.id}")  # the browser holds the cookie, the form has no token

    response = await http.post(f"/preinscription/{c.id}", data=page_form(c.id))

    assert response.status_code == 403
    assert "Ce formulaire a expiré ou ne provient pas de ce site." in text_of(response)
    async with database.sessions() as session:
        assert (await session.scalars(select(Account).where(Account.campaign_id == c.id))).all() == []
