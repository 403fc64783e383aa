"""The replay check: histories of open dossiers (by visibility) or exported files replayed
against the current code; a history the code would not follow makes it fail."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from infra.settings import Settings
from ops.replay_check import main, replay_files, replay_visible, report
from tests.factories import campaign as make_campaign
from tests.workflows.conftest import registration
from workflows.client import WorkflowClient
from workflows.dossier import DossierWorkflow, Validate

PROJECT = Path(__file__).resolve().parents[2]
SAVED = PROJECT / "tests" / "replay" / "histories"


async def real_dossier(client: Client, settings: Settings) -> str:
    """A dossier on the production workflow (the session's worker), validated: an update, emails."""
    reg = registration(make_campaign())
    gateway = WorkflowClient(client, settings.task_queue)
    await gateway.start_dossier(reg)
    await gateway.temporal.get_workflow_handle_for(DossierWorkflow.run, reg.dossier_number).execute_update(
        DossierWorkflow.validate, Validate(True)
    )
    return reg.dossier_number


def broken(history_json: str) -> str:
    """The same history as if an older release had called another activity first: the current
    code would schedule `send_mail` where the history holds `send_letter`."""
    data = json.loads(history_json)
    for e in data["events"]:
        attrs = e.get("activityTaskScheduledEventAttributes")
        if attrs:
            attrs["activityType"]["name"] = "send_letter"
            break
    else:
        raise AssertionError("no activity in this history")
    return json.dumps(data)


async def test_exported_files_replay_and_a_changed_one_is_reported(
    client: Client, settings: Settings, worker, tmp_path: Path, capsys
) -> None:
    number = await real_dossier(client, settings)
    history = await client.get_workflow_handle(number).fetch_history()
    (tmp_path / f"{number}.json").write_text(history.to_json())
    (tmp_path / "ANCIENNE-00001.json").write_text(broken(history.to_json()))
    (tmp_path / "tronque.json").write_text('{"events": [')

    outcomes = await replay_files([tmp_path])
    by_id = {o.workflow_id: o for o in outcomes}
    assert by_id[number].ok
    old, truncated = by_id["ANCIENNE-00001"].error, by_id["tronque"].error
    assert old is not None and "Nondeterminism" in old
    assert truncated is not None and truncated.startswith("fichier illisible")

    code = await main([str(tmp_path / f"{number}.json"), str(tmp_path / "ANCIENNE-00001.json")])
    out = capsys.readouterr().out
    assert code == 1
    assert f"OK     {number}" in out and "ÉCHEC  ANCIENNE-00001" in out
    assert "2 historique(s) rejoué(s), 1 en échec." in out


async def test_open_dossiers_replay_from_visibility(client: Client, settings: Settings, worker) -> None:
    number = await real_dossier(client, settings)
    outcomes = await replay_visible(WorkflowClient(client, settings.task_queue), f"WorkflowId = '{number}'")
    assert [(o.workflow_id, o.ok) for o in outcomes] == [(number, True)]
    assert report(outcomes, out=io.StringIO()) == 0
    assert report([], out=io.StringIO()) == 2  # nothing replayed is not a success


def test_the_command_exits_non_zero_on_a_broken_history(tmp_path: Path) -> None:
    """As a deployment pipeline runs it: a process, an exit code."""
    source = next(SAVED.glob("*.json"), None)
    if source is None:
        pytest.skip("no saved history in tests/replay/histories")
    (tmp_path / f"{uuid.uuid4().hex[:6]}.json").write_text(broken(source.read_text()))
    done = subprocess.run(
        [sys.executable, "-m", "ops.replay_check", str(tmp_path)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ÉCHEC" in done.stdout


async def test_the_saved_histories_still_replay() -> None:
    """The histories kept with the tests (recorded from the workflow tests) replay with this code."""
    if not any(SAVED.glob("*.json")):
        pytest.skip("no saved history in tests/replay/histories")
    outcomes = await replay_files([SAVED])
    assert [o for o in outcomes if not o.ok] == []
