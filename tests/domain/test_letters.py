"""Which letters about an exam staff may ask for: the dossier page offers exactly these."""

from __future__ import annotations

import pytest

from domain.dossier import Refusal
from domain.letters import LetterKind, LetterOrder, check_letter, exam_letters
from tests.domain.test_dossier import (
    DECIDED,
    admissible,
    admitted,
    cancelled,
    in_instruction,
    rejected,
    withdrawn,
)


def offered(dossier) -> dict[LetterKind, list[str]]:
    return {offer.kind: [e.code for e in offer.exams] for offer in exam_letters(dossier, DECIDED)}


def test_an_admitted_candidate_gets_the_written_exams_convocation_and_attendance():
    assert offered(admitted()) == {LetterKind.CONVOCATION: ["ecrit"], LetterKind.ATTENDANCE: ["ecrit"]}


def test_an_admissible_candidate_gets_the_orals_convocation_and_both_attendances():
    assert offered(admissible()) == {LetterKind.CONVOCATION: ["oral"], LetterKind.ATTENDANCE: ["ecrit", "oral"]}


@pytest.mark.parametrize("dossier", [in_instruction, rejected, cancelled, withdrawn])
def test_no_convocation_nor_attendance_for_a_candidate_never_convened(dossier):
    d = dossier()
    assert offered(d) == {}
    with pytest.raises(Refusal) as refused:
        check_letter(d, LetterOrder(LetterKind.ATTENDANCE, exam_code="ecrit"), DECIDED)
    assert "Attestation de présence" in refused.value.message or "Aucun document" in refused.value.message
