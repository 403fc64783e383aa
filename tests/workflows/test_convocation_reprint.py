"""Convocations printed before staff decided on accommodations, on the time-skipping server
with the production worker (real print activity, real SMTP sink).

Two admitted candidates ask for extra time and a separate room; their convocations are printed
45 days before the exam's release. Staff partly grant one of them at once: nothing is printed
again before the release date, and the release shows a convocation printing the decision. The
other is decided after the release: the convocation they have is printed again, once, replaces
the old one in their documents, and they are mailed once, whatever wakes the dossier later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from devtools.mail_sink import MailSink
from domain.accommodations import (
    CERTIFICATE_CATEGORY,
    AccommodationDecision,
    AccommodationKind,
    AccommodationOutcome,
    AccommodationRequest,
)
from domain.calendar import uploads_reopen_at
from domain.candidate import Address
from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocument, CentreDocumentKind, UploadedDocument
from domain.dossier import Dossier
from domain.letters import LetterKind, LetterOrder
from domain.status import Status
from infra.files import FileStore
from infra.settings import Settings
from tests.conftest import eventually
from tests.letters.pdf import pdf_lines
from tests.workflows.conftest import registration
from tests.workflows.steps import (
    PARIS,
    mail_counts,
    mails_settled,
    next_weekday_at,
    record_history,
    refused,
    skip_to,
    status_becomes,
    view,
)
from tests.workflows.test_lifecycle import realistic_campaign
from workflows import names
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

EXTRA_TIME = "Temps de composition majoré (tiers-temps)"
SEPARATE_ROOM = "Salle à part"
UPDATED = "Convocation mise à jour dans votre espace"
NEW_DOCUMENT = "Nouveau document dans votre espace"
PARTLY = AccommodationDecision(
    AccommodationOutcome.PARTLY_GRANTED,
    [AccommodationKind.EXTRA_TIME],
    reason="Une salle à part n'est pas justifiée par le certificat.",
    by="agent.concours",
)


def request(at: datetime) -> AccommodationRequest:
    certificate = UploadedDocument(
        "certificat-1", CERTIFICATE_CATEGORY, "certificat.pdf", 1200, "0" * 64, "application/pdf", at
    )
    return AccommodationRequest(
        [AccommodationKind.EXTRA_TIME, AccommodationKind.SEPARATE_ROOM], certificates=[certificate]
    )


def convocations(dossier: Dossier) -> list[CentreDocument]:
    return [d for d in dossier.documents if d.kind is CentreDocumentKind.CONVOCATION]


def released_convocation(handle: WorkflowHandle, other_than: str) -> Callable[[], Awaitable[Dossier | None]]:
    """The dossier once its released convocation is a version other than `other_than`."""

    async def check() -> Dossier | None:
        dossier = await view(handle)
        shown = [d for d in dossier.released_documents() if d.kind is CentreDocumentKind.CONVOCATION]
        return dossier if shown and shown[0].ref != other_than else None

    return check


async def test_a_convocation_printed_before_the_decision_is_printed_again_once_not_before_its_release(
    time_env: WorkflowEnvironment, time_worker, time_settings: Settings, mail_sink: MailSink
) -> None:
    client = time_env.client
    files = FileStore(time_settings.files_dir)
    t0 = await time_env.get_current_time()
    tuesday = next_weekday_at(t0, 1, time(16, 30))
    c = realistic_campaign(t0, tuesday)
    gateway = WorkflowClient(client, time_settings.task_queue)
    regs = [registration(c, t0), registration(c, t0, last_name="Le Bihan", first_name="Yann")]
    for reg in regs:
        await gateway.start_dossier(reg)
    early, late = (client.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number) for reg in regs)
    (early_number, late_number) = (reg.dossier_number for reg in regs)

    # Validated on a Tuesday with their request; admitted on the next working day.
    await skip_to(time_env, tuesday)
    for handle in (early, late):
        await handle.execute_update(DossierWorkflow.validate, Validate(True))
        await handle.execute_update(DossierWorkflow.request_accommodations, request(tuesday))
    await skip_to(time_env, uploads_reopen_at(tuesday, PARIS, c.public_holidays) + timedelta(minutes=1))
    for handle in (early, late):
        await status_becomes(handle, Status.IN_INSTRUCTION)
        await handle.execute_update(DossierWorkflow.decide, Decision(DecisionKind.COMPLETE, by="agent.concours"))
        await handle.execute_update(DossierWorkflow.decide, Decision(DecisionKind.ADMIT, by="agent.concours"))
        # The convocation, printed now (as a bulk action would), released 15 days before the exam.
        order = LetterOrder(LetterKind.CONVOCATION, by="agent.concours", exam_code="ecrit")
        await handle.execute_update(names.ISSUE_LETTER, order)
    written = c.exam("ecrit")
    assert written is not None
    release = written.starts_at - c.convocation_lead
    [early_first] = convocations(await view(early))
    [late_first] = convocations(await view(late))
    assert early_first.accommodations == [] and early_first.release_at == release

    # Decided before the release: nothing printed again yet.
    await early.execute_update(DossierWorkflow.decide_accommodations, PARTLY)
    dossier = await view(early)
    assert dossier.convocation_reprints == [] and convocations(dossier) == [early_first]
    assert await early.query(DossierWorkflow.pending_letters) == []

    # The release: the early one's convocation is a new version printing the decision (the old
    # one never shown); the late one's is released as printed.
    await skip_to(time_env, release + timedelta(minutes=1))
    dossier = await eventually(released_convocation(early, early_first.ref))
    [old, new] = convocations(dossier)
    assert old.ref == early_first.ref and old.released_at is None and old.replaced_by == new.ref
    assert new.accommodations == [EXTRA_TIME] and new.released_at is not None
    printed = pdf_lines(files.read(new.ref))
    assert EXTRA_TIME in printed and SEPARATE_ROOM not in printed
    late_dossier = await eventually(released_convocation(late, ""))
    assert late_dossier.released_documents()[0].ref == late_first.ref

    # Decided after the release: the convocation the candidate has is printed again at once.
    await late.execute_update(DossierWorkflow.decide_accommodations, PARTLY)
    dossier = await eventually(released_convocation(late, late_first.ref))
    [old, new] = convocations(dossier)
    assert old.ref == late_first.ref and old.replaced_by == new.ref and new.accommodations == [EXTRA_TIME]
    assert [d.ref for d in dossier.released_documents()] == [new.ref]  # the old one is no longer listed
    assert EXTRA_TIME in pdf_lines(files.read(new.ref))
    assert dossier.timeline[-1].code == "convocation_mise_a_jour"

    # Never twice for the same decision: a second decision is refused, later messages and
    # timers print nothing more.
    message = await refused(late.execute_update(DossierWorkflow.decide_accommodations, PARTLY))
    assert "déjà été instruite" in message
    await late.execute_update(DossierWorkflow.change_address, Address("3 place des Lices", "56000", "Vannes"))
    await skip_to(time_env, release + timedelta(days=2))
    await late.execute_update(DossierWorkflow.change_address, Address("5 place des Lices", "56000", "Vannes"))
    for handle in (early, late):
        dossier = await mails_settled(handle)
        assert len(dossier.convocation_reprints) == 1 and len(convocations(dossier)) == 2

    # Mailed once: the early one about the release only, the late one about the update.
    early_mails, late_mails = mail_counts(mail_sink, early_number), mail_counts(mail_sink, late_number)
    assert (early_mails[NEW_DOCUMENT], early_mails[UPDATED]) == (1, 0), early_mails
    assert (late_mails[NEW_DOCUMENT], late_mails[UPDATED]) == (1, 1), late_mails
    update = next(m for m in mail_sink.for_dossier(late_number) if UPDATED in m.subject)
    assert EXTRA_TIME in update.body and "remplace la convocation déposée précédemment" in update.body

    for handle in (early, late):
        await handle.signal(DossierWorkflow.archive)
        await handle.result()
    await record_history(early, "convocation_reprint_at_release")
    await record_history(late, "convocation_reprint")
