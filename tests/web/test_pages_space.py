"""The secure space: dashboard, calendar, validation, my data, change of address, withdrawal."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.status import Status
from infra.clock import now
from infra.database import Database
from infra.settings import Settings
from tests.conftest import eventually, mail_with_subject
from tests.web.conftest import NewCandidate
from tests.web.pages import open_campaign, submit, text_of, token_in
from workflows.client import WorkflowClient

SWORN = "J'ai lu, j'approuve et je signe l'attestation sur l'honneur présente dans mon dossier d'inscription"


async def test_dashboard_shows_status_next_step_with_time_left_and_timeline(new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()

    page = await candidate.http.get("/espace")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "app;dur=" in page.headers["server-timing"] and "query;dur=" in page.headers["server-timing"]
    text = text_of(page)
    assert "En attente de votre dossier" in text
    assert "Validez votre demande d'inscription avant le" in text
    # The campaign's deadline is 20 days after its creation, seconds before this page.
    assert "(il reste 19 jours et 23 h)" in text
    assert "Diplôme(s) requis (0/3)" in text
    assert "Préinscription enregistrée." in text
    assert 'href="/espace/calendrier.ics"' in page.text


async def test_calendar_file_holds_the_candidates_dates(new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()

    response = await candidate.http.get("/espace/calendrier.ics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert "Date limite de validation de votre demande d'inscription" in summaries
    assert any(s.startswith("Épreuve écrite d'admissibilité") for s in summaries)
    uids = [str(e["uid"]) for e in calendar.walk("VEVENT")]
    assert len(uids) == len(set(uids)) and all(candidate.number in uid for uid in uids)
    # Downloading again gives the same UIDs, so a calendar app updates rather than doubles.
    again = Calendar.from_ical((await candidate.http.get("/espace/calendrier.ics")).content)
    assert sorted(str(e["uid"]) for e in again.walk("VEVENT")) == sorted(uids)


async def test_validation_without_the_box_shows_the_workflows_refusal(new_candidate: NewCandidate) -> None:
    candidate = await new_candidate()

    page = await candidate.http.get("/espace/validation")
    assert SWORN in text_of(page)
    assert 'class="button button-validate"' in page.text
    assert "Valider ma demande d'inscription" in text_of(page)

    refused = await submit(candidate.http, "/espace/validation", {})

    assert refused.status_code == 409
    assert (
        "Vous devez cocher la case « J'ai lu, j'approuve et je signe l'attestation sur l'honneur "
        "présente dans mon dossier d'inscription »." in text_of(refused)
    )
    assert "En attente de votre dossier" in text_of(await candidate.http.get("/espace"))


async def test_validation_moves_the_dossier_to_transfer_at_once(
    new_candidate: NewCandidate, mail_sink: MailSink
) -> None:
    candidate = await new_candidate()

    response = await submit(candidate.http, "/espace/validation", {"sworn_statement": "oui"})

    assert response.status_code == 303
    dashboard = await candidate.http.get(response.headers["location"])
    text = text_of(dashboard)
    assert "Votre demande d'inscription est validée." in text
    assert "En cours de transfert" in text
    assert "Mention qui apparaît une fois que vous avez validé votre inscription." in text
    # Uploads reopen on the next working day at 8:30; the dashboard says from when.
    assert "Vous pourrez déposer vos pièces à partir du" in text
    assert "à 8h30" in text
    again = await candidate.http.get("/espace/validation")
    assert "Votre demande d'inscription est validée depuis le" in text_of(again)
    await mail_with_subject(mail_sink, candidate.number, "validée")


async def test_validation_received_after_the_deadline_is_refused_before_the_dossier_closes(
    new_candidate: NewCandidate, database: Database, client: Client, settings: Settings
) -> None:
    c = await open_campaign(
        database, deadline_in=timedelta(seconds=3), reminders=[], receipt_delay=timedelta(minutes=5)
    )
    candidate = await new_candidate(c.id)
    form_page = await candidate.http.get("/espace/validation")  # shown while still open
    assert 'class="button button-validate"' in form_page.text
    # The form is sent once the deadline has passed: its receipt instant decides, even though
    # the dossier is not closed yet (it waits for on-time clicks still on their way).
    await eventually(lambda: now() > c.validation_deadline, timeout=20)

    response = await candidate.http.post(
        "/espace/validation", data={"sworn_statement": "oui", "csrf_token": token_in(form_page)}
    )

    assert response.status_code == 409
    assert "La date limite de validation (" in text_of(response)
    assert "est dépassée : votre demande d'inscription ne peut plus être validée." in text_of(response)
    dossier = await WorkflowClient(client, settings.task_queue).view(candidate.number)
    assert dossier.status is Status.AWAITING_DOSSIER and dossier.validated_at is None


async def test_my_data_is_read_only_with_the_guides_note(new_candidate: NewCandidate) -> None:
    candidate = await new_candidate(first_name="Maëlle", last_name="Le Goff", phone="02 97 00 00 00")

    page = await candidate.http.get("/espace/mes-donnees")

    text = text_of(page)
    assert "Aucune modification de la voie de concours, du choix de la spécialité/option ou des épreuves" in text
    assert "Concours externe" in text and "Maëlle" in text and "12 rue du Port" in text
    assert "<input" not in page.text.split("<main")[1].split("</main>")[0]  # nothing editable here


async def test_change_of_address_is_recorded_and_refusals_are_shown(
    new_candidate: NewCandidate, mail_sink: MailSink
) -> None:
    candidate = await new_candidate()

    missing = await submit(
        candidate.http, "/espace/adresse", {"line1": "", "postal_code": "35000", "city": "Rennes", "country": "France"}
    )
    assert missing.status_code == 409
    assert "L'adresse, le code postal et la ville sont obligatoires." in text_of(missing)
    assert 'value="Rennes"' in missing.text

    moved = await submit(
        candidate.http,
        "/espace/adresse",
        {"line1": "3 place du Parlement", "line2": "", "postal_code": "35000", "city": "Rennes", "country": ""},
    )
    assert moved.status_code == 303
    data = text_of(await candidate.http.get(moved.headers["location"]))
    assert "Votre changement d'adresse est enregistré." in data
    assert "3 place du Parlement" in data and "35000 Rennes" in data
    await mail_with_subject(mail_sink, candidate.number, "adresse")


async def test_withdrawal_needs_the_confirmation_step(
    new_candidate: NewCandidate, client: Client, settings: Settings
) -> None:
    candidate = await new_candidate()

    first = await candidate.http.get("/espace/desistement")
    assert "Vous pouvez à tout moment choisir d'annuler votre inscription" in text_of(first)
    assert 'action="/espace/desistement"' not in first.text  # the first page only leads on

    # A POST that did not come from the confirmation page withdraws nothing.
    skipped = await submit(candidate.http, "/espace/desistement", {}, page="/espace/desistement/confirmation")
    assert skipped.status_code == 303
    assert skipped.headers["location"] == "/espace/desistement/confirmation"
    view = await WorkflowClient(client, settings.task_queue).view(candidate.number)
    assert view.status.label == "En attente de votre dossier"

    confirmed = await submit(
        candidate.http, "/espace/desistement", {"confirmation": "oui"}, page="/espace/desistement/confirmation"
    )
    assert confirmed.status_code == 303
    text = text_of(await candidate.http.get(confirmed.headers["location"]))
    assert "Votre désistement est enregistré" in text
    assert "Inscription annulée à votre demande" in text

    # Closed: a second withdrawal is the workflow's refusal, shown as is.
    again = await submit(candidate.http, "/espace/desistement", {"confirmation": "oui"}, page="/espace/mes-donnees")
    assert again.status_code == 409
    assert "Ce dossier est clos (Inscription annulée à votre demande)." in text_of(again)
