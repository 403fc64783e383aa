"""The rules of one dossier, driven with fixed instants (no clock, no Temporal).

The scenario: a campaign whose validation deadline is Thursday 29 October 2026 at 17:00 Paris
time, uploads open 5 days longer (Tuesday 3 November 17:00), a written exam on 10 December 2026
and an oral on 15 February 2027. Instants are handed over in UTC, as `workflow.now()` gives them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.campaign import ExamDate, ExamKind
from domain.candidate import Address, Candidate, Registration
from domain.decisions import Decision, DecisionKind
from domain.documents import CentreDocument, CentreDocumentKind, UploadedDocument
from domain.dossier import AFTER_DEADLINE, Dossier, Refusal
from domain.exams import ExamResult
from domain.mail import MailTemplate
from domain.space import Action
from domain.status import Status
from tests.factories import campaign

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Paris wall-clock instant, in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


SECOND = timedelta(seconds=1)
REGISTERED = paris(2026, 10, 5, 10, 0)  # Monday
DEADLINE = paris(2026, 10, 29, 17, 0)  # Thursday
GRACE = timedelta(days=5)
GRACE_END = paris(2026, 11, 3, 17, 0)  # Tuesday
VALIDATED = paris(2026, 10, 27, 16, 30)  # the seed's example 1...
REOPEN = paris(2026, 10, 28, 8, 30)  # ...and its reopening
DECIDED = paris(2026, 11, 5, 10, 0)  # staff decide after the upload period
REG_DEADLINE = paris(2026, 11, 19, 17, 0)  # the regularisation's deadline
WRITTEN_AT = paris(2026, 12, 10, 9, 0)
ORAL_AT = paris(2027, 2, 15, 9, 0)
WRITTEN_RESULTS = paris(2027, 1, 15, 10, 0)
NUMBER = "56-2026-00042"
EMAIL = "maelle.legoff@example.fr"

VALIDATION_DEADLINE_LABEL = "Date limite de validation de votre demande d'inscription"
UPLOAD_END_LABEL = "Fin du dépôt des pièces justificatives"
UPLOAD_OPENING_LABEL = "Ouverture du dépôt des pièces justificatives"


# ----------------------------------------------------------------- builders
def address(line1: str = "12 rue du Port", postal_code: str = "56000", city: str = "Vannes") -> Address:
    return Address(line1=line1, postal_code=postal_code, city=city)


def registration(
    *,
    number: str = NUMBER,
    email: str = EMAIL,
    route: str = "externe",
    replaces: str | None = None,
    registered_at: datetime = REGISTERED,
    deadline: datetime = DEADLINE,
    **campaign_overrides,
) -> Registration:
    camp = campaign(
        now=REGISTERED,
        deadline_in=deadline - REGISTERED,
        grace=GRACE,
        grade="Rédacteur territorial",
        exams=[
            ExamDate(
                "ecrit", "Épreuve écrite d'admissibilité", ExamKind.WRITTEN, WRITTEN_AT, "Parc des expositions, Vannes"
            ),
            ExamDate("oral", "Épreuve orale d'admission", ExamKind.ORAL, ORAL_AT, "CDG 56, Vannes"),
        ],
        **campaign_overrides,
    )
    candidate = Candidate(
        civility="Madame",
        last_name="Le Goff",
        first_name="Maëlle",
        birth_date=date(1994, 5, 17),
        email=email,
        address=address(),
    )
    return Registration(
        dossier_number=number,
        campaign=camp,
        route=route,
        speciality=None,
        candidate=candidate,
        registered_at=registered_at,
        replaces=replaces,
    )


def preregistered(at: datetime = REGISTERED, **kwargs) -> Dossier:
    return Dossier.open(registration(registered_at=at, **kwargs), at)


def validated(at: datetime = VALIDATED, **kwargs) -> Dossier:
    dossier = preregistered(**kwargs)
    dossier.validate(True, at)
    return dossier


def in_instruction(**kwargs) -> Dossier:
    dossier = validated(**kwargs)
    dossier.run_due(REOPEN)
    assert dossier.status is Status.IN_INSTRUCTION
    return dossier


def decided(kind: DecisionKind, dossier: Dossier | None = None, at: datetime = DECIDED, **fields) -> Dossier:
    dossier = dossier or in_instruction()
    dossier.run_due(at)  # as the workflow does: whatever fell due before the decision is done
    dossier.decide(Decision(kind, by="agent.concours", **fields), at)
    return dossier


def incomplete(missing: list[str] | None = None, deadline: datetime = REG_DEADLINE) -> Dossier:
    return decided(DecisionKind.INCOMPLETE, missing=missing or ["diplome"], deadline=deadline)


def complete() -> Dossier:
    return decided(DecisionKind.COMPLETE)


def admitted(kind: DecisionKind = DecisionKind.ADMIT) -> Dossier:
    if kind is DecisionKind.ADMIT_UNDER_RESERVE:
        return decided(kind, in_instruction(), reasons="Diplôme à vérifier")
    return decided(kind, complete(), at=DECIDED + timedelta(days=1))


def admissible() -> Dossier:
    dossier = admitted()
    dossier.record_result(ExamResult.ADMISSIBLE, WRITTEN_RESULTS)
    return dossier


def rejected() -> Dossier:
    return decided(DecisionKind.REJECT, reasons="Diplôme de niveau insuffisant")


def cancelled() -> Dossier:
    dossier = preregistered()
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.CANCELLED
    return dossier


def withdrawn() -> Dossier:
    dossier = in_instruction()
    dossier.withdraw(DECIDED)
    return dossier


_refs = itertools.count(1)


def upload(category: str = "diplome", at: datetime = REGISTERED, ref: str | None = None) -> UploadedDocument:
    n = next(_refs)
    return UploadedDocument(
        ref=ref or f"upload-{n}",
        category=category,
        filename=f"piece-{n}.pdf",
        size=120_000,
        sha256=f"{n:064x}",
        content_type="application/pdf",
        uploaded_at=at,
    )


def centre_document(
    kind: CentreDocumentKind, exam_code: str | None = None, title: str | None = None, ref: str | None = None
) -> CentreDocument:
    placeholder = datetime(2000, 1, 1, tzinfo=UTC)  # the dossier sets both instants
    return CentreDocument(
        ref=ref or f"doc-{next(_refs)}",
        kind=kind,
        title=title or kind.label,
        exam_code=exam_code,
        deposited_at=placeholder,
        release_at=placeholder,
    )


def templates(dossier: Dossier) -> list[MailTemplate]:
    return [mail.template for mail in dossier.outbox]


def refused(action, *args) -> str:
    with pytest.raises(Refusal) as caught:
        action(*args)
    return caught.value.message


# ----------------------------------------------------------------- pre-registration
def test_a_new_preregistration_awaits_the_dossier_and_mails_the_dossier_number():
    dossier = preregistered()
    assert dossier.status is Status.AWAITING_DOSSIER
    assert dossier.status.label == "En attente de votre dossier"
    assert dossier.validation_deadline == DEADLINE
    [mail] = dossier.outbox
    assert mail.template is MailTemplate.PREREGISTERED
    assert mail.to == EMAIL
    assert mail.key == f"{NUMBER}/1"
    assert mail.context["dossier_number"] == NUMBER
    assert mail.context["deadline"] == "jeudi 29 octobre 2026 à 17h00"


def test_the_preregistration_mail_says_which_earlier_dossier_it_replaces():
    dossier = preregistered(replaces="56-2026-00007")
    assert dossier.outbox[0].context["replaces"] == "56-2026-00007"


def test_mails_name_the_candidate_the_grade_and_the_route():
    context = preregistered().outbox[0].context
    assert context["civility"] == "Madame"
    assert context["full_name"] == "Maëlle LE GOFF"
    assert context["grade"] == "Rédacteur territorial"
    assert context["organiser"] == "CDG 56"
    assert context["route"] == "Concours externe"
    assert context["status"] == "En attente de votre dossier"


# ----------------------------------------------------------------- validation
def test_validation_without_the_sworn_statement_is_refused():
    dossier = preregistered()
    message = refused(dossier.validate, False, VALIDATED)
    assert (
        "« J'ai lu, j'approuve et je signe l'attestation sur l'honneur présente dans mon "
        "dossier d'inscription »" in message
    )
    assert dossier.status is Status.AWAITING_DOSSIER
    assert dossier.validated_at is None
    assert templates(dossier) == [MailTemplate.PREREGISTERED]


def test_validation_with_the_sworn_statement_puts_the_dossier_en_cours_de_transfert():
    dossier = validated()
    assert dossier.status is Status.TRANSFERRING
    assert dossier.status.label == "En cours de transfert"
    assert dossier.validated_at == VALIDATED
    assert dossier.uploads_reopen_at == REOPEN
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.VALIDATED
    assert mail.context["uploads_reopen"] == "mercredi 28 octobre 2026 à 8h30"
    assert mail.context["status"] == "En cours de transfert"


def test_validation_does_not_need_any_document_uploaded_first():
    dossier = preregistered()
    assert dossier.uploads == []
    dossier.validate(True, VALIDATED)
    assert dossier.status is Status.TRANSFERRING


def test_validation_on_a_friday_reopens_uploads_on_monday_at_8h30():
    dossier = preregistered(deadline=paris(2026, 11, 13, 17, 0))
    dossier.validate(True, paris(2026, 11, 6, 9, 0))
    assert dossier.uploads_reopen_at == paris(2026, 11, 9, 8, 30)


def test_validation_at_exactly_the_deadline_counts():
    dossier = preregistered()
    dossier.validate(True, DEADLINE)
    assert dossier.status is Status.TRANSFERRING
    assert dossier.uploads_reopen_at == paris(2026, 10, 30, 8, 30)
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.TRANSFERRING  # not cancelled


def test_validation_one_second_after_the_deadline_is_refused():
    dossier = preregistered()
    message = refused(dossier.validate, True, DEADLINE + SECOND)
    assert message == (
        "La date limite de validation (jeudi 29 octobre 2026 à 17h00) est dépassée : "
        "votre demande d'inscription ne peut plus être validée."
    )
    assert dossier.status is Status.AWAITING_DOSSIER
    assert dossier.validated_at is None


def test_a_second_validation_is_refused():
    dossier = validated()
    assert refused(dossier.validate, True, VALIDATED + SECOND) == "Votre demande d'inscription est déjà validée."
    assert dossier.validated_at == VALIDATED
    assert templates(dossier).count(MailTemplate.VALIDATED) == 1


def test_a_second_validation_is_refused_even_once_in_instruction():
    dossier = complete()
    assert refused(dossier.validate, True, DECIDED) == "Votre demande d'inscription est déjà validée."


def test_a_cancelled_preregistration_cannot_be_validated():
    dossier = cancelled()
    message = refused(dossier.validate, True, DEADLINE + SECOND)
    assert message == (
        "Ce dossier ne peut plus être validé (Préinscription annulée : inscription non validée dans les délais)."
    )


def test_a_withdrawn_preregistration_cannot_be_validated():
    dossier = preregistered()
    dossier.withdraw(VALIDATED)
    assert "ne peut plus être validé" in refused(dossier.validate, True, VALIDATED + SECOND)


# ----------------------------------------------------------------- upload windows
def test_uploads_are_open_before_validation_until_the_deadline():
    dossier = preregistered()
    window = dossier.uploads_window(REGISTERED)
    assert window.open and window.until == DEADLINE
    dossier.record_upload(upload(at=REGISTERED + SECOND), REGISTERED + SECOND)
    assert dossier.category_counts()["diplome"] == 1


def test_before_validation_uploads_close_at_the_deadline_even_before_the_cancellation_runs():
    dossier = preregistered()
    late = DEADLINE + SECOND
    assert not dossier.uploads_window(late).open
    assert Action.UPLOAD not in dossier.allowed_actions(late)
    with pytest.raises(Refusal):
        dossier.record_upload(upload(at=late), late)


def test_right_after_validation_uploads_are_closed_until_8h30_the_next_working_day():
    dossier = validated()
    window = dossier.uploads_window(VALIDATED + SECOND)
    assert not window.open
    assert window.opens_at == REOPEN
    assert window.reason == "Les pièces pourront être déposées à partir du mercredi 28 octobre 2026 à 8h30."
    assert refused(dossier.record_upload, upload(at=REOPEN - SECOND), REOPEN - SECOND) == window.reason
    assert dossier.uploads == []


def test_uploads_reopen_at_8h30_the_next_working_day_until_the_end_of_the_grace_period():
    dossier = validated()
    window = dossier.uploads_window(REOPEN)
    assert window.open and window.until == GRACE_END
    dossier.record_upload(upload(at=REOPEN), REOPEN)
    assert len(dossier.uploads) == 1


def test_uploads_are_still_open_at_the_last_instant_of_the_grace_period():
    dossier = in_instruction()
    dossier.record_upload(upload(at=GRACE_END), GRACE_END)
    assert dossier.category_counts()["diplome"] == 1


def test_uploads_close_one_second_after_the_grace_period():
    dossier = in_instruction()
    window = dossier.uploads_window(GRACE_END + SECOND)
    assert not window.open
    assert window.reason == "La période de dépôt des pièces est close depuis le mardi 3 novembre 2026 à 17h00."
    assert refused(dossier.record_upload, upload(at=GRACE_END + SECOND), GRACE_END + SECOND) == window.reason


def test_uploads_reopen_during_the_regularisation_until_its_deadline():
    dossier = in_instruction()
    assert not dossier.uploads_window(DECIDED).open  # the upload period is over
    decided(DecisionKind.INCOMPLETE, dossier, missing=["diplome"], deadline=REG_DEADLINE)
    window = dossier.uploads_window(DECIDED)
    assert window.open and window.until == REG_DEADLINE
    dossier.record_upload(upload(at=REG_DEADLINE), REG_DEADLINE)
    assert not dossier.uploads_window(REG_DEADLINE + SECOND).open
    with pytest.raises(Refusal):
        dossier.record_upload(upload(at=REG_DEADLINE + SECOND), REG_DEADLINE + SECOND)


def test_uploads_close_again_once_the_regularised_dossier_is_complete():
    dossier = incomplete()
    dossier.decide(Decision(DecisionKind.COMPLETE, by="agent"), DECIDED + timedelta(days=2))
    assert not dossier.uploads_window(DECIDED + timedelta(days=2)).open


def test_a_closed_dossier_takes_no_more_uploads():
    dossier = withdrawn()
    window = dossier.uploads_window(DECIDED)
    assert not window.open
    assert window.reason == "Ce dossier ne reçoit plus de pièces."
    assert refused(dossier.record_upload, upload(at=DECIDED), DECIDED) == window.reason


def test_up_to_three_diplomas_and_a_fourth_is_refused():
    dossier = preregistered()
    for _ in range(3):
        dossier.record_upload(upload("diplome"), REGISTERED)
    assert refused(dossier.record_upload, upload("diplome"), REGISTERED) == (
        "« Diplôme(s) requis » : le nombre maximal de fichiers (3) est atteint."
    )
    assert dossier.category_counts()["diplome"] == 3


def test_a_second_file_in_a_single_file_category_is_refused():
    dossier = preregistered()
    dossier.record_upload(upload("derogation"), REGISTERED)
    message = refused(dossier.record_upload, upload("derogation"), REGISTERED)
    assert "le nombre maximal de fichiers (1) est atteint" in message
    # Other categories are unaffected.
    dossier.record_upload(upload("equivalence"), REGISTERED)


def test_an_unknown_category_is_refused():
    dossier = preregistered()
    assert refused(dossier.record_upload, upload("photo"), REGISTERED) == (
        "Cette catégorie de pièce n'est pas demandée pour ce dossier : photo."
    )
    assert dossier.uploads == []


def test_a_category_of_another_route_is_refused():
    dossier = preregistered()  # concours externe; "etats" belongs to the concours interne
    with pytest.raises(Refusal, match="n'est pas demandée"):
        dossier.record_upload(upload("etats"), REGISTERED)


def test_the_same_file_cannot_be_recorded_twice():
    dossier = preregistered()
    dossier.record_upload(upload(ref="same"), REGISTERED)
    assert refused(dossier.record_upload, upload(ref="same"), REGISTERED) == (
        "Ce fichier est déjà enregistré dans votre dossier."
    )
    assert len(dossier.uploads) == 1


def test_category_counts_list_every_category_of_the_route_with_its_count():
    dossier = preregistered()
    dossier.record_upload(upload("diplome"), REGISTERED)
    dossier.record_upload(upload("diplome"), REGISTERED)
    dossier.record_upload(upload("formulaire"), REGISTERED)
    assert dossier.category_counts() == {
        "diplome": 2,
        "derogation": 0,
        "equivalence": 0,
        "autre": 0,
        "formulaire": 1,
    }


def test_an_upload_is_written_in_the_timeline():
    dossier = preregistered()
    document = upload("diplome")
    dossier.record_upload(document, REGISTERED)
    assert dossier.timeline[-1].text == f"Pièce déposée : {document.filename} (Diplôme(s) requis)."


# ----------------------------------------------------------------- withdrawal
@pytest.mark.parametrize(
    "build",
    [preregistered, validated, in_instruction, incomplete, complete, admitted, admissible],
    ids=lambda b: b.__name__,
)
def test_a_candidate_may_withdraw_at_any_time_until_the_dossier_is_closed(build):
    dossier = build()
    dossier.withdraw(ORAL_AT - timedelta(days=1))
    assert dossier.status is Status.WITHDRAWN
    assert dossier.status.label == "Inscription annulée à votre demande"
    assert dossier.outbox[-1].template is MailTemplate.WITHDRAWN


@pytest.mark.parametrize("build", [cancelled, withdrawn, rejected], ids=lambda b: b.__name__)
def test_withdrawing_a_closed_dossier_is_refused(build):
    dossier = build()
    status, mails = dossier.status, len(dossier.outbox)
    assert refused(dossier.withdraw, DECIDED) == f"Ce dossier est clos ({status.label})."
    assert dossier.status is status
    assert len(dossier.outbox) == mails


def test_withdrawing_after_a_final_result_is_refused():
    dossier = admissible()
    dossier.record_result(ExamResult.PASSED, ORAL_AT + timedelta(days=10))
    with pytest.raises(Refusal, match="Ce dossier est clos"):
        dossier.withdraw(ORAL_AT + timedelta(days=11))


# ----------------------------------------------------------------- change of address
def test_an_address_change_is_recorded_and_confirmed_by_mail():
    dossier = complete()
    new = address("3 place de la Mairie", "29000", "Quimper")
    dossier.change_address(new, DECIDED)
    assert dossier.registration.candidate.address == new
    assert dossier.outbox[-1].template is MailTemplate.ADDRESS_CHANGED
    assert dossier.timeline[-1].text == "Changement d'adresse enregistré."


@pytest.mark.parametrize(
    "incomplete_address",
    [address(line1=" "), address(postal_code=""), address(city="")],
    ids=["no street", "no postal code", "no city"],
)
def test_an_address_needs_a_street_a_postal_code_and_a_city(incomplete_address):
    dossier = preregistered()
    mails = len(dossier.outbox)
    assert refused(dossier.change_address, incomplete_address, REGISTERED) == (
        "L'adresse, le code postal et la ville sont obligatoires."
    )
    assert dossier.registration.candidate.address == address()
    assert len(dossier.outbox) == mails


def test_an_address_change_is_still_accepted_after_a_rejection():
    dossier = rejected()
    dossier.change_address(address("3 place de la Mairie", "29000", "Quimper"), DECIDED)
    assert dossier.registration.candidate.address.city == "Quimper"


@pytest.mark.parametrize("build", [cancelled, withdrawn], ids=lambda b: b.__name__)
def test_an_address_change_is_refused_once_the_registration_is_abandoned(build):
    dossier = build()
    with pytest.raises(Refusal, match="Ce dossier est clos"):
        dossier.change_address(address("3 place de la Mairie", "29000", "Quimper"), DECIDED)
    assert dossier.registration.candidate.address.city == "Vannes"


# ----------------------------------------------------------------- replacement
def test_a_new_preregistration_for_the_same_grade_replaces_this_one_and_says_so():
    dossier = validated()
    dossier.replace_by("56-2026-00099", VALIDATED + timedelta(hours=1))
    assert dossier.status is Status.REPLACED
    assert dossier.replaced_by == "56-2026-00099"
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.REPLACED
    assert mail.context["new_dossier"] == "56-2026-00099"
    assert Action.WITHDRAW not in dossier.allowed_actions(VALIDATED + timedelta(hours=1))


def test_its_owner_confirms_the_replacement_of_a_preregistration_not_yet_validated():
    dossier = preregistered()
    at = REGISTERED + timedelta(hours=1)
    dossier.confirm_replacement("56-2026-00099", at)
    assert dossier.status is Status.REPLACED and dossier.replaced_by == "56-2026-00099"
    assert dossier.outbox[-1].template is MailTemplate.REPLACED
    mails = len(dossier.outbox)
    dossier.confirm_replacement("56-2026-00099", at)  # a second click changes nothing
    assert len(dossier.outbox) == mails
    with pytest.raises(Refusal, match="clos"):
        dossier.check_confirm_replacement("56-2026-00100", at)


@pytest.mark.parametrize(
    "make",
    [validated, in_instruction, complete, admitted, lambda: incomplete()],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_a_validated_dossier_is_never_closed_by_a_replacement(make: Callable[[], Dossier]) -> None:
    dossier = make()
    status = dossier.status
    with pytest.raises(Refusal, match=r"déjà validé.*Me désister"):
        dossier.confirm_replacement("56-2026-00099", DECIDED + timedelta(days=1))
    assert dossier.status is status and dossier.replaced_by is None


def test_a_closed_dossier_cannot_be_replaced_either():
    for dossier in (cancelled(), rejected()):
        with pytest.raises(Refusal, match="clos"):
            dossier.check_confirm_replacement("56-2026-00099", DEADLINE + timedelta(days=1))


def test_replacing_a_closed_dossier_changes_nothing():
    dossier = cancelled()
    mails = len(dossier.outbox)
    dossier.replace_by("56-2026-00099", DEADLINE + timedelta(days=1))
    assert dossier.status is Status.CANCELLED
    assert dossier.replaced_by is None
    assert len(dossier.outbox) == mails


def test_a_replaced_preregistration_cannot_be_validated_nor_reminded_nor_cancelled():
    dossier = preregistered()
    dossier.replace_by("56-2026-00099", REGISTERED + timedelta(hours=1))
    with pytest.raises(Refusal):
        dossier.validate(True, REGISTERED + timedelta(hours=2))
    mails = len(dossier.outbox)
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.REPLACED
    assert len(dossier.outbox) == mails


# ----------------------------------------------------------------- instruction
def test_instruction_starts_at_8h30_the_next_working_day_with_an_acknowledgement_mail():
    dossier = validated()
    assert dossier.next_due() == REOPEN
    dossier.run_due(REOPEN - SECOND)
    assert dossier.status is Status.TRANSFERRING
    dossier.run_due(REOPEN)
    assert dossier.status is Status.IN_INSTRUCTION
    assert dossier.status.label == "Dossier en cours d'instruction"
    assert dossier.instruction_started_at == REOPEN
    assert dossier.outbox[-1].template is MailTemplate.ACKNOWLEDGEMENT
    assert dossier.outbox[-1].context["status"] == "Dossier en cours d'instruction"


def test_the_acknowledgement_is_sent_once():
    dossier = in_instruction()
    dossier.run_due(REOPEN + timedelta(hours=1))
    assert templates(dossier).count(MailTemplate.ACKNOWLEDGEMENT) == 1


def test_no_decision_before_instruction_starts():
    dossier = validated()
    assert refused(dossier.decide, Decision(DecisionKind.COMPLETE, by="agent"), VALIDATED) == (
        "Décision « Dossier complet » impossible : le dossier est au statut « En cours de transfert »."
    )
    assert dossier.status is Status.TRANSFERRING


def test_staff_may_declare_a_dossier_complete():
    dossier = complete()
    assert dossier.status is Status.COMPLETE
    assert dossier.status.label == "Dossier complet"
    assert dossier.timeline[-1].text == "Dossier complet (agent.concours)."


def test_a_request_for_missing_documents_makes_the_dossier_incomplete_and_mails_the_list():
    dossier = incomplete(["diplome", "formulaire"])
    assert dossier.status is Status.INCOMPLETE
    assert dossier.status.label == "Dossier incomplet : merci de transmettre les pièces demandées"
    assert dossier.regularisation is not None
    assert dossier.regularisation.missing == ["diplome", "formulaire"]
    assert dossier.regularisation.deadline == REG_DEADLINE
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.REGULARISATION
    assert mail.context["missing"] == "Diplôme(s) requis, Formulaire d'inscription daté et signé"
    assert mail.context["deadline"] == "jeudi 19 novembre 2026 à 17h00"


def test_a_regularised_dossier_can_then_be_declared_complete():
    dossier = incomplete()
    dossier.record_upload(upload(at=DECIDED + SECOND), DECIDED + SECOND)
    decided(DecisionKind.COMPLETE, dossier, at=DECIDED + timedelta(days=1))
    assert dossier.status is Status.COMPLETE


def test_a_request_for_missing_documents_must_list_them():
    dossier = in_instruction()
    decision = Decision(DecisionKind.INCOMPLETE, by="agent", missing=[], deadline=REG_DEADLINE)
    assert refused(dossier.decide, decision, DECIDED) == "Indiquez les pièces manquantes."
    assert dossier.status is Status.IN_INSTRUCTION
    assert dossier.regularisation is None


def test_a_request_for_missing_documents_must_name_categories_of_the_route():
    dossier = in_instruction()
    decision = Decision(DecisionKind.INCOMPLETE, by="agent", missing=["diplome", "photo"], deadline=REG_DEADLINE)
    assert refused(dossier.decide, decision, DECIDED) == "Pièces inconnues pour cette voie : photo."


@pytest.mark.parametrize("deadline", [None, DECIDED, DECIDED - SECOND], ids=["none", "now", "past"])
def test_a_request_for_missing_documents_needs_a_deadline_in_the_future(deadline):
    dossier = in_instruction()
    decision = Decision(DecisionKind.INCOMPLETE, by="agent", missing=["diplome"], deadline=deadline)
    assert refused(dossier.decide, decision, DECIDED) == (
        "La date limite de la demande de pièces doit être dans le futur."
    )
    assert dossier.status is Status.IN_INSTRUCTION


def test_only_one_request_for_missing_documents_is_possible():
    dossier = incomplete(["diplome"])
    mails = len(dossier.outbox)
    again = Decision(DecisionKind.INCOMPLETE, by="agent", missing=["autre"], deadline=REG_DEADLINE + timedelta(days=7))
    with pytest.raises(Refusal):
        dossier.decide(again, DECIDED + timedelta(days=1))
    assert dossier.regularisation is not None
    assert dossier.regularisation.missing == ["diplome"]
    assert dossier.regularisation.deadline == REG_DEADLINE
    assert len(dossier.outbox) == mails


@pytest.mark.parametrize("kind", [DecisionKind.REJECT, DecisionKind.NON_CONFORMING])
@pytest.mark.parametrize("reasons", ["", "   "], ids=["empty", "blank"])
def test_a_rejection_must_give_its_reasons(kind, reasons):
    dossier = in_instruction()
    assert refused(dossier.decide, Decision(kind, by="agent", reasons=reasons), DECIDED) == (
        "Un rejet doit indiquer ses motifs."
    )
    assert dossier.status is Status.IN_INSTRUCTION


@pytest.mark.parametrize(
    ("kind", "status", "label"),
    [
        (DecisionKind.REJECT, Status.REJECTED, "Dossier rejeté"),
        (DecisionKind.NON_CONFORMING, Status.NON_CONFORMING, "Dossier non conforme"),
    ],
)
def test_a_rejection_closes_the_dossier_and_mails_its_reasons(kind, status, label):
    dossier = decided(kind, reasons="Diplôme de niveau insuffisant")
    assert dossier.status is status
    assert dossier.status.is_closed
    assert dossier.decision_reasons == "Diplôme de niveau insuffisant"
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.REJECTED
    assert mail.context["status"] == label
    assert mail.context["reasons"] == "Diplôme de niveau insuffisant"


def test_admission_to_sit_the_exam_is_mailed():
    dossier = admitted()
    assert dossier.status is Status.ADMITTED
    assert dossier.status.label == "Vous êtes admis(e) à concourir"
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.ADMITTED
    assert mail.context["status"] == "Vous êtes admis(e) à concourir"


def test_admission_under_reserve_is_mailed_with_its_reserve():
    dossier = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    assert dossier.status is Status.ADMITTED_UNDER_RESERVE
    assert dossier.status.label == "Vous êtes admis(e) à concourir sous réserve"
    assert dossier.outbox[-1].template is MailTemplate.ADMITTED
    assert dossier.outbox[-1].context["reasons"] == "Diplôme à vérifier"


def test_a_reserve_can_end_in_a_full_admission_or_a_rejection():
    lifted = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    decided(DecisionKind.ADMIT, lifted, at=DECIDED + timedelta(days=3))
    assert lifted.status is Status.ADMITTED
    confirmed = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    decided(DecisionKind.REJECT, confirmed, at=DECIDED + timedelta(days=3), reasons="Diplôme non reconnu")
    assert confirmed.status is Status.REJECTED


_STATUS_BUILDERS: dict[Status, Callable[[], Dossier]] = {
    Status.AWAITING_DOSSIER: preregistered,
    Status.TRANSFERRING: validated,
    Status.IN_INSTRUCTION: in_instruction,
    Status.INCOMPLETE: incomplete,
    Status.COMPLETE: complete,
    Status.REJECTED: rejected,
    Status.ADMITTED: admitted,
    Status.ADMITTED_UNDER_RESERVE: lambda: admitted(DecisionKind.ADMIT_UNDER_RESERVE),
    Status.ADMISSIBLE: admissible,
    Status.CANCELLED: cancelled,
    Status.WITHDRAWN: withdrawn,
}
_INSTRUCTED = {Status.IN_INSTRUCTION, Status.INCOMPLETE, Status.COMPLETE}
_DECISIONS_ALLOWED_FROM = {
    DecisionKind.COMPLETE: {Status.IN_INSTRUCTION, Status.INCOMPLETE},
    DecisionKind.INCOMPLETE: {Status.IN_INSTRUCTION},
    DecisionKind.REJECT: _INSTRUCTED | {Status.ADMITTED_UNDER_RESERVE},
    DecisionKind.NON_CONFORMING: _INSTRUCTED | {Status.ADMITTED_UNDER_RESERVE},
    DecisionKind.ADMIT: {Status.COMPLETE, Status.ADMITTED_UNDER_RESERVE},
    DecisionKind.ADMIT_UNDER_RESERVE: _INSTRUCTED,
}


@pytest.mark.parametrize("status", list(_STATUS_BUILDERS), ids=str)
@pytest.mark.parametrize("kind", list(DecisionKind), ids=str)
def test_staff_decisions_apply_only_from_their_allowed_statuses(kind, status):
    dossier = _STATUS_BUILDERS[status]()
    assert dossier.status is status
    at = WRITTEN_RESULTS + timedelta(days=1)
    decision = Decision(kind, by="agent", reasons="Motif", missing=["autre"], deadline=at + timedelta(days=10))
    if status in _DECISIONS_ALLOWED_FROM[kind]:
        dossier.decide(decision, at)
        assert dossier.status is not status
    else:
        mails = len(dossier.outbox)
        with pytest.raises(Refusal, match=re.escape(f"le dossier est au statut « {status.label} »")):
            dossier.decide(decision, at)
        assert dossier.status is status
        assert len(dossier.outbox) == mails


# ----------------------------------------------------------------- centre documents
def test_a_convocation_is_refused_unless_the_candidate_is_admitted_to_sit_the_exam():
    dossier = complete()
    document = centre_document(CentreDocumentKind.CONVOCATION, "ecrit")
    assert refused(dossier.deposit, document, DECIDED) == ("Convocation : le candidat n'est pas admis à concourir.")
    assert dossier.documents == []


def test_a_convocation_must_name_an_exam_of_the_session():
    dossier = admitted()
    for code in (None, "pratique"):
        assert refused(dossier.deposit, centre_document(CentreDocumentKind.CONVOCATION, code), DECIDED) == (
            "Convocation : indiquez une épreuve de la session."
        )


def test_no_document_can_be_deposited_before_validation():
    dossier = preregistered()
    assert refused(dossier.deposit, centre_document(CentreDocumentKind.LETTER), REGISTERED) == (
        "Aucun document ne peut être déposé : En attente de votre dossier."
    )


@pytest.mark.parametrize("build", [cancelled, withdrawn], ids=lambda b: b.__name__)
def test_no_document_can_be_deposited_in_an_abandoned_dossier(build):
    dossier = build()
    with pytest.raises(Refusal, match="Aucun document ne peut être déposé"):
        dossier.deposit(centre_document(CentreDocumentKind.LETTER), DECIDED)


def test_a_convocation_deposited_early_is_released_fifteen_days_before_the_exam():
    dossier = admitted()
    deposited = paris(2026, 11, 10, 11, 0)
    release = WRITTEN_AT - timedelta(days=15)
    document = centre_document(CentreDocumentKind.CONVOCATION, "ecrit", title="Convocation à l'épreuve écrite")
    mails = len(dossier.outbox)
    dossier.deposit(document, deposited)
    assert document.deposited_at == deposited
    assert document.release_at == release
    assert dossier.released_documents() == []
    assert len(dossier.outbox) == mails  # nothing to tell the candidate yet
    assert dossier.next_due() == release
    dossier.run_due(release - SECOND)
    assert dossier.released_documents() == []
    dossier.run_due(release)
    assert dossier.released_documents() == [document]
    assert document.released_at == release
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.DOCUMENT
    assert mail.context["title"] == "Convocation à l'épreuve écrite"
    assert mail.context["kind"] == "Convocation"
    assert dossier.next_due() is None


def test_a_convocation_deposited_less_than_fifteen_days_before_the_exam_is_released_at_once():
    dossier = admitted()
    deposited = WRITTEN_AT - timedelta(days=3)
    document = centre_document(CentreDocumentKind.CONVOCATION, "ecrit")
    dossier.deposit(document, deposited)
    assert document.release_at == deposited
    assert dossier.released_documents() == [document]
    assert dossier.outbox[-1].template is MailTemplate.DOCUMENT


def test_an_access_map_waits_for_its_exam_like_the_convocation():
    dossier = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    document = centre_document(CentreDocumentKind.ACCESS_MAP, "ecrit")
    dossier.deposit(document, paris(2026, 11, 10, 11, 0))
    assert document.release_at == WRITTEN_AT - timedelta(days=15)
    assert dossier.released_documents() == []


@pytest.mark.parametrize(
    "kind",
    [
        CentreDocumentKind.ATTENDANCE,
        CentreDocumentKind.TRANSCRIPT,
        CentreDocumentKind.RESULT_LETTER,
        CentreDocumentKind.LETTER,
    ],
)
def test_other_documents_are_released_at_once_and_mailed_about(kind):
    dossier = admitted()
    at = WRITTEN_AT + timedelta(days=20)
    document = centre_document(kind)
    dossier.deposit(document, at)
    assert document.release_at == at
    assert document.released_at == at
    assert dossier.released_documents() == [document]
    assert dossier.outbox[-1].template is MailTemplate.DOCUMENT
    assert dossier.outbox[-1].context["kind"] == kind.label


def test_a_rejection_letter_is_deposited_after_a_rejection():
    dossier = rejected()
    letter = centre_document(CentreDocumentKind.REJECTION_LETTER)
    dossier.deposit(letter, DECIDED + SECOND)
    assert dossier.released_documents() == [letter]
    assert dossier.outbox[-1].context["kind"] == "Courrier de non admission à concourir"


def test_the_same_document_cannot_be_deposited_twice():
    dossier = admitted()
    dossier.deposit(centre_document(CentreDocumentKind.LETTER, ref="lettre-1"), DECIDED)
    assert refused(dossier.deposit, centre_document(CentreDocumentKind.LETTER, ref="lettre-1"), DECIDED) == (
        "Ce document est déjà déposé dans le dossier."
    )
    assert len(dossier.documents) == 1


def test_the_oral_convocation_is_only_for_admissible_candidates():
    dossier = admitted()
    assert refused(dossier.deposit, centre_document(CentreDocumentKind.CONVOCATION, "oral"), WRITTEN_RESULTS) == (
        "Convocation : le candidat n'est pas admissible."
    )
    dossier.record_result(ExamResult.ADMISSIBLE, WRITTEN_RESULTS)
    document = centre_document(CentreDocumentKind.CONVOCATION, "oral")
    dossier.deposit(document, WRITTEN_RESULTS + SECOND)
    assert document.release_at == ORAL_AT - timedelta(days=15)


def test_released_documents_are_listed_newest_first():
    dossier = admitted()
    convocation = centre_document(CentreDocumentKind.CONVOCATION, "ecrit")
    dossier.deposit(convocation, paris(2026, 11, 10, 11, 0))  # released 25 November
    attendance = centre_document(CentreDocumentKind.ATTENDANCE)
    dossier.run_due(WRITTEN_AT - timedelta(days=15))
    dossier.deposit(attendance, WRITTEN_AT + timedelta(days=1))
    transcript = centre_document(CentreDocumentKind.TRANSCRIPT)
    dossier.deposit(transcript, WRITTEN_AT + timedelta(days=30))
    assert dossier.released_documents() == [transcript, attendance, convocation]


# ----------------------------------------------------------------- results
@pytest.mark.parametrize("decision", [DecisionKind.ADMIT, DecisionKind.ADMIT_UNDER_RESERVE])
@pytest.mark.parametrize(
    ("result", "status", "label"),
    [
        (ExamResult.ADMISSIBLE, Status.ADMISSIBLE, "Admissible"),
        (ExamResult.NOT_ADMISSIBLE, Status.NOT_ADMISSIBLE, "Non admissible"),
    ],
)
def test_written_results_apply_to_admitted_candidates_and_are_mailed(decision, result, status, label):
    dossier = admitted(decision)
    dossier.record_result(result, WRITTEN_RESULTS)
    assert dossier.status is status
    assert dossier.outbox[-1].template is MailTemplate.RESULT
    assert dossier.outbox[-1].context["status"] == label


@pytest.mark.parametrize(
    ("result", "status", "label"),
    [(ExamResult.PASSED, Status.PASSED, "Admis(e)"), (ExamResult.FAILED, Status.FAILED, "Non admis(e)")],
)
def test_final_results_apply_to_admissible_candidates_and_close_the_dossier(result, status, label):
    dossier = admissible()
    dossier.record_result(result, ORAL_AT + timedelta(days=10))
    assert dossier.status is status
    assert dossier.status.is_closed
    assert dossier.outbox[-1].context["status"] == label


def test_a_final_result_is_refused_before_admissibility():
    dossier = admitted()
    assert refused(dossier.record_result, ExamResult.PASSED, WRITTEN_RESULTS) == (
        "Résultat « admis » impossible : le dossier est au statut « Vous êtes admis(e) à concourir »."
    )
    assert dossier.status is Status.ADMITTED


@pytest.mark.parametrize("build", [complete, in_instruction, rejected, admissible], ids=lambda b: b.__name__)
def test_a_written_result_is_refused_unless_admitted_to_sit_the_exam(build):
    dossier = build()
    status = dossier.status
    with pytest.raises(Refusal, match="impossible"):
        dossier.record_result(ExamResult.ADMISSIBLE, WRITTEN_RESULTS + SECOND)
    assert dossier.status is status


def test_a_non_admissible_candidate_gets_no_oral_convocation():
    dossier = admitted()
    dossier.record_result(ExamResult.NOT_ADMISSIBLE, WRITTEN_RESULTS)
    with pytest.raises(Refusal, match="n'est pas admissible"):
        dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "oral"), WRITTEN_RESULTS)


# ----------------------------------------------------------------- validation reminders and cancellation
def test_the_first_thing_due_after_registration_is_the_reminder_seven_days_before_the_deadline():
    assert preregistered().next_due() == DEADLINE - timedelta(days=7)


def test_validation_reminders_go_out_seven_days_and_one_day_before_the_deadline_once_each():
    dossier = preregistered()
    seven, one = DEADLINE - timedelta(days=7), DEADLINE - timedelta(days=1)
    dossier.run_due(seven - SECOND)
    assert templates(dossier) == [MailTemplate.PREREGISTERED]
    dossier.run_due(seven)
    dossier.run_due(seven + SECOND)
    assert templates(dossier) == [MailTemplate.PREREGISTERED, MailTemplate.VALIDATION_REMINDER]
    assert dossier.outbox[-1].context["deadline"] == "jeudi 29 octobre 2026 à 17h00"
    assert dossier.next_due() == one
    dossier.run_due(one)
    dossier.run_due(one + timedelta(hours=1))
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 2
    assert dossier.next_due() == DEADLINE + AFTER_DEADLINE


def test_two_reminders_falling_due_together_send_a_single_mail():
    dossier = preregistered()
    dossier.run_due(DEADLINE - timedelta(hours=2))  # the workflow was late: both are due
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 1
    dossier.run_due(DEADLINE - timedelta(hours=1))
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 1


def test_a_reminder_already_past_at_registration_is_not_sent():
    at = DEADLINE - timedelta(days=3)
    dossier = preregistered(at=at)
    assert dossier.next_due() == DEADLINE - timedelta(days=1)
    dossier.run_due(at)
    assert MailTemplate.VALIDATION_REMINDER not in templates(dossier)
    dossier.run_due(DEADLINE - timedelta(days=1))
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 1


def test_no_reminder_for_a_registration_made_on_the_last_day():
    at = DEADLINE - timedelta(hours=12)
    dossier = preregistered(at=at)
    assert dossier.next_due() == DEADLINE + AFTER_DEADLINE
    dossier.run_due(at)
    assert templates(dossier) == [MailTemplate.PREREGISTERED]


def test_no_validation_reminder_once_validated():
    dossier = validated(at=REGISTERED + timedelta(days=1))
    for at in (DEADLINE - timedelta(days=7), DEADLINE - timedelta(days=1)):
        dossier.run_due(at)
    assert MailTemplate.VALIDATION_REMINDER not in templates(dossier)


def test_a_preregistration_not_validated_is_cancelled_just_after_the_deadline():
    dossier = preregistered()
    dossier.run_due(DEADLINE - timedelta(days=1))
    dossier.run_due(DEADLINE)
    assert dossier.status is Status.AWAITING_DOSSIER
    assert dossier.next_due() == DEADLINE + AFTER_DEADLINE
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.CANCELLED
    assert dossier.status.label == "Préinscription annulée : inscription non validée dans les délais"
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.CANCELLED
    assert mail.context["deadline"] == "jeudi 29 octobre 2026 à 17h00"
    assert dossier.next_due() is None


def test_a_late_run_after_the_deadline_cancels_without_sending_a_stale_reminder():
    dossier = preregistered()
    dossier.run_due(DEADLINE + timedelta(hours=3))
    assert templates(dossier) == [MailTemplate.PREREGISTERED, MailTemplate.CANCELLED]


def test_the_cancellation_is_mailed_once():
    dossier = cancelled()
    dossier.run_due(DEADLINE + timedelta(days=1))
    assert templates(dossier).count(MailTemplate.CANCELLED) == 1


def test_a_validated_dossier_is_never_cancelled():
    dossier = validated()
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    dossier.run_due(DEADLINE + timedelta(days=30))
    assert dossier.status is Status.IN_INSTRUCTION
    assert MailTemplate.CANCELLED not in templates(dossier)


def test_after_validation_the_next_thing_due_is_the_start_of_instruction():
    assert validated().next_due() == REOPEN


# ----------------------------------------------------------------- regularisation reminders and expiry
def test_a_regularisation_reminder_goes_out_two_days_before_its_deadline_while_documents_are_missing():
    dossier = incomplete(["diplome", "formulaire"])
    reminder_at = REG_DEADLINE - timedelta(days=2)
    assert dossier.next_due() == reminder_at
    dossier.record_upload(upload("formulaire", at=DECIDED + SECOND), DECIDED + SECOND)
    dossier.run_due(reminder_at - SECOND)
    assert MailTemplate.REGULARISATION_REMINDER not in templates(dossier)
    dossier.run_due(reminder_at)
    dossier.run_due(reminder_at + SECOND)
    assert templates(dossier).count(MailTemplate.REGULARISATION_REMINDER) == 1
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.REGULARISATION_REMINDER
    assert mail.context["missing"] == "Diplôme(s) requis"  # only what is still missing
    assert mail.context["deadline"] == "jeudi 19 novembre 2026 à 17h00"


def test_no_regularisation_reminder_once_the_missing_documents_are_sent():
    dossier = incomplete(["diplome"])
    dossier.record_upload(upload("diplome", at=DECIDED + SECOND), DECIDED + SECOND)
    dossier.run_due(REG_DEADLINE - timedelta(days=2))
    assert MailTemplate.REGULARISATION_REMINDER not in templates(dossier)


def test_files_sent_before_the_request_do_not_answer_it():
    dossier = in_instruction()
    dossier.record_upload(upload("diplome", at=REOPEN), REOPEN)
    decided(DecisionKind.INCOMPLETE, dossier, missing=["diplome"], deadline=REG_DEADLINE)
    dossier.run_due(REG_DEADLINE - timedelta(days=2))
    assert dossier.outbox[-1].template is MailTemplate.REGULARISATION_REMINDER


def test_a_regularisation_due_within_two_days_sends_no_reminder_with_the_request():
    dossier = in_instruction()
    decided(DecisionKind.INCOMPLETE, dossier, missing=["diplome"], deadline=DECIDED + timedelta(days=1))
    dossier.run_due(DECIDED)  # the workflow runs what is due right after each message
    assert MailTemplate.REGULARISATION_REMINDER not in templates(dossier)


def test_the_regularisation_expires_just_after_its_deadline_and_uploads_close():
    dossier = incomplete()
    dossier.run_due(REG_DEADLINE - timedelta(days=2))
    assert dossier.next_due() == REG_DEADLINE + AFTER_DEADLINE
    dossier.run_due(REG_DEADLINE)
    assert dossier.regularisation is not None
    assert not dossier.regularisation.expired
    dossier.run_due(REG_DEADLINE + AFTER_DEADLINE)
    assert dossier.regularisation.expired
    assert dossier.timeline[-1].text == "Délai de transmission des pièces demandées expiré."
    assert not dossier.uploads_window(REG_DEADLINE + SECOND).open
    assert dossier.next_due() is None


# ----------------------------------------------------------------- deadline extension
NEW_DEADLINE = paris(2026, 11, 12, 17, 0)


def test_a_deadline_extension_lets_a_validation_after_the_old_deadline_count():
    dossier = preregistered()
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=2))
    assert dossier.validation_deadline == NEW_DEADLINE
    dossier.run_due(DEADLINE + AFTER_DEADLINE)
    assert dossier.status is Status.AWAITING_DOSSIER
    dossier.validate(True, DEADLINE + timedelta(days=1))
    assert dossier.status is Status.TRANSFERRING


def test_a_deadline_extension_is_mailed_to_dossiers_awaiting_validation():
    dossier = preregistered()
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=2))
    mail = dossier.outbox[-1]
    assert mail.template is MailTemplate.DEADLINE_EXTENDED
    assert mail.context["deadline"] == "jeudi 12 novembre 2026 à 17h00"
    assert dossier.next_deadlines(DEADLINE)[0] == (VALIDATION_DEADLINE_LABEL, NEW_DEADLINE)


def test_a_deadline_extension_resets_the_validation_reminders():
    dossier = preregistered()
    dossier.run_due(DEADLINE - timedelta(days=1))  # a reminder went out for the old deadline
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 1
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=2))
    assert dossier.next_due() == NEW_DEADLINE - timedelta(days=7)
    dossier.run_due(NEW_DEADLINE - timedelta(days=7))
    dossier.run_due(NEW_DEADLINE - timedelta(days=1))
    assert templates(dossier).count(MailTemplate.VALIDATION_REMINDER) == 3
    assert dossier.next_due() == NEW_DEADLINE + AFTER_DEADLINE


def test_a_deadline_extension_is_not_mailed_to_validated_dossiers_but_moves_their_upload_period():
    dossier = in_instruction()
    mails = len(dossier.outbox)
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=2))
    assert len(dossier.outbox) == mails
    assert dossier.validation_deadline == NEW_DEADLINE
    window = dossier.uploads_window(GRACE_END + SECOND)
    assert window.open and window.until == NEW_DEADLINE + GRACE


def test_a_deadline_extension_does_not_revive_a_cancelled_preregistration():
    dossier = cancelled()
    mails = len(dossier.outbox)
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE + timedelta(hours=2))
    assert dossier.status is Status.CANCELLED
    assert len(dossier.outbox) == mails


@pytest.mark.parametrize("deadline", [DEADLINE, DEADLINE - timedelta(days=1)], ids=["same", "earlier"])
def test_an_extension_to_the_same_or_an_earlier_deadline_changes_nothing(deadline):
    dossier = preregistered()
    mails = len(dossier.outbox)
    dossier.extend_deadline(deadline, REGISTERED + timedelta(days=1))
    assert dossier.validation_deadline == DEADLINE
    assert len(dossier.outbox) == mails


def test_an_extension_received_twice_is_mailed_once():
    dossier = preregistered()
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=2))
    dossier.extend_deadline(NEW_DEADLINE, DEADLINE - timedelta(hours=1))
    assert templates(dossier).count(MailTemplate.DEADLINE_EXTENDED) == 1


# ----------------------------------------------------------------- outbox
def test_the_whole_journey_mails_each_event_once_with_unique_numbered_keys():
    dossier = preregistered()
    dossier.run_due(DEADLINE - timedelta(days=7) - timedelta(days=1))  # nothing due yet
    dossier.validate(True, VALIDATED)
    dossier.run_due(REOPEN)
    decided(DecisionKind.INCOMPLETE, dossier, missing=["diplome"], deadline=REG_DEADLINE)
    dossier.run_due(REG_DEADLINE - timedelta(days=2))
    dossier.record_upload(upload(at=REG_DEADLINE - SECOND), REG_DEADLINE - SECOND)
    decided(DecisionKind.COMPLETE, dossier, at=REG_DEADLINE + timedelta(days=1))
    decided(DecisionKind.ADMIT, dossier, at=REG_DEADLINE + timedelta(days=2))
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "ecrit"), REG_DEADLINE + timedelta(days=2))
    dossier.run_due(WRITTEN_AT - timedelta(days=15))
    dossier.record_result(ExamResult.ADMISSIBLE, WRITTEN_RESULTS)
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "oral"), WRITTEN_RESULTS)
    dossier.run_due(ORAL_AT - timedelta(days=15))
    dossier.record_result(ExamResult.PASSED, ORAL_AT + timedelta(days=10))

    assert templates(dossier) == [
        MailTemplate.PREREGISTERED,
        MailTemplate.VALIDATED,
        MailTemplate.ACKNOWLEDGEMENT,
        MailTemplate.REGULARISATION,
        MailTemplate.REGULARISATION_REMINDER,
        MailTemplate.ADMITTED,
        MailTemplate.DOCUMENT,
        MailTemplate.RESULT,
        MailTemplate.DOCUMENT,
        MailTemplate.RESULT,
    ]
    assert [m.key for m in dossier.outbox] == [f"{NUMBER}/{n}" for n in range(1, 11)]
    assert {m.to for m in dossier.outbox} == {EMAIL}
    assert dossier.status is Status.PASSED


def test_mail_keys_keep_counting_across_events_and_differ_between_dossiers():
    first = preregistered(number="56-2026-00001", email="a@example.fr")
    second = preregistered(number="56-2026-00002", email="b@example.fr")
    first.validate(True, VALIDATED)
    assert [m.key for m in first.outbox] == ["56-2026-00001/1", "56-2026-00001/2"]
    assert [m.key for m in second.outbox] == ["56-2026-00002/1"]
    assert {m.to for m in second.outbox} == {"b@example.fr"}


def test_the_template_of_each_mail_has_its_stable_name():
    assert {t.name: t.value for t in MailTemplate} == {
        "PREREGISTERED": "preinscription",
        "VALIDATION_REMINDER": "rappel_validation",
        "DEADLINE_EXTENDED": "prolongation",
        "CANCELLED": "annulation",
        "VALIDATED": "validation",
        "ACKNOWLEDGEMENT": "accuse_reception",
        "REGULARISATION": "demande_regularisation",
        "REGULARISATION_REMINDER": "rappel_regularisation",
        "REJECTED": "rejet",
        "ADMITTED": "admission",
        "DOCUMENT": "document_depose",
        "RESULT": "resultat",
        "WITHDRAWN": "desistement",
        "REPLACED": "remplacement",
        "ADDRESS_CHANGED": "changement_adresse",
        "EXAMS_MOVED": "epreuves_modifiees",
        "ACCOMMODATIONS_REQUESTED": "amenagements_demande",
        "ACCOMMODATIONS_DECIDED": "amenagements_decision",
        "CONVOCATION_UPDATED": "convocation_mise_a_jour",
    }


# ----------------------------------------------------------------- allowed actions
ALL_ACTIONS = [Action.VALIDATE, Action.UPLOAD, Action.WITHDRAW, Action.CHANGE_ADDRESS]


def test_before_validation_a_candidate_may_validate_upload_withdraw_and_change_address():
    assert preregistered().allowed_actions(REGISTERED) == ALL_ACTIONS
    assert preregistered().allowed_actions(DEADLINE) == ALL_ACTIONS


def test_after_the_deadline_an_unvalidated_dossier_can_no_longer_be_validated():
    assert Action.VALIDATE not in preregistered().allowed_actions(DEADLINE + SECOND)


def test_right_after_validation_uploads_are_not_offered():
    assert validated().allowed_actions(VALIDATED + SECOND) == [Action.WITHDRAW, Action.CHANGE_ADDRESS]


def test_from_8h30_the_next_working_day_uploads_are_offered_again():
    assert validated().allowed_actions(REOPEN) == [Action.UPLOAD, Action.WITHDRAW, Action.CHANGE_ADDRESS]


def test_during_the_regularisation_uploads_are_offered():
    assert incomplete().allowed_actions(DECIDED) == [Action.UPLOAD, Action.WITHDRAW, Action.CHANGE_ADDRESS]


def test_an_admitted_candidate_may_withdraw_and_change_address_only():
    assert admitted().allowed_actions(WRITTEN_AT) == [Action.WITHDRAW, Action.CHANGE_ADDRESS]


def test_a_rejected_candidate_may_still_change_address():
    assert rejected().allowed_actions(DECIDED) == [Action.CHANGE_ADDRESS]


@pytest.mark.parametrize("build", [cancelled, withdrawn], ids=lambda b: b.__name__)
def test_an_abandoned_dossier_offers_nothing(build):
    assert build().allowed_actions(DECIDED) == []


# ----------------------------------------------------------------- next deadlines
def test_before_validation_the_dashboard_shows_the_validation_deadline_and_the_end_of_uploads():
    assert preregistered().next_deadlines(REGISTERED) == [
        (VALIDATION_DEADLINE_LABEL, DEADLINE),
        (UPLOAD_END_LABEL, DEADLINE),
    ]


def test_right_after_validation_the_dashboard_shows_when_uploads_reopen():
    assert validated().next_deadlines(VALIDATED + SECOND) == [(UPLOAD_OPENING_LABEL, REOPEN)]


def test_during_instruction_the_dashboard_shows_the_end_of_the_upload_period():
    assert in_instruction().next_deadlines(REOPEN) == [(UPLOAD_END_LABEL, GRACE_END)]


def test_during_the_regularisation_the_dashboard_shows_its_deadline():
    assert incomplete().next_deadlines(DECIDED) == [(UPLOAD_END_LABEL, REG_DEADLINE)]


def test_an_admitted_candidate_sees_the_pending_convocation_and_the_written_exam_in_order():
    dossier = admitted()
    dossier.deposit(
        centre_document(CentreDocumentKind.CONVOCATION, "ecrit", title="Convocation écrit"), paris(2026, 11, 10, 11, 0)
    )
    assert dossier.next_deadlines(paris(2026, 11, 10, 12, 0)) == [
        ("Mise à disposition : Convocation écrit", WRITTEN_AT - timedelta(days=15)),
        ("Épreuve écrite d'admissibilité — Parc des expositions, Vannes", WRITTEN_AT),
    ]


def test_an_admissible_candidate_sees_the_oral_and_no_longer_the_written_exam():
    assert admissible().next_deadlines(WRITTEN_RESULTS) == [
        ("Épreuve orale d'admission — CDG 56, Vannes", ORAL_AT),
    ]


def test_a_past_exam_is_no_longer_shown():
    assert admitted().next_deadlines(WRITTEN_AT + SECOND) == []


def test_a_closed_dossier_shows_no_deadline():
    assert cancelled().next_deadlines(DEADLINE + SECOND) == []


# ----------------------------------------------------------------- known defects
def test_a_regularisation_can_be_answered_in_a_category_that_was_already_full():
    dossier = preregistered()
    dossier.record_upload(upload("formulaire", at=REGISTERED), REGISTERED)  # unsigned, say
    dossier.validate(True, VALIDATED)
    dossier.run_due(REOPEN)
    decided(
        DecisionKind.INCOMPLETE, dossier, missing=["formulaire"], deadline=REG_DEADLINE, reasons="Formulaire non signé"
    )
    at = DECIDED + timedelta(hours=1)
    dossier.record_upload(upload("formulaire", at=at), at)
    assert len(dossier.uploads) == 2


@pytest.mark.parametrize("closing", ["rejection", "withdrawal"])
def test_a_pending_convocation_is_not_released_once_the_candidate_may_no_longer_sit_the_exam(closing):
    dossier = admitted(DecisionKind.ADMIT_UNDER_RESERVE)
    convocation = centre_document(CentreDocumentKind.CONVOCATION, "ecrit")
    dossier.deposit(convocation, paris(2026, 11, 10, 11, 0))
    if closing == "rejection":
        decided(DecisionKind.REJECT, dossier, at=paris(2026, 11, 12, 10, 0), reasons="Diplôme non reconnu")
    else:
        dossier.withdraw(paris(2026, 11, 12, 10, 0))
    dossier.run_due(WRITTEN_AT - timedelta(days=15))
    assert dossier.released_documents() == []
    assert MailTemplate.DOCUMENT not in templates(dossier)


def test_a_regularisation_during_the_grace_period_keeps_uploads_open_until_the_later_end():
    dossier = in_instruction()
    early = paris(2026, 11, 2, 10, 0)  # before the grace period ends (3 November 17:00)
    decided(DecisionKind.INCOMPLETE, dossier, at=early, missing=["diplome"], deadline=REG_DEADLINE)
    assert dossier.uploads_window(early).until == REG_DEADLINE
    short = in_instruction()
    decided(DecisionKind.INCOMPLETE, short, at=early, missing=["diplome"], deadline=paris(2026, 11, 3, 9, 0))
    assert short.uploads_window(early).until == GRACE_END


def test_a_withheld_convocation_is_noted_once_and_leaves_no_timer_behind():
    dossier = admitted()
    dossier.deposit(centre_document(CentreDocumentKind.CONVOCATION, "ecrit"), paris(2026, 11, 10, 11, 0))
    assert dossier.next_due() == WRITTEN_AT - timedelta(days=15)
    dossier.withdraw(paris(2026, 11, 12, 10, 0))
    dossier.run_due(paris(2026, 11, 12, 10, 0))
    dossier.run_due(paris(2026, 11, 12, 11, 0))
    assert [e.code for e in dossier.timeline].count("document_retire") == 1
    assert dossier.next_due() is None


def test_archiving_after_the_deadline_first_cancels_and_mails_what_fell_due():
    dossier = preregistered()
    dossier.archive(DEADLINE + AFTER_DEADLINE)  # the deadline timer had not been handled yet
    assert dossier.status is Status.CANCELLED and dossier.archived
    assert MailTemplate.CANCELLED in templates(dossier)
