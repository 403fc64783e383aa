"""Run the whole product on this machine: Temporal dev server, mail sink, worker, web.

`python -m devtools.run_local` (through `scripts/dev.sh`). Everything listens on 127.0.0.1; the
Temporal server keeps its SQLite file and the app its database, files and mail under `data/`,
so stopping (Ctrl-C) and starting again keeps every dossier and its timers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools import temporal_binary
from devtools.demo import DEMO_STAFF_LOGIN, ensure_demo_administrator, ensure_demo_campaign
from infra.database import Database
from infra.settings import PROJECT_ROOT, default_web_processes, get_settings
from workflows import names


@dataclass
class Ports:
    temporal: int = int(os.environ.get("TEMPORAL_PORT", 7233))
    temporal_ui: int = int(os.environ.get("TEMPORAL_UI_PORT", 8233))
    web: int = int(os.environ.get("WEB_PORT", 8000))
    smtp: int = int(os.environ.get("SMTP_PORT", 1025))
    mailbox: int = int(os.environ.get("MAILBOX_PORT", 8025))
    worker_metrics: int = int(os.environ.get("WORKER_METRICS_PORT", 9464))


# How the web app is served, by the run command and the benchmarks alike. Idle keep-alive
# connections stay open 75 s (uvicorn's default is 5 s): a browser that took longer than 5 s to
# fill a form would send it on a connection the server is closing, and on deadline night a
# dropped POST is a click that never reached us.
#
# Reverse proxies: the app itself reads what a trusted proxy says (the client's address in
# X-Forwarded-For for the rate limits, the instant it received the request in X-Request-Start for
# the deadlines; `web.middleware.ReceiptMiddleware`), believing it only from the peers in
# FORWARDED_ALLOW_IPS (uvicorn's own variable: comma-separated addresses or networks), read by the
# app's settings. So uvicorn's own handling is off (`--no-proxy-headers`; on, it would trust
# 127.0.0.1 by default and hide the peer from the app). Nothing fronts the local web app, so by
# default no peer is trusted; set FORWARDED_ALLOW_IPS to the proxy's address when one is put in
# front. Never "*": every client could then spoof its address and its time of receipt.
WEB_SERVER_OPTIONS = ["--timeout-keep-alive", "75", "--log-level", "info", "--no-proxy-headers"]


def web_command(port: int, options: Sequence[str] = WEB_SERVER_OPTIONS) -> list[str]:
    """The command line of one web process (uvicorn serving `web.app:app` on 127.0.0.1:`port`):
    the run command, the production-like stack, the benches and the tests start it this way."""
    return [sys.executable, "-m", "uvicorn", "web.app:app", "--host", "127.0.0.1", "--port", str(port), *options]


def web_environment(env: Mapping[str, str], processes: int, metrics_dir: Path) -> dict[str, str]:
    """The environment of `processes` web processes sharing one port (uvicorn reads
    WEB_CONCURRENCY as its `--workers`; the app reads it to share the cores, `web.security`).
    Several processes pool their Prometheus figures in `metrics_dir`, emptied here (figures left
    by an earlier run would be added in): `/metrics` then serves the sum, whichever answers."""
    environ = {**env, "WEB_CONCURRENCY": str(processes)}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if processes > 1:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return environ


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, what: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None:
            raise SystemExit(f"{what} exited (code {process.returncode}) before listening on port {port}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not listen on port {port} within {timeout:.0f} s")
        time.sleep(0.2)


def main() -> int:
    ports = Ports()
    settings = get_settings()
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    all_ports = (ports.temporal, ports.temporal_ui, ports.web, ports.smtp, ports.mailbox, ports.worker_metrics)
    busy = [p for p in all_ports if port_open(p)]
    if busy:
        print(
            f"Ports already in use: {busy}. Is another instance running? Set TEMPORAL_PORT, "
            "TEMPORAL_UI_PORT, WEB_PORT, SMTP_PORT, MAILBOX_PORT or WORKER_METRICS_PORT to use others.",
            file=sys.stderr,
        )
        return 1

    binary = temporal_binary.ensure()
    env = {
        **os.environ,
        "INSCRIPTIONS_DATA_DIR": str(data),
        "INSCRIPTIONS_TEMPORAL_ADDRESS": f"127.0.0.1:{ports.temporal}",
        "INSCRIPTIONS_TEMPORAL_UI_URL": f"http://127.0.0.1:{ports.temporal_ui}",
        "INSCRIPTIONS_SMTP_HOST": "127.0.0.1",
        "INSCRIPTIONS_SMTP_PORT": str(ports.smtp),
        "INSCRIPTIONS_PUBLIC_URL": f"http://127.0.0.1:{ports.web}",
        "INSCRIPTIONS_WORKER_METRICS_ADDRESS": f"127.0.0.1:{ports.worker_metrics}",
        # Versioned like production (its build id from the code); in dev it makes itself current.
        "INSCRIPTIONS_WORKER_DEPLOYMENT": os.environ.get("INSCRIPTIONS_WORKER_DEPLOYMENT", "inscriptions"),
        "PYTHONUNBUFFERED": "1",
    }
    python = sys.executable
    children: list[tuple[str, subprocess.Popen]] = []

    def spawn(name: str, args: list[str], environ: Mapping[str, str] = env) -> subprocess.Popen:
        # Own process group, so Ctrl-C in the terminal reaches only this supervisor, which then
        # stops the children in order.
        proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=environ, start_new_session=True)
        children.append((name, proc))
        return proc

    def stop_all() -> None:
        for name, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if name != "Temporal" else signal.SIGTERM)
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in 15 s; killing it", file=sys.stderr)
                proc.kill()

    stopping = False

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("Starting the Temporal dev server...", flush=True)
        temporal = spawn(
            "Temporal",
            [
                str(binary),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(ports.temporal),
                "--ui-port",
                str(ports.temporal_ui),
                "--db-filename",
                str(data / "temporal.db"),
                "--log-level",
                "warn",
                *names.dev_server_search_attribute_flags(),
                "--dynamic-config-value",
                "system.forceSearchAttributesCacheRefreshOnRead=true",
            ],
        )
        wait_for_port(ports.temporal, "The Temporal dev server", temporal)

        database = Database(settings.database_url)

        async def prepare() -> tuple[bool, str | None]:
            await database.migrate()  # the migrate step, before the worker and the web start
            created = await ensure_demo_campaign(database)
            staff_password = await ensure_demo_administrator(database)
            await database.dispose()
            return created, staff_password

        campaign_created, staff_password = asyncio.run(prepare())
        if campaign_created:
            print("Created the demonstration campaign « Rédacteur territorial ».", flush=True)
        if staff_password:
            print(
                f"Created the staff administrator « {DEMO_STAFF_LOGIN} », password: {staff_password}\n"
                "  (shown once; change it with: .venv/bin/python -m ops.staff_cli set-password admin)",
                flush=True,
            )

        mail = spawn(
            "Mail sink",
            [
                python,
                "-m",
                "devtools.mail_sink",
                "--maildir",
                str(data / "mail"),
                "--smtp-port",
                str(ports.smtp),
                "--http-port",
                str(ports.mailbox),
            ],
        )
        wait_for_port(ports.smtp, "The mail sink", mail)
        spawn("Worker", [python, "worker.py"])
        web_count = default_web_processes()
        web = spawn("Web", web_command(ports.web), web_environment(env, web_count, data / "web-metrics"))
        wait_for_port(ports.web, "The web app", web)
        print(
            "\n"
            "inscriptions is running:\n"
            f"  Candidate space       http://127.0.0.1:{ports.web}/\n"
            f"  Staff back office     http://127.0.0.1:{ports.web}/staff/connexion\n"
            f"  API documentation     http://127.0.0.1:{ports.web}/docs\n"
            f"  Temporal Web UI       http://127.0.0.1:{ports.temporal_ui}/namespaces/default/workflows\n"
            f"  Dev mailbox           http://127.0.0.1:{ports.mailbox}/\n"
            f"  Metrics (Prometheus)  web http://127.0.0.1:{ports.web}/metrics, "
            f"worker http://127.0.0.1:{ports.worker_metrics}/metrics\n"
            f"  Web processes         {web_count} on port {ports.web} (WEB_CONCURRENCY)\n"
            f"  Data (kept across runs) {data}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    print(
                        f"{name} stopped unexpectedly (exit {proc.returncode}); stopping everything.", file=sys.stderr
                    )
                    return 1
            time.sleep(0.5)
        print("\nStopping...", flush=True)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
