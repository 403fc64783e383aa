"""Months-long dossiers outlive releases: every recorded history must replay on today's code.

The histories in `histories/` were recorded from full lifecycles by the workflow tests
(`RECORD_HISTORIES=1 scripts/test.sh tests/workflows`). A change that would break open dossiers
fails here; `workflow.patched` is how to make such a change safely (README, "Changing workflow
code"), and the last two tests show both sides of that rule.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from infra.temporal import DATA_CONVERTER
from tests.replay.changed_workflows import PatchedChange, UnpatchedChange
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def test_histories_are_recorded() -> None:
    # before_uncancelled_timers: recorded with the workflow as it was before the
    # "uncancelled-timers" patch (messages cancelled the pending timer then). before_letters_*:
    # recorded before the "letters-in-workflow" patch (decisions and results printed no letter).
    # before_receipt_time_*: before "receipt-time" (the cancellation fell at the deadline itself).
    assert {p.stem for p in HISTORIES} >= {
        "full_lifecycle",
        "rejection",
        "withdrawal",
        "before_uncancelled_timers",
        "before_letters_full_lifecycle",
        "before_letters_rejection",
        "before_receipt_time_full_lifecycle",
        "mail_set_aside",  # a 550 set aside, then the change_email Update (patch "mail-set-aside")
        # Accommodations decided after the convocation's print: reprinted (patch
        # "convocation-reprint"), at once or at the release; before_*: the same, recorded before
        # the patch (the convocation kept its content).
        "convocation_reprint",
        "convocation_reprint_at_release",
        "before_convocation_reprint",
        "before_convocation_reprint_at_release",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_recorded_history_replays_on_the_current_code(path: Path) -> None:
    result = await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(load(path))
    assert result.replay_failure is None


async def test_an_unpatched_change_is_caught_by_the_replay() -> None:
    replayer = Replayer(workflows=[UnpatchedChange], data_converter=DATA_CONVERTER)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load(Path(__file__).parent / "histories" / "full_lifecycle.json"))


async def test_the_same_change_behind_workflow_patched_replays() -> None:
    replayer = Replayer(workflows=[PatchedChange], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(load(Path(__file__).parent / "histories" / "full_lifecycle.json"))
