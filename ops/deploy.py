"""Worker Versioning: which code version a worker is, and which version gets new work.

Workers of a deployment (`INSCRIPTIONS_WORKER_DEPLOYMENT`, e.g. `inscriptions`) declare a build
id, by default derived from the code itself (`code_build_id`), so two workers run the same
workflow code exactly when they have the same build id. The deployment's *current* version
receives new workflows; dossiers (auto-upgrade) move to it at their next workflow task, batches
and campaign-wide changes (pinned) finish on the version they started on. The deploy procedure
is in the README (« Exploitation »):

    .venv/bin/python -m ops.deploy build-id          # this checkout's build id
    .venv/bin/python -m ops.deploy describe          # current version, versions and their state
    .venv/bin/python -m ops.deploy set-current BUILD_ID
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tomllib

from temporalio.api.enums.v1 import WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from infra.settings import PROJECT_ROOT, get_settings
from infra.temporal import exit_after_temporal

# What decides the commands a workflow issues and the activities it calls: a change here is a
# new version of the code (templates and letters too: a resend must render what was sent).
CODE_FOLDERS = ("workflows", "domain", "activities", "letters")


def code_build_id() -> str:
    """`<project version>-<12 hex digits of the code's digest>`: the same files, the same id."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    version = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
    return f"{version}-{digest.hexdigest()[:12]}"


async def describe(client: Client, deployment: str) -> DescribeWorkerDeploymentResponse | None:
    """The deployment as the server knows it; None before any of its workers has polled."""
    try:
        return await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def current_build_id(client: Client, deployment: str) -> str | None:
    described = await describe(client, deployment)
    if described is None:
        return None
    routing = described.worker_deployment_info.routing_config
    return routing.current_deployment_version.build_id or None


async def set_current(client: Client, deployment: str, build_id: str, timeout: float = 60.0) -> None:
    """Make `build_id` the version that gets new work. Its workers must have polled first (the
    server learns a version from its pollers): this waits for that, up to `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=client.namespace, deployment_name=deployment, build_id=build_id, identity="ops.deploy"
                )
            )
            return
        except RPCError as exc:
            retryable = exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
            if not retryable or loop.time() > deadline:
                raise
        await asyncio.sleep(0.5)


async def adopt_if_none_current(client: Client, deployment: str, build_id: str) -> bool:
    """The very first worker of a deployment makes itself current (nothing would run
    otherwise); later versions become current only by `set-current`, the deploy's decision."""
    if await current_build_id(client, deployment) is not None:
        return False
    await set_current(client, deployment, build_id)
    return True


async def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.deploy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build-id", help="print this checkout's build id")
    commands.add_parser("describe", help="the deployment's current version and its versions")
    current = commands.add_parser("set-current", help="make a version current (its workers must be running)")
    current.add_argument("build_id")
    args = parser.parse_args(argv)
    if args.command == "build-id":
        print(code_build_id())
        return 0

    from infra.temporal import connect

    settings = get_settings()
    deployment = settings.worker_deployment
    if not deployment:
        print("INSCRIPTIONS_WORKER_DEPLOYMENT is not set: workers are not versioned.", file=sys.stderr)
        return 2
    client = await connect(settings)
    if args.command == "set-current":
        await set_current(client, deployment, args.build_id)
        print(f"{deployment}: current version is now {args.build_id}")
        return 0
    described = await describe(client, deployment)
    if described is None:
        print(f"{deployment}: no worker of this deployment has polled yet")
        return 1
    info = described.worker_deployment_info
    print(f"{deployment}: current {info.routing_config.current_deployment_version.build_id or '(none)'}")
    for summary in info.version_summaries:
        # DRAINING while pinned workflows (batches) still run on it; DRAINED once none does:
        # its workers can then be stopped.
        status = WorkerDeploymentVersionStatus.Name(summary.status).removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_")
        print(f"  {summary.deployment_version.build_id}  {status.lower()}")
    return 0


if __name__ == "__main__":
    exit_after_temporal(asyncio.run(_main(sys.argv[1:])))
