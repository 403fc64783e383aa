"""The statuses at the top of the candidate's space, worded as the seeds word them."""

from __future__ import annotations

import pytest

from domain.status import Status


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_label(status: Status):
    assert status.label.strip()


def test_no_two_statuses_share_a_label():
    labels = [s.label for s in Status]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (Status.AWAITING_DOSSIER, "En attente de votre dossier"),
        (Status.TRANSFERRING, "En cours de transfert"),
        (Status.IN_INSTRUCTION, "Dossier en cours d'instruction"),
        (Status.INCOMPLETE, "Dossier incomplet : merci de transmettre les pièces demandées"),
        (Status.COMPLETE, "Dossier complet"),
        (Status.REJECTED, "Dossier rejeté"),
        (Status.NON_CONFORMING, "Dossier non conforme"),
        (Status.ADMITTED, "Vous êtes admis(e) à concourir"),
        (Status.ADMITTED_UNDER_RESERVE, "Vous êtes admis(e) à concourir sous réserve"),
    ],
)
def test_the_labels_of_the_seeds_are_exact(status: Status, label: str):
    assert status.label == label


@pytest.mark.parametrize(
    "status",
    [
        Status.REJECTED,
        Status.NON_CONFORMING,
        Status.NOT_ADMISSIBLE,
        Status.PASSED,
        Status.FAILED,
        Status.CANCELLED,
        Status.WITHDRAWN,
        Status.REPLACED,
    ],
)
def test_final_statuses_are_closed(status: Status):
    assert status.is_closed


@pytest.mark.parametrize(
    "status",
    [
        Status.AWAITING_DOSSIER,
        Status.TRANSFERRING,
        Status.IN_INSTRUCTION,
        Status.INCOMPLETE,
        Status.COMPLETE,
        Status.ADMITTED,
        Status.ADMITTED_UNDER_RESERVE,
        Status.ADMISSIBLE,
    ],
)
def test_statuses_still_in_progress_are_open(status: Status):
    assert not status.is_closed


def test_only_the_two_admissions_count_as_admitted_to_sit_the_exam():
    assert {s for s in Status if s.is_admitted} == {Status.ADMITTED, Status.ADMITTED_UNDER_RESERVE}
