"""The production topology on one machine, without Docker: `scripts/prod_stack.sh` runs this.

    PostgreSQL cluster (initdb in <dir>/postgres, its own port)
      ├─ databases temporal + temporal_visibility (role temporal), schemas by temporal-sql-tool
      └─ database inscriptions (role inscriptions), schema by the migrate step (Alembic)
    Temporal server 1.29 (`go.temporal.io/server`, postgres12 persistence, SQL advanced
      visibility), namespace `default`, the search attributes of workflows/names.py
    mail sink (SMTP + mailbox page)
    2 workers (`python worker.py`) and 2 web processes (uvicorn, two ports)
      sharing the uploaded and generated files in <dir>/app/files

Nothing is shared through a process's memory: sessions and links are signed, the state is in
PostgreSQL and Temporal. `--dir` keeps the stack (databases, files, mail) for the next start;
without it a throwaway directory is used. Passwords and the secret key are generated once into
<dir>/stack.env (mode 600). `--smoke` runs a candidate's journey across the two web processes,
prints what happened and stops. Ports: PROD_STACK_PORT_BASE (default 17000) + fixed offsets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mailbox
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from pathlib import Path

import httpx

from devtools import postgres, temporal_binary, temporal_server
from devtools.run_local import port_open, web_command
from infra.settings import PROJECT_ROOT
from workflows import names

NAMESPACE = "default"
RETENTION = "90d"  # closed dossiers' histories stay readable (operator pages) this long


@dataclass(frozen=True)
class Ports:
    base: int = int(os.environ.get("PROD_STACK_PORT_BASE", 17000))

    @property
    def postgres(self) -> int:
        return self.base + 432

    @property
    def temporal(self) -> int:  # frontend gRPC; history, matching, worker and membership follow
        return self.base + 233

    @property
    def webs(self) -> tuple[int, int]:
        return self.base + 800, self.base + 801

    @property
    def smtp(self) -> int:
        return self.base + 25

    @property
    def mailbox(self) -> int:
        return self.base + 825

    def all(self) -> list[int]:
        t = self.temporal
        temporal = [t, t + 1, t + 2, t + 6, t + 10, t + 700, t + 701, t + 702, t + 706]
        return [self.postgres, *temporal, *self.webs, self.smtp, self.mailbox]


TEMPORAL_CONFIG = """\
# Rendered by devtools/prod_stack.py: one Temporal server process (all four services) on
# PostgreSQL; visibility in its own database (SQL advanced visibility, custom search attributes).
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4   # fixed for the cluster's life; 4 suits one host and tens of thousands of dossiers
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:{pg}"
        connectProtocol: tcp
        user: temporal
        password: "{password}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "127.0.0.1:{pg}"
        connectProtocol: tcp
        user: temporal
        password: "{password}"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc: {{grpcPort: {frontend}, membershipPort: {m_frontend}, bindOnLocalHost: true, httpPort: {http}}}
  history:
    rpc: {{grpcPort: {history}, membershipPort: {m_history}, bindOnLocalHost: true}}
  matching:
    rpc: {{grpcPort: {matching}, membershipPort: {m_matching}, bindOnLocalHost: true}}
  worker:
    rpc: {{grpcPort: {worker}, membershipPort: {m_worker}, bindOnLocalHost: true}}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:{frontend}"
dcRedirectionPolicy:
  policy: noop
"""


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Stack:
    directory: Path
    ports: Ports = field(default_factory=Ports)
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.directory = self.directory.resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        # PostgreSQL runs as `postgres` when we are root: it must traverse to its own subdirectory
        # (which it owns); list nothing else here.
        self.directory.chmod(0o711)
        self.logs = self.directory / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.secrets = self._secrets()
        self.cluster = postgres.Cluster(
            self.directory / "postgres", self.ports.postgres, user="admin", password=self.secrets["ADMIN_PASSWORD"]
        )
        self.temporal_cli = temporal_binary.ensure()
        self.temporal = temporal_server.ensure()

    # ------------------------------------------------------------------ configuration
    def _secrets(self) -> dict[str, str]:
        path = self.directory / "stack.env"
        if not path.exists():
            values = {
                "ADMIN_PASSWORD": secrets.token_urlsafe(18),
                "TEMPORAL_PASSWORD": secrets.token_urlsafe(18),
                "APP_PASSWORD": secrets.token_urlsafe(18),
                "SECRET_KEY": secrets.token_urlsafe(48),
            }
            path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
            path.chmod(0o600)
        return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)

    @property
    def files_dir(self) -> Path:
        return self.directory / "app" / "files"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://inscriptions:{self.secrets['APP_PASSWORD']}@127.0.0.1:{self.ports.postgres}/inscriptions"

    def app_env(self) -> dict[str, str]:
        """The INSCRIPTIONS_* environment every app process gets (the same as docker-compose.yml's).
        The public URL (links in emails) is web 1's, standing for the load balancer's address."""
        return {
            **os.environ,
            "INSCRIPTIONS_ENVIRONMENT": "production",
            "INSCRIPTIONS_SECRET_KEY": self.secrets["SECRET_KEY"],
            "INSCRIPTIONS_DATABASE_URL": self.database_url,
            "INSCRIPTIONS_DATA_DIR": str(self.directory / "app"),
            "INSCRIPTIONS_TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports.temporal}",
            "INSCRIPTIONS_TEMPORAL_NAMESPACE": NAMESPACE,
            "INSCRIPTIONS_SMTP_HOST": "127.0.0.1",
            "INSCRIPTIONS_SMTP_PORT": str(self.ports.smtp),
            "INSCRIPTIONS_PUBLIC_URL": f"http://127.0.0.1:{self.ports.webs[0]}",
            "PYTHONUNBUFFERED": "1",
        }

    # ------------------------------------------------------------------ processes
    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env or os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((name, proc))
        return proc

    def wait_port(self, port: int, name: str, proc: subprocess.Popen, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not port_open(port):
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited ({proc.returncode}); see {self.logs / (name + '.log')}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} not listening on {port} after {timeout:.0f} s; see {self.logs}")
            time.sleep(0.2)

    def process(self, name: str) -> subprocess.Popen:
        return next(proc for n, proc in self.children if n == name)

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        for n, proc in list(self.children):
            if n != name:
                continue
            if proc.poll() is None:
                proc.send_signal(sig)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.children.remove((n, proc))

    def stop(self) -> None:
        for name, _ in reversed(list(self.children)):
            self.stop_process(name, signal.SIGINT if name.startswith("web") else signal.SIGTERM)
        self.cluster.stop()

    # ------------------------------------------------------------------ parts
    def start_postgres(self) -> None:
        fresh = not (self.cluster.data / "PG_VERSION").exists()
        self.cluster.init()
        self.cluster.start(durable=True)
        if fresh:
            s = self.secrets
            self.cluster.psql(f"CREATE ROLE temporal LOGIN PASSWORD '{s['TEMPORAL_PASSWORD']}'")
            self.cluster.psql(f"CREATE ROLE inscriptions LOGIN PASSWORD '{s['APP_PASSWORD']}'")
            for database, owner in (
                ("temporal", "temporal"),
                ("temporal_visibility", "temporal"),
                ("inscriptions", "inscriptions"),
            ):
                self.cluster.psql(f'CREATE DATABASE "{database}" OWNER {owner}')

    def setup_temporal_schema(self) -> None:
        """What Temporal's admin-tools image does: temporal-sql-tool setup (version table), then
        update to the newest versioned schema shipped with the server. Safe to run again."""
        for database, subdir in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
            base = [
                str(self.temporal.sql_tool),
                "--plugin", "postgres12",
                "--ep", "127.0.0.1",
                "-p", str(self.ports.postgres),
                "-u", "temporal",
                "--pw", self.secrets["TEMPORAL_PASSWORD"],
                "--db", database,
            ]  # fmt: skip
            present = self.cluster.psql("SELECT to_regclass('public.schema_version') IS NOT NULL", database).strip()
            if present != "t":
                subprocess.run([*base, "setup-schema", "-v", "0.0"], check=True, capture_output=True)
            subprocess.run(
                [*base, "update-schema", "-d", str(self.temporal.schema / subdir / "versioned")],
                check=True,
                capture_output=True,
            )

    def write_temporal_config(self) -> Path:
        root = self.directory / "temporal"
        (root / "config").mkdir(parents=True, exist_ok=True)
        t = self.ports.temporal
        (root / "config" / "production.yaml").write_text(
            TEMPORAL_CONFIG.format(
                pg=self.ports.postgres,
                password=self.secrets["TEMPORAL_PASSWORD"],
                frontend=t,
                http=t + 10,
                history=t + 1,
                matching=t + 2,
                worker=t + 6,
                m_frontend=t + 700,
                m_history=t + 701,
                m_matching=t + 702,
                m_worker=t + 706,
            )
        )
        return root

    def start_temporal(self) -> None:
        root = self.write_temporal_config()
        args = [str(self.temporal.server), "--root", str(root), "--config", "config", "--env", "production"]
        proc = self.spawn("temporal", [*args, "--allow-no-auth", "start"])
        self.wait_port(self.ports.temporal, "temporal", proc)
        self._cli_until_ok(["operator", "cluster", "health"], timeout=120)

    def _cli(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.temporal_cli), *args, "--address", f"127.0.0.1:{self.ports.temporal}"],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def _cli_until_ok(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        deadline = time.monotonic() + timeout
        while True:
            done = self._cli(args)
            if done.returncode == 0:
                return done
            if time.monotonic() > deadline:
                raise SystemExit(f"temporal {' '.join(args)}: {done.stderr.strip()}")
            time.sleep(1)

    def register_namespace_and_search_attributes(self) -> bool:
        """The `default` namespace and our search attributes, with the operator commands; True
        when something was created (the server is then restarted, so that every service's
        caches know them before the first workflow uses them)."""
        created = False
        if self._cli(["operator", "namespace", "describe", "--namespace", NAMESPACE]).returncode != 0:
            self._cli_until_ok(["operator", "namespace", "create", "--namespace", NAMESPACE, "--retention", RETENTION])
            created = True
        listed = self._cli_until_ok(
            ["operator", "search-attribute", "list", "--namespace", NAMESPACE, "--output", "json"], timeout=60
        ).stdout
        for key in names.SEARCH_ATTRIBUTES:
            if f'"{key.name}"' in listed:
                continue
            kind = names._DEV_SERVER_TYPES[key.indexed_value_type.name]  # the CLI's type names
            self._cli_until_ok(
                ["operator", "search-attribute", "create", "--namespace", NAMESPACE, "--name", key.name, "--type", kind]
            )
            created = True
        return created

    def migrate(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "ops.migrate"],
            cwd=PROJECT_ROOT,
            env=self.app_env(),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"migrate step failed:\n{done.stdout}{done.stderr}")
        say(f"  {done.stdout.strip()}")

    def demo(self) -> str | None:
        """The demonstration campaign and an administrator, as `scripts/dev.sh` makes them."""
        code = (
            "import asyncio, os\n"
            "from devtools.demo import ensure_demo_administrator, ensure_demo_campaign\n"
            "from infra.database import Database\n"
            "async def main():\n"
            "    db = Database(os.environ['INSCRIPTIONS_DATABASE_URL'])\n"
            "    await ensure_demo_campaign(db)\n"
            "    print(await ensure_demo_administrator(db) or '')\n"
            "    await db.dispose()\n"
            "asyncio.run(main())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env=self.app_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip() or None

    def start_app(self) -> None:
        mail = self.spawn(
            "mail",
            [
                *(sys.executable, "-m", "devtools.mail_sink", "--maildir", str(self.directory / "mail")),
                *("--smtp-port", str(self.ports.smtp), "--http-port", str(self.ports.mailbox)),
            ],
        )
        self.wait_port(self.ports.smtp, "mail", mail)
        for n in (1, 2):
            self.spawn(f"worker{n}", [sys.executable, "worker.py"], self.app_env())
        for n, port in enumerate(self.ports.webs, 1):
            web = self.spawn(
                f"web{n}",
                web_command(port),
                self.app_env(),
            )
            self.wait_port(port, f"web{n}", web)
        for n in (1, 2):
            self.wait_log(f"worker{n}", "Worker polling task queue")

    def wait_log(self, name: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        path = self.logs / f"{name}.log"
        while text not in path.read_text(errors="replace"):
            if self.process(name).poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} not ready; see {path}")
            time.sleep(0.2)

    def start(self, demo: bool = True) -> str | None:
        busy = [p for p in self.ports.all() if port_open(p)]
        if busy:
            raise SystemExit(f"ports already in use: {busy}; set PROD_STACK_PORT_BASE to move them all")
        began = time.monotonic()
        say(f"PostgreSQL on 127.0.0.1:{self.ports.postgres} ({self.cluster.data})")
        self.start_postgres()
        say("Temporal schemas (temporal-sql-tool)")
        self.setup_temporal_schema()
        say(f"Temporal server {temporal_server.SERVER_VERSION} on 127.0.0.1:{self.ports.temporal}")
        self.start_temporal()
        if self.register_namespace_and_search_attributes():
            say("  namespace and search attributes registered; restarting the server to load them")
            self.stop_process("temporal")
            self.start_temporal()
        say("Migrate step (app database)")
        self.migrate()
        password = self.demo() if demo else None
        say("Mail sink, 2 workers, 2 web processes")
        self.start_app()
        say(f"Stack up in {time.monotonic() - began:.0f} s")
        return password

    def banner(self, password: str | None) -> str:
        w1, w2 = self.ports.webs
        lines = [
            "",
            "Production-like stack running:",
            f"  Candidate space (web 1)   http://127.0.0.1:{w1}/",
            f"  Candidate space (web 2)   http://127.0.0.1:{w2}/",
            f"  Staff back office         http://127.0.0.1:{w1}/staff/connexion",
            f"  Mailbox                   http://127.0.0.1:{self.ports.mailbox}/",
            f"  Temporal frontend         127.0.0.1:{self.ports.temporal} (temporal CLI: --address)",
            f"  PostgreSQL                127.0.0.1:{self.ports.postgres} (passwords: {self.directory / 'stack.env'})",
            f"  Shared files              {self.files_dir}",
            f"  Logs                      {self.logs}",
        ]
        if password:
            lines.append(f"  Staff administrator « admin », password: {password} (shown once)")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- smoke journey
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _cookies(response: httpx.Response) -> str:
    """The Set-Cookie pairs as a Cookie header: the stack runs with production settings, whose
    Secure cookies httpx would not send back over plain http (a browser does on 127.0.0.1)."""
    return "; ".join(c.split(";", 1)[0] for c in response.headers.get_list("set-cookie"))


async def smoke(stack: Stack) -> list[str]:
    """A candidate's journey across both web processes; returns what failed (empty: all good)."""
    from devtools.demo import DEMO_ID

    w1, w2 = (f"http://127.0.0.1:{p}" for p in stack.ports.webs)
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=60) as http:
        email = f"smoke.{secrets.token_hex(3)}@example.fr"
        form = {
            "campaign_id": DEMO_ID,
            "route": "externe",
            "civility": "Madame",
            "last_name": "Kerjean",
            "first_name": "Anaïs",
            "birth_date": f"19{secrets.randbelow(30) + 60}-03-14",
            "email": email,
            "address_line1": "3 place du Marché",
            "postal_code": "29000",
            "city": "Quimper",
            "password": "Smoke-Secret-2027",
        }
        created = await http.post(f"{w1}/api/preinscriptions", json=form)
        if created.status_code != 201:
            return [f"pre-registration on web 1: {created.status_code} {created.text[:200]}"]
        number = created.json()["dossier_number"]
        say(f"  web 1: pre-registered {number}")
        login = await http.post(f"{w2}/api/session", json={"dossier_number": number, "password": form["password"]})
        if login.status_code != 200:
            return [f"login on web 2: {login.status_code} {login.text[:200]}"]
        headers = {"cookie": _cookies(login), "x-csrf-token": login.json()["csrf_token"]}
        say("  web 2: logged in")
        dossier = (await http.get(f"{w1}/api/dossier", headers=headers)).json()
        category = dossier["categories"][0]["code"]
        upload = await http.post(
            f"{w2}/api/dossier/pieces",
            headers=headers,
            data={"category": category},
            files={"file": ("piece.pdf", PDF, "application/pdf")},
        )
        if upload.status_code != 201:
            problems.append(f"upload on web 2: {upload.status_code} {upload.text[:200]}")
        else:
            say(f"  web 2: uploaded a PDF ({category}); stored under {stack.files_dir}")
        after = (await http.get(f"{w1}/api/dossier", headers=headers)).json()
        count = next(c["count"] for c in after["categories"] if c["code"] == category)
        say(f"  web 1: dossier « {after['status_label']} », {count} file(s) in {category}")
        if count != 1:
            problems.append(f"web 1 sees {count} file(s) uploaded through web 2")
        ref = _stored_ref(stack, number)
        if ref:
            download = await http.get(f"{w1}/espace/pieces/{ref}", headers=headers)
            ok = download.status_code == 200 and download.content == PDF
            say(f"  web 1: downloads the file web 2 stored: {'same bytes' if ok else download.status_code}")
            if not ok:
                problems.append("web 1 could not serve the file uploaded through web 2")
        validated = await http.post(f"{w1}/api/dossier/validation", headers=headers, json={"sworn_statement": True})
        label = validated.json().get("status_label", validated.text[:120])
        say(f"  web 1: validation -> {validated.status_code} {label}")
        deadline = time.monotonic() + 60
        subjects: list[str] = []
        while time.monotonic() < deadline and len(subjects) < 2:
            subjects = [
                subject
                for m in mailbox.Maildir(stack.directory / "mail", create=False)
                if number in (subject := str(make_header(decode_header(m["subject"]))))
            ]
            await asyncio.sleep(0.5)
        for subject in subjects:
            say(f"  mail: {subject}")
        if not subjects:
            problems.append("no mail reached the sink")
    return problems


def _stored_ref(stack: Stack, number: str) -> str | None:
    row = stack.cluster.psql(f"SELECT ref FROM files WHERE dossier_number = '{number}' LIMIT 1", "inscriptions")
    return row.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="keep the stack here (default: a new throwaway directory)")
    parser.add_argument(
        "--smoke", action="store_true", help="run a candidate's journey across both web processes, then stop"
    )
    parser.add_argument("--no-demo", action="store_true", help="no demonstration campaign nor administrator")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="inscriptions-prod-stack-"))
    stack = Stack(directory)
    stopping = False
    failed = True

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        password = stack.start(demo=not args.no_demo)
        say(stack.banner(password))
        if args.smoke:
            say("Smoke journey:")
            problems = asyncio.run(smoke(stack))
            say(json.dumps({"problems": problems}, ensure_ascii=False))
            failed = bool(problems)
            return 1 if problems else 0
        say("Press Ctrl-C to stop (the data stays in the directory above when --dir was given).")
        while not stopping:
            for name, proc in stack.children:
                if proc.poll() is not None:
                    say(f"{name} exited with code {proc.returncode}; see {stack.logs / (name + '.log')}; stopping")
                    stopping = True
            time.sleep(0.5)
        failed = False
        return 0
    finally:
        say("Stopping...")
        stack.stop()
        if args.dir is None and not failed:
            shutil.rmtree(directory, ignore_errors=True)  # throwaway; kept (with its logs) after a failure
        elif args.dir is None:
            say(f"Kept for inspection: {directory}")


if __name__ == "__main__":
    sys.exit(main())
