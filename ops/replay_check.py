"""Would this release break open dossiers? Replay their histories against the current code.

    python -m ops.replay_check                      # every running workflow (visibility)
    python -m ops.replay_check --query "CampaignId = 'red2027'"
    python -m ops.replay_check tests/replay/histories/ exported.json

Histories come from visibility (running workflows by default, any query given) or from JSON
files exported by the history page or `WorkflowHistory.to_json()` (a directory means every
*.json in it). Each is replayed with `temporalio.worker.Replayer`, with the production worker's
workflows and data converter; a non-deterministic change (an activity reordered, a timer
added without `workflow.patched`) fails the replay. One line per history, a summary, and exit
code 1 if any would break (2 if none could be read), so a deployment pipeline can stop there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import DATA_CONVERTER, WORKFLOW_RUNNER, exit_after_temporal
from workflows.client import WorkflowClient

DEFAULT_QUERY = "ExecutionStatus = 'Running'"


@dataclass
class ReplayOutcome:
    workflow_id: str
    source: str  # a file path, or "visibility"
    error: str | None = None  # None when the replay went through

    @property
    def ok(self) -> bool:
        return self.error is None


def history_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        else:
            files.append(path)
    return files


def load_history(path: Path) -> WorkflowHistory:
    """An exported history; its workflow ID is the file's name (`RED2027-00012.json`)."""
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


async def _from_files(files: Sequence[Path], unreadable: list[ReplayOutcome]) -> AsyncIterator[WorkflowHistory]:
    for path in files:
        try:
            yield load_history(path)
        except Exception as exc:  # a truncated or foreign file: report it, go on with the rest
            unreadable.append(ReplayOutcome(path.stem, str(path), f"fichier illisible : {exc}"))


async def replay(
    histories: AsyncIterator[WorkflowHistory], source: str, workflows: Sequence[type] | None = None
) -> list[ReplayOutcome]:
    if workflows is None:
        from worker import WORKFLOWS  # the very list the production worker registers

        workflows = WORKFLOWS
    replayer = Replayer(workflows=list(workflows), data_converter=DATA_CONVERTER, workflow_runner=WORKFLOW_RUNNER)
    outcomes: list[ReplayOutcome] = []
    async with replayer.workflow_replay_iterator(histories) as results:
        async for result in results:
            failure = result.replay_failure
            outcomes.append(
                ReplayOutcome(
                    result.history.workflow_id,
                    source,
                    None if failure is None else f"{type(failure).__name__}: {str(failure).splitlines()[0][:500]}",
                )
            )
    return outcomes


async def replay_files(paths: Iterable[Path], workflows: Sequence[type] | None = None) -> list[ReplayOutcome]:
    files = history_files(paths)
    unreadable: list[ReplayOutcome] = []
    outcomes = await replay(_from_files(files, unreadable), "fichier", workflows)
    by_id = {f.stem: str(f) for f in files}
    for outcome in outcomes:
        outcome.source = by_id.get(outcome.workflow_id, outcome.source)
    return unreadable + outcomes


async def replay_visible(
    client: WorkflowClient,
    query: str = DEFAULT_QUERY,
    limit: int | None = None,
    workflows: Sequence[type] | None = None,
) -> list[ReplayOutcome]:
    return await replay(client.histories(query, limit), "visibilité", workflows)


def report(outcomes: Sequence[ReplayOutcome], out=None) -> int:
    """Print one line per history and a summary; the exit code."""
    out = out or sys.stdout
    for o in outcomes:
        print(
            f"{'OK    ' if o.ok else 'ÉCHEC '} {o.workflow_id}  ({o.source})" + ("" if o.ok else f"\n       {o.error}"),
            file=out,
        )
    broken = [o for o in outcomes if not o.ok]
    if not outcomes:
        print("Aucun historique à rejouer.", file=out)
        return 2
    print(f"\n{len(outcomes)} historique(s) rejoué(s), {len(broken)} en échec.", file=out)
    if broken:
        print(
            "Cette version casserait ces workflows : ajoutez `workflow.patched(...)` autour du "
            "changement ou attendez qu'ils soient clos avant de déployer.",
            file=out,
        )
        return 1
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.replay_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="fichiers JSON ou répertoires d'historiques exportés")
    parser.add_argument("--query", help=f"requête de visibilité (défaut : {DEFAULT_QUERY})")
    parser.add_argument("--limit", type=int, help="nombre maximal de workflows lus par visibilité")
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    outcomes: list[ReplayOutcome] = []
    if args.paths:
        outcomes += await replay_files(args.paths)
    if args.query or not args.paths:
        from infra.settings import get_settings
        from infra.temporal import connect

        settings = get_settings()
        client = WorkflowClient(await connect(settings), settings.task_queue)
        outcomes += await replay_visible(client, args.query or DEFAULT_QUERY, args.limit)
    return report(outcomes)


if __name__ == "__main__":
    exit_after_temporal(asyncio.run(main()))
