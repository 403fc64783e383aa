"""Which later orders a campaign's open dossiers can follow: exam changes, deadline extensions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from domain.campaign import Campaign, CampaignError, ExamAmendment, ExamDate, ExamKind
from tests.factories import campaign

NOW = datetime(2026, 10, 27, 15, 30, tzinfo=UTC)


def session() -> Campaign:
    return campaign(now=NOW)


def copies(exams: list[ExamDate]) -> list[ExamDate]:
    """The exams as the edit form builds them again: fresh objects."""
    return [dataclasses.replace(e) for e in exams]


# ----------------------------------------------------------------------------- exams
def test_before_any_dossier_exams_may_be_added_removed_or_change_kind() -> None:
    c = session()
    written, _ = c.exams
    changed = [
        dataclasses.replace(written, kind=ExamKind.ORAL),
        ExamDate("pratique", "Épreuve pratique", ExamKind.WRITTEN, NOW + timedelta(days=70), "Lorient"),
    ]
    c.check_exam_changes(changed, dossiers_exist=False)


@pytest.mark.parametrize("change", ["added", "removed", "renamed"])
def test_once_dossiers_exist_exams_are_neither_added_nor_removed(change: str) -> None:
    c = session()
    exams = copies(c.exams)
    if change == "added":
        exams.append(ExamDate("pratique", "Épreuve pratique", ExamKind.WRITTEN, NOW + timedelta(days=70), "Lorient"))
    elif change == "removed":
        exams.pop()
    else:
        exams[0].code = "ecrit2"
    with pytest.raises(CampaignError) as refused:
        c.check_exam_changes(exams, dossiers_exist=True)
    assert str(refused.value) == (
        "Des dossiers sont ouverts : les épreuves ne peuvent plus être ajoutées ni retirées "
        "(codes de la session : ecrit, oral). Modifiez leur date, leur lieu ou leur libellé."
    )


def test_the_refusal_says_when_the_campaign_has_no_exam() -> None:
    c = campaign(now=NOW, exams=[])
    extra = [ExamDate("ecrit", "Écrit", ExamKind.WRITTEN, NOW + timedelta(days=60), "Vannes")]
    with pytest.raises(CampaignError, match=r"\(codes de la session : aucun\)"):
        c.check_exam_changes(extra, dossiers_exist=True)


def test_once_dossiers_exist_an_exam_keeps_its_kind() -> None:
    c = session()
    exams = copies(c.exams)
    exams[1].kind = ExamKind.WRITTEN
    with pytest.raises(CampaignError) as refused:
        c.check_exam_changes(exams, dossiers_exist=True)
    assert str(refused.value) == (
        "Des dossiers sont ouverts : la nature de l'épreuve « oral » (admissibilite ou admission) ne peut plus changer."
    )


@pytest.mark.parametrize(
    "change",
    [
        {"starts_at": NOW + timedelta(days=61)},
        {"venue": "Salle des fêtes, Auray"},
        {"label": "Épreuve écrite d'admissibilité (report)"},
    ],
    ids=["date", "venue", "label"],
)
def test_a_moved_relocated_or_renamed_exam_is_an_amendment_for_open_dossiers(change: dict) -> None:
    c = session()
    exams = copies(c.exams)
    exams[0] = dataclasses.replace(exams[0], **change)
    c.check_exam_changes(exams, dossiers_exist=True)
    amended_at = NOW + timedelta(hours=1)
    assert c.exam_amendment(exams, at=amended_at) == ExamAmendment(c.id, exams, amended_at=amended_at)


def test_the_same_exams_again_are_no_amendment() -> None:
    c = session()
    assert c.exam_amendment(copies(c.exams), at=NOW) is None
    assert c.exam_amendment(list(reversed(copies(c.exams))), at=NOW) is None


def test_an_amendment_open_dossiers_could_not_follow_is_refused() -> None:
    c = session()
    with pytest.raises(CampaignError):
        c.exam_amendment(copies(c.exams)[:1], at=NOW)


# ----------------------------------------------------------------------------- deadline
def test_a_later_deadline_extends_the_campaign() -> None:
    c = session()
    later = c.validation_deadline + timedelta(days=7)
    assert c.extend_validation_deadline(later) is True
    assert c.validation_deadline == later


def test_the_current_deadline_again_is_a_repeated_extension_with_nothing_to_save() -> None:
    c = session()
    current = c.validation_deadline
    c.check_new_deadline(current)
    assert c.extend_validation_deadline(current) is False
    assert c.validation_deadline == current


def test_an_earlier_deadline_is_refused_and_the_refusal_says_the_current_one() -> None:
    c = session()
    c.validation_deadline = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)  # 17:00 in Paris
    with pytest.raises(CampaignError) as refused:
        c.extend_validation_deadline(c.validation_deadline - timedelta(minutes=1))
    assert str(refused.value) == "La nouvelle date limite doit suivre l'actuelle (lundi 16 novembre 2026 à 17h00)."
    assert c.validation_deadline == datetime(2026, 11, 16, 16, 0, tzinfo=UTC)


def test_a_deadline_without_time_zone_is_refused() -> None:
    c = session()
    with pytest.raises(CampaignError):
        c.check_new_deadline(c.validation_deadline.replace(tzinfo=None) + timedelta(days=1))
