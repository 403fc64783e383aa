"""Every staff decision through the back office, on the real stack, with the workflow's refusals
shown as the workflow words them, and the letters that go with decisions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.calendar import to_local
from domain.documents import CentreDocumentKind
from domain.status import Status
from infra.database import Database, StoredFile
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, letters_of, post_form, saved_campaign, view
from tests.conftest import eventually, mail_with_subject
from tests.letters.pdf import pdf_lines
from tests.web.pages import text_of


async def decide(http: httpx.AsyncClient, number: str, kind: str, **fields) -> httpx.Response:
    data = {"kind": kind, "request_id": uuid.uuid4().hex, **fields}
    return await post_form(http, f"/staff/dossiers/{number}", f"/staff/dossiers/{number}/decision", data)


def local_input(instant, tz: str = "Europe/Paris") -> str:
    return to_local(instant, tz).strftime("%Y-%m-%dT%H:%M")


async def test_incomplete_then_complete_then_admit_with_each_refusal(
    staff, database: Database, client: Client, prompt_queue: str, mail_sink: MailSink
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.IN_INSTRUCTION)
    http = await staff(StaffRole.INSTRUCTOR)

    page = await http.get(f"/staff/dossiers/{number}")
    assert page.status_code == 200
    assert "Dossier en cours d'instruction" in text_of(page)
    assert 'value="incomplet"' in page.text and 'value="admis"' not in page.text  # only what the rules allow

    # Incomplete without saying what is missing: the workflow's refusal, as is.
    refused = await decide(http, number, "incomplet", deadline=local_input(c.validation_deadline))
    assert refused.status_code == 409
    assert error_of(refused) == "Indiquez les pièces manquantes."

    # Admission straight from instruction: refused with the status in the message.
    refused = await decide(http, number, "admis")
    assert refused.status_code == 409
    assert error_of(refused) == (
        "Décision « Admis(e) à concourir » impossible : le dossier est au statut « Dossier en cours d'instruction »."
    )

    # The one regularisation request, with its letter deposited and emailed about.
    deadline = c.validation_deadline + timedelta(days=10)
    done = await decide(
        http,
        number,
        "incomplet",
        missing=["diplome", "formulaire"],
        deadline=local_input(deadline),
        reasons="Le diplôme doit être lisible.",
    )
    assert done.status_code == 303, error_of(done)
    dossier = await view(client, number)
    assert dossier.status is Status.INCOMPLETE
    assert dossier.regularisation is not None and dossier.regularisation.missing == ["diplome", "formulaire"]
    assert abs(dossier.regularisation.deadline - deadline) < timedelta(minutes=1)
    # The workflow prints the letter once the decision is recorded, then deposits it.
    [letter] = await eventually(lambda: letters_of(client, number, CentreDocumentKind.REGULARISATION))
    async with database.sessions() as session:
        stored = await session.get(StoredFile, letter.ref)
    assert stored is not None and stored.content_type == "application/pdf"
    pdf = (await http.get(f"/staff/dossiers/{number}/fichiers/{letter.ref}")).content
    assert "Diplôme(s) requis" in pdf_lines(pdf)
    assert "Le diplôme doit être lisible." in pdf_lines(pdf)
    await mail_with_subject(mail_sink, number, "pièces")  # the regularisation request email

    # A second request: one reminder only (the form is gone; a forged post is refused).
    assert 'value="incomplet"' not in (await http.get(f"/staff/dossiers/{number}")).text
    refused = await decide(http, number, "incomplet", missing=["autre"], deadline=local_input(deadline))
    assert refused.status_code == 409
    assert error_of(refused) == (
        "Décision « Dossier incomplet » impossible : le dossier est au statut "
        "« Dossier incomplet : merci de transmettre les pièces demandées »."
    )

    assert (await decide(http, number, "complet")).status_code == 303
    assert (await view(client, number)).status is Status.COMPLETE
    assert (await decide(http, number, "admis")).status_code == 303
    assert (await view(client, number)).status is Status.ADMITTED
    refused = await decide(http, number, "admis")
    assert refused.status_code == 409
    assert "impossible : le dossier est au statut « Vous êtes admis(e) à concourir »" in error_of(refused)
    await mail_with_subject(mail_sink, number, "admis")

    timeline = text_of(await http.get(f"/staff/dossiers/{number}"))
    assert "Dossier complet (Agent Test" in timeline


async def test_rejection_needs_reasons_and_deposits_its_letter(
    staff, database: Database, client: Client, prompt_queue: str, mail_sink: MailSink
) -> None:
    c = await saved_campaign(database)
    rejected, non_conforming = await dossiers(client, prompt_queue, c, 2, Status.IN_INSTRUCTION)
    http = await staff(StaffRole.INSTRUCTOR)

    refused = await decide(http, rejected, "rejete", reasons="  ")
    assert refused.status_code == 409
    assert error_of(refused) == "Un rejet doit indiquer ses motifs."

    done = await decide(http, rejected, "rejete", reasons="Diplôme de niveau insuffisant\nPièce d'identité expirée")
    assert done.status_code == 303
    assert (await view(client, rejected)).status is Status.REJECTED
    [letter] = await eventually(lambda: letters_of(client, rejected, CentreDocumentKind.REJECTION_LETTER))
    assert letter.released_at is not None  # a letter is visible at once
    text = pdf_lines((await http.get(f"/staff/dossiers/{rejected}/fichiers/{letter.ref}")).content)
    assert "Diplôme de niveau insuffisant" in text and "Pièce d'identité expirée" in text
    await mail_with_subject(mail_sink, rejected, "rejet")

    assert (await decide(http, non_conforming, "non_conforme", reasons="Hors délai")).status_code == 303
    assert (await view(client, non_conforming)).status is Status.NON_CONFORMING

    # Nothing applies to a rejected dossier any more.
    refused = await decide(http, rejected, "complet")
    assert refused.status_code == 409
    assert "le dossier est au statut « Dossier rejeté »" in error_of(refused)


async def test_admission_under_reserve_then_admission(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.IN_INSTRUCTION)
    http = await staff(StaffRole.ADMINISTRATOR)
    assert (await decide(http, number, "admis_sous_reserve", reasons="Diplôme étranger à vérifier")).status_code == 303
    dossier = await view(client, number)
    assert dossier.status is Status.ADMITTED_UNDER_RESERVE and dossier.decision_reasons == "Diplôme étranger à vérifier"
    assert (await decide(http, number, "admis")).status_code == 303
    assert (await view(client, number)).status is Status.ADMITTED


async def test_a_double_submission_is_answered_once(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.COMPLETE)
    http = await staff(StaffRole.INSTRUCTOR)
    request_id = uuid.uuid4().hex
    first = await post_form(
        http,
        f"/staff/dossiers/{number}",
        f"/staff/dossiers/{number}/decision",
        {"kind": "admis", "request_id": request_id},
    )
    second = await post_form(
        http,
        f"/staff/dossiers/{number}",
        f"/staff/dossiers/{number}/decision",
        {"kind": "admis", "request_id": request_id},
    )
    assert first.status_code == second.status_code == 303  # the same Update ID: the first outcome
    history = [e async for e in client.get_workflow_handle(number).fetch_history_events()]
    accepted = [e for e in history if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == 1


async def test_decisions_are_for_instructors(staff, database: Database, client: Client, prompt_queue: str) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.COMPLETE)
    operator = await staff(StaffRole.OPERATOR)
    page = await operator.get(f"/staff/dossiers/{number}")
    assert page.status_code == 200 and 'action="/staff/dossiers/' + number + '/decision"' not in page.text
    refused = await decide(operator, number, "admis")
    assert refused.status_code == 403
    assert "Votre rôle ne permet pas d'instruire les dossiers." in text_of(refused)
    assert (await view(client, number)).status is Status.COMPLETE


async def test_a_refused_decision_without_a_token_is_refused_before_reaching_the_dossier(
    staff, database: Database, client: Client, prompt_queue: str
) -> None:
    c = await saved_campaign(database)
    [number] = await dossiers(client, prompt_queue, c, 1, Status.COMPLETE)
    http = await staff(StaffRole.INSTRUCTOR)
    response = await http.post(f"/staff/dossiers/{number}/decision", data={"kind": "admis"})
    assert response.status_code == 403
    assert (await view(client, number)).status is Status.COMPLETE
