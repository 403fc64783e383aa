"""The thin slice over HTTP, on the real stack: pre-register, log in, validate, read the status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from devtools.mail_sink import MailSink
from infra.database import Account, Database, get_campaign, save_campaign
from infra.settings import Settings
from tests.conftest import eventually, mail_with_subject
from tests.factories import campaign, form
from tests.web.pages import from_address, text_of, token_in
from tests.web.test_pages_public import page_form
from web.app import create_app
from workflows import names


async def open_campaign(database: Database, **kwargs):
    c = campaign(**kwargs)
    async with database.sessions() as session:
        await save_campaign(session, c)
    return c


async def register_and_login(http: httpx.AsyncClient, campaign_id: str, **overrides) -> tuple[str, dict]:
    data = form(campaign_id, **overrides)
    created = await http.post("/api/preinscriptions", json=data)
    assert created.status_code == 201, created.text
    number = created.json()["dossier_number"]
    login = await http.post("/api/session", json={"dossier_number": number, "password": data["password"]})
    assert login.status_code == 200, login.text
    return number, data


async def settled_history_length(handle: WorkflowHandle) -> int:
    """The history's length once no activity or workflow task is pending."""

    async def settled() -> int | None:
        raw = (await handle.describe()).raw_description
        if raw.pending_activities or raw.HasField("pending_workflow_task"):
            return None
        return len([e async for e in handle.fetch_history_events()])

    return await eventually(settled)


async def test_preregistration_creates_account_workflow_and_emails_the_number(
    http: httpx.AsyncClient, database: Database, client: Client, mail_sink: MailSink
) -> None:
    c = await open_campaign(database)
    data = form(c.id)
    response = await http.post("/api/preinscriptions", json=data)

    assert response.status_code == 201, response.text
    body = response.json()
    number = body["dossier_number"]
    assert body["status_label"] == "En attente de votre dossier"

    async with database.sessions() as session:
        account = await session.get(Account, number)
    assert account is not None
    assert account.password_hash.startswith("$argon2id$")
    assert data["password"] not in account.password_hash

    description = await client.get_workflow_handle(names.dossier_workflow_id(number)).describe()
    assert description.id == number
    assert description.status == WorkflowExecutionStatus.RUNNING

    mail = await mail_with_subject(mail_sink, number, "Votre préinscription")
    assert mail.to == [data["email"]]
    assert f"Votre identifiant (n° de dossier) : {number}" in mail.body


async def test_status_reads_the_workflow_and_shows_the_seed_label(http: httpx.AsyncClient, database: Database) -> None:
    c = await open_campaign(database)
    number, _ = await register_and_login(http, c.id)

    dossier = (await http.get("/api/dossier")).json()

    assert dossier["dossier_number"] == number
    assert dossier["status_label"] == "En attente de votre dossier"
    assert "valider" in dossier["allowed_actions"]
    assert dossier["categories"][0]["label"] == "Diplôme(s) requis"


async def test_validation_with_the_sworn_statement_moves_to_transfer(
    http: httpx.AsyncClient, database: Database
) -> None:
    c = await open_campaign(database)
    await register_and_login(http, c.id)

    response = await http.post("/api/dossier/validation", json={"sworn_statement": True})

    assert response.status_code == 200, response.text
    assert response.json()["status_label"] == "En cours de transfert"
    assert (await http.get("/api/dossier")).json()["status_label"] == "En cours de transfert"


async def test_validation_without_the_sworn_statement_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, database: Database, client: Client, mail_sink: MailSink
) -> None:
    c = await open_campaign(database)
    number, _ = await register_and_login(http, c.id)
    await mail_with_subject(mail_sink, number, "Votre préinscription")  # its activity is done
    handle = client.get_workflow_handle(number)
    events_before = await settled_history_length(handle)

    response = await http.post("/api/dossier/validation", json={"sworn_statement": False})

    assert response.status_code == 409
    assert "J'ai lu, j'approuve et je signe" in response.json()["detail"]
    assert (await http.get("/api/dossier")).json()["status_label"] == "En attente de votre dossier"
    # A refusal by the validator writes nothing to the dossier's history.
    assert len([e async for e in handle.fetch_history_events()]) == events_before


async def test_deadline_timer_cancels_an_unvalidated_dossier_and_refuses_late_validation(
    http: httpx.AsyncClient, database: Database, client: Client, mail_sink: MailSink
) -> None:
    c = await open_campaign(database, deadline_in=timedelta(seconds=4), reminders=[])
    number, _ = await register_and_login(http, c.id)

    async def cancelled() -> bool:
        return (await http.get("/api/dossier")).json()["status"] == "annule"

    await eventually(cancelled, timeout=20)
    response = await http.post("/api/dossier/validation", json={"sworn_statement": True})

    assert response.status_code == 409
    assert "ne peut plus être validé" in response.json()["detail"]
    mail = await mail_with_subject(mail_sink, number, "Préinscription annulée")
    assert "n'a pas été validée avant la date limite" in mail.body


async def test_preregistration_refusals_are_french_and_create_nothing(
    http: httpx.AsyncClient, database: Database
) -> None:
    c = await open_campaign(database)
    closed = await open_campaign(
        database,
        registration_closes_at=datetime.now(UTC) - timedelta(days=1),
        registration_opens_at=datetime.now(UTC) - timedelta(days=20),
    )
    cases = [
        (form(c.id, password="court"), 422, "au moins 10 caractères"),
        # Common passwords, and ones made of the candidate's own name and birth date, are refused
        # whatever their digits and symbols (zxcvbn's estimate, not a composition rule).
        (form(c.id, password="Azerty123!"), 422, "trop facile à deviner"),
        (form(c.id, password="Password123"), 422, "c'est un mot de passe très courant"),
        (form(c.id, password="Motdepasse1"), 422, "trop facile à deviner"),
        (form(c.id, password="LeGoff17051994"), 422, "votre nom, votre prénom"),
        (form(c.id, route="inconnue"), 422, "Voie d'accès inconnue"),
        (form(c.id, email="pas-une-adresse"), 422, "L'adresse e-mail doit comporter un « @ »"),
        (form(c.id, email="foo<a@example.fr>"), 422, "Adresse e-mail invalide"),
        (form(c.id, email=f"{'a' * 300}@example.fr"), 422, "L'adresse e-mail est trop longue"),
        (form(c.id, email="jérôme@example.fr"), 422, "ne sont pas acceptées avant le « @ »"),
        (form("nulle-part"), 404, "Session de concours introuvable"),
        (form(closed.id), 409, "sont closes"),
    ]
    for data, code, message in cases:
        response = await http.post("/api/preinscriptions", json=data)
        assert response.status_code == code, (data, response.text)
        assert message in response.json()["detail"]
    async with database.sessions() as session:
        accounts = (await session.scalars(select(Account).where(Account.campaign_id.in_([c.id, closed.id])))).all()
    assert accounts == []


async def test_wrong_password_and_anonymous_access_are_refused(http: httpx.AsyncClient, database: Database) -> None:
    c = await open_campaign(database)
    created = await http.post("/api/preinscriptions", json=form(c.id))
    number = created.json()["dossier_number"]

    assert (await http.get("/api/dossier")).status_code == 401
    wrong = await http.post("/api/session", json={"dossier_number": number, "password": "Mauvais-mot-2"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Identifiant ou mot de passe incorrect."


async def test_two_campaigns_whose_ids_share_ten_characters_both_take_pre_registrations(
    http: httpx.AsyncClient, database: Database
) -> None:
    head = f"att{uuid.uuid4().hex[:6]}"  # 9 characters, then "-2027" / "-2028": ten in common
    first = await open_campaign(database, id=f"{head}-2027")
    second = await open_campaign(database, id=f"{head}-2028")
    numbers = []
    for c in (first, second):
        created = await http.post("/api/preinscriptions", json=form(c.id))
        assert created.status_code == 201, created.text
        numbers.append(created.json()["dossier_number"])
    assert numbers[0].startswith(head.upper()) and numbers[1].endswith("2028-00001")
    assert first.number_prefix != second.number_prefix
    async with database.sessions() as session:  # an edit keeps the prefix numbers were issued with
        stored = await get_campaign(session, second.id)
        assert stored is not None
        stored.number_prefix = ""
        await save_campaign(session, stored)
        again = await get_campaign(session, second.id)
        assert again is not None and again.number_prefix == second.number_prefix


async def test_pre_registration_floods_are_refused_in_french_per_address_and_per_email(
    settings: Settings, database: Database
) -> None:
    c = await open_campaign(database)
    limited = create_app(settings.model_copy(update={"preregistrations_per_address": 3}))
    flooder = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    async with limited.router.lifespan_context(limited), from_address(limited, flooder) as http:
        for n in range(3):
            created = await http.post("/api/preinscriptions", json=form(c.id, first_name=f"Flot{n}"))
            assert created.status_code == 201, created.text
        refused = await http.post("/api/preinscriptions", json=form(c.id, first_name="Flotquatre"))
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("Trop de préinscriptions ont été envoyées depuis votre connexion.")
        assert "Merci de réessayer dans" in refused.json()["detail"] and int(refused.headers["retry-after"]) > 0
        page = await http.get(f"/preinscription/{c.id}")
        shown = await http.post(
            f"/preinscription/{c.id}",
            data={**page_form(c.id, first_name="Flotcinq"), "csrf_token": token_in(page)},
        )
        assert shown.status_code == 429 and "Trop de préinscriptions" in text_of(shown)

        # One mailbox, whatever the address sending: three a day, then refused.
        email = f"boite.{uuid.uuid4().hex[:6]}@example.fr"
        for n in range(3):
            async with from_address(limited, f"203.0.113.{n + 1}") as other:
                created = await other.post("/api/preinscriptions", json=form(c.id, first_name=f"Mel{n}", email=email))
                assert created.status_code == 201, created.text
        async with from_address(limited, "203.0.113.9") as other:
            refused = await other.post("/api/preinscriptions", json=form(c.id, first_name="Melquatre", email=email))
        assert refused.status_code == 429
        assert "Trop de préinscriptions ont été envoyées pour cette adresse e-mail" in refused.json()["detail"]
    async with database.sessions() as session:
        accounts = (await session.scalars(select(Account).where(Account.campaign_id == c.id))).all()
    assert len(accounts) == 6  # nothing created for the refused ones


async def test_an_address_with_an_internationalised_domain_is_kept_in_ascii_and_reached(
    http: httpx.AsyncClient, database: Database, mail_sink: MailSink
) -> None:
    """« café.fr » is accepted and kept as its IDNA form, which our SMTP path sends without
    SMTPUTF8: the acknowledgement reaches the mailbox."""
    c = await open_campaign(database)
    number, _ = await register_and_login(http, c.id, email="  Maelle.Le-Goff@Café.fr ")
    async with database.sessions() as session:
        account = await session.get(Account, number)
        assert account is not None and account.email == "maelle.le-goff@xn--caf-dma.fr"
    mail = await mail_with_subject(mail_sink, number, "Votre préinscription")
    assert mail.to == ["Maelle.Le-Goff@xn--caf-dma.fr"]
