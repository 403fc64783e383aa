"""Importing a jury's results file through the back office: bad rows reported with their line,
good rows applied once, with their letters; the same file is never imported twice."""

from __future__ import annotations

import functools

from temporalio.client import Client

from devtools.mail_sink import MailSink
from domain.documents import CentreDocumentKind
from domain.status import Status
from infra.database import Database
from infra.staff_accounts import StaffRole
from tests.backoffice import dossiers, error_of, letters_of, post_form, saved_campaign, view
from tests.conftest import eventually
from tests.letters.pdf import pdf_lines
from tests.web.pages import text_of
from workflows import names
from workflows.batch import BatchProgress


async def finished(client: Client, workflow_id: str) -> BatchProgress:
    handle = client.get_workflow_handle(workflow_id)
    return await eventually(lambda: _done(handle), timeout=60)


async def _done(handle) -> BatchProgress | None:
    progress = await handle.query(names.BATCH_PROGRESS, result_type=BatchProgress)
    return progress if progress.finished else None


async def test_results_file_reports_bad_rows_and_applies_good_ones_once(
    staff, database: Database, client: Client, prompt_queue: str, mail_sink: MailSink
) -> None:
    campaign = await saved_campaign(database)
    a, b, c, d = await dossiers(client, prompt_queue, campaign, 4, Status.ADMITTED)
    [pending] = await dossiers(client, prompt_queue, campaign, 1, Status.COMPLETE, prefix=f"Q{a[1:7]}")
    other_campaign = await saved_campaign(database)
    [stranger] = await dossiers(client, prompt_queue, other_campaign, 1, Status.ADMITTED)
    csv = "\n".join(
        [
            "Dossier;Résultat;Présent;Note de synthèse;Questions à réponse courte",
            f"{a};admissible;oui;14,5;12",
            f"{b};NON ADMISSIBLE;oui;6;ABS",
            f"{c};peut-être;oui;10;10",  # unknown result
            f"{d};admissible;oui;25;10",  # mark out of range
            f"{pending};admissible;oui;12;12",  # not admitted: the dossier refuses
            f"{stranger};admissible;oui;12;12",  # another campaign's dossier
            "NOPE-00001;admissible;oui;12;12",  # no such dossier
            f"{a};non admissible;oui;1;1",  # a second line for the same candidate
            ";admissible;;;",  # no number
        ]
    ).encode("cp1252")  # as a French spreadsheet saves it
    http = await staff(StaffRole.INSTRUCTOR)
    started = await post_form(
        http,
        f"/staff/sessions/{campaign.id}",
        f"/staff/sessions/{campaign.id}/lots",
        {"kind": "resultats"},
        files={"fichier": ("jury.csv", csv, "text/csv")},
    )
    assert started.status_code == 303, error_of(started)
    workflow_id = started.headers["location"].rsplit("/", 1)[-1]
    progress = await finished(client, workflow_id)

    assert progress.total == 9 and progress.processed == 9
    assert progress.applied == 2 and progress.refused == 7
    issues = {i.item: i.message for i in progress.issues}
    assert issues == {
        "ligne 4": f"{c} : résultat « peut-être » inconnu (attendu : admissible, non admissible, admis, non admis).",
        "ligne 5": f"{d} : note 25 hors de l'intervalle 0 à 20 pour « Note de synthèse ».",
        "ligne 6": f"{pending} : Résultat « admissible » impossible : le dossier est au statut « Dossier complet ».",
        "ligne 7": f"{stranger} : ce dossier n'appartient pas à cette session.",
        "ligne 8": "NOPE-00001 : dossier introuvable.",
        "ligne 9": f"{a} : dossier déjà présent ligne 2 : une seule ligne par candidat.",
        "ligne 10": "? : n° de dossier manquant.",
    }

    # The page shows the same report.
    page = text_of(await http.get(f"/staff/lots/{workflow_id}"))
    assert "ligne 6" in page and "impossible : le dossier est au statut « Dossier complet »" in page

    # Good rows: status, result letter (printed by the dossier itself), transcript with the
    # marks, attendance certificate.
    for number in (a, b):
        await eventually(functools.partial(letters_of, client, number, CentreDocumentKind.RESULT_LETTER))
    da, db_ = await view(client, a), await view(client, b)
    assert da.status is Status.ADMISSIBLE and db_.status is Status.NOT_ADMISSIBLE
    kinds = sorted(doc.kind.value for doc in da.documents)
    assert kinds == sorted(
        [
            CentreDocumentKind.RESULT_LETTER.value,
            CentreDocumentKind.TRANSCRIPT.value,
            CentreDocumentKind.ATTENDANCE.value,
        ]
    )
    transcript = next(doc for doc in db_.documents if doc.kind is CentreDocumentKind.TRANSCRIPT)
    text = pdf_lines((await http.get(f"/staff/dossiers/{b}/fichiers/{transcript.ref}")).content)
    assert "Note de synthèse 6 / 20" in text and "Questions à réponse courte Absent(e)" in text
    for number in (c, d, stranger):
        assert (await view(client, number)).status is Status.ADMITTED
    assert (await view(client, pending)).status is Status.COMPLETE

    # The same file again: refused, nothing applied twice.
    again = await post_form(
        http,
        f"/staff/sessions/{campaign.id}",
        f"/staff/sessions/{campaign.id}/lots",
        {"kind": "resultats"},
        files={"fichier": ("jury.csv", csv, "text/csv")},
    )
    assert again.status_code == 409
    assert "Ce fichier de résultats a déjà été importé" in error_of(again)
    result_mails = [m for m in mail_sink.for_dossier(a) if m.subject.startswith("Votre résultat")]
    assert len(result_mails) == 1


async def test_a_file_without_its_columns_is_refused_before_anything_starts(
    staff, database: Database, client: Client
) -> None:
    campaign = await saved_campaign(database)
    http = await staff(StaffRole.INSTRUCTOR)
    refused = await post_form(
        http,
        f"/staff/sessions/{campaign.id}",
        f"/staff/sessions/{campaign.id}/lots",
        {"kind": "resultats"},
        files={"fichier": ("jury.csv", b"nom;note\nX;12\n", "text/csv")},
    )
    assert refused.status_code == 422
    assert error_of(refused).startswith("Fichier de résultats illisible : La première ligne doit nommer les colonnes")
    batches = [
        w async for w in client.list_workflows(f"WorkflowType = 'BatchWorkflow' AND CampaignId = '{campaign.id}'")
    ]
    assert batches == []
