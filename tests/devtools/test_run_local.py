"""The web server as the run command starts it (`web_command`): the client address the
rate limits count comes from X-Forwarded-For only when a trusted proxy sends it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devtools.run_local import web_command, web_environment
from infra.database import Database  # the fixture migrates the database the server checks
from infra.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port


@asynccontextmanager
async def web_server(settings: Settings, forwarded_allow_ips: str | None, processes: int = 1) -> AsyncIterator[str]:
    """uvicorn with the run command's options on the test's database and Temporal, with
    `processes` web processes sharing its port as the run command sets them; its base URL.
    `forwarded_allow_ips` None: the variable unset, as the run command leaves it by default."""
    port = free_port()
    env = {
        **os.environ,
        "INSCRIPTIONS_ENVIRONMENT": "test",
        "INSCRIPTIONS_DATA_DIR": str(settings.data_dir),
        "INSCRIPTIONS_DATABASE_URL": settings.database_url,
        "INSCRIPTIONS_TEMPORAL_ADDRESS": settings.temporal_address,
        "INSCRIPTIONS_TASK_QUEUE": settings.task_queue,
        "INSCRIPTIONS_SMTP_PORT": str(settings.smtp_port),
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    if forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips
    env = web_environment(env, processes, settings.data_dir / f"web-metrics-{port}")
    log_path = settings.data_dir / f"uvicorn-{port}.log"
    log = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        *web_command(port),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(600):  # up to 120 s on a busy host for the app to connect and listen
                if proc.returncode is not None:
                    raise AssertionError(f"the web server exited: {log_path.read_text()[-2000:]}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise AssertionError("the web server did not answer within 120 s")
        yield base
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
        log.close()


async def wrong_login(http: httpx.AsyncClient, number: str, forwarded_for: str) -> int:
    body = {"dossier_number": number, "password": "Devine-0000-xyz"}
    return (await http.post("/api/session", json=body, headers={"X-Forwarded-For": forwarded_for})).status_code


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(
    settings: Settings, database: Database
) -> None:
    number = f"ZZ{uuid.uuid4().hex[:8].upper()}-00001"
    async with web_server(settings, forwarded_allow_ips=None) as base, httpx.AsyncClient(base_url=base) as http:
        # A new made-up address on every try: all count against the real peer, 127.0.0.1.
        answers = [await wrong_login(http, number, f"192.0.2.{n}") for n in range(1, 7)]
    assert answers == [401] * 5 + [429]


async def test_a_trusted_proxy_gives_each_client_its_own_count(settings: Settings, database: Database) -> None:
    number = f"ZZ{uuid.uuid4().hex[:8].upper()}-00001"
    async with web_server(settings, forwarded_allow_ips="127.0.0.1") as base, httpx.AsyncClient(base_url=base) as http:
        first = [await wrong_login(http, number, "192.0.2.10") for _ in range(6)]
        # Another candidate behind the same proxy is not locked out by the first one.
        other = await wrong_login(http, number, "192.0.2.11")
    assert first == [401] * 5 + [429]
    assert other == 401


def logins_counted(metrics: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "inscriptions_logins_total" and sample.labels.get("outcome") == "refused"
    )


async def test_several_web_processes_serve_one_port_and_metrics_add_them_up(
    settings: Settings, database: Database
) -> None:
    number = f"ZZ{uuid.uuid4().hex[:8].upper()}-00001"

    async def refused(n: int) -> int:
        async with httpx.AsyncClient(base_url=base) as http:  # a connection of its own
            return await wrong_login(http, number, f"192.0.2.{20 + n}")

    async with web_server(settings, forwarded_allow_ips="127.0.0.1", processes=2) as base:
        # At once on 12 connections: both processes take some.
        answers = await asyncio.gather(*(refused(n) for n in range(12)))
        async with httpx.AsyncClient(base_url=base) as http:
            figures = [(await http.get("/metrics")).text for _ in range(4)]
    assert answers == [401] * 12
    # Both processes keep their figures in the shared folder...
    folder = settings.data_dir / f"web-metrics-{base.rsplit(':', 1)[1]}"
    assert len({path.stem.rsplit("_", 1)[-1] for path in folder.glob("*.db")}) == 2
    # ... and whichever answers /metrics counts every process's refused logins.
    assert [logins_counted(f) for f in figures] == [12.0] * 4
