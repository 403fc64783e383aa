"""A throwaway PostgreSQL cluster in a directory of ours: for the tests and the production-like
stack, never the machine's system service.

Debian's `postgresql` package provides the server binaries (in /usr/lib/postgresql/<v>/bin, not
on PATH); `scripts/test.sh` and `scripts/prod_stack.sh` install it when missing. The cluster is
made with `initdb` in the given directory and run with `pg_ctl` on 127.0.0.1 at the given port
(with its socket in the directory too). PostgreSQL refuses to run as root: as root, the
directory is handed to the `postgres` user (created by the package) and the binaries run as it.

`python -m devtools.postgres --check` exits 1 when no server binaries are found.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SEARCH = ("/usr/lib/postgresql/*/bin",)


class PostgresNotFound(RuntimeError):
    pass


def bindir() -> Path:
    """The newest installed server's binaries ($PG_BINDIR first, then Debian's layout, then PATH)."""
    explicit = os.environ.get("PG_BINDIR")
    candidates = [Path(explicit)] if explicit else []
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    candidates += reversed(found)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresNotFound("PostgreSQL server binaries not found: install Debian's `postgresql` package")


def _as_owner() -> list[str]:
    """Prefix running a command as the cluster's owner (the `postgres` user when we are root)."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Cluster:
    directory: Path
    port: int
    user: str = "inscriptions"
    password: str = "inscriptions"  # the cluster listens on 127.0.0.1 only

    @property
    def data(self) -> Path:
        return self.directory / "pgdata"

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(
            [*_as_owner(), *args], capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def init(self) -> None:
        """Create the cluster (once): a superuser with a password, scram authentication."""
        if (self.data / "PG_VERSION").exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        pwfile = self.directory / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.directory, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        bin_ = bindir()
        self._run(
            str(bin_ / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            self.user,
            "--pwfile",
            str(pwfile),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )
        pwfile.unlink()

    def start(self, *, durable: bool = True, max_connections: int = 200) -> None:
        """Start the server and wait until it accepts connections. `durable=False` (tests) turns
        fsync off: a throwaway cluster need not survive a power cut, and it is much faster."""
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.directory}",
            f"-c max_connections={max_connections}",
        ]
        if not durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            str(bindir() / "pg_ctl"),
            "start",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--wait",
            "--timeout",
            "60",
            "-o",
            " ".join(options),
        )

    def stop(self, mode: str = "fast") -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        self._run(str(bindir() / "pg_ctl"), "stop", "--pgdata", str(self.data), "--mode", mode, "--wait")

    def client_args(self, program: str, database: str) -> list[str]:
        """A client program (psql, pg_dump, pg_restore…) pointed at this cluster; PGPASSWORD
        (`self.password`) goes in its environment."""
        return [str(bindir() / program), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database]

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [*self.client_args("psql", database), "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": self.password},
            timeout=60,
        )
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str) -> None:
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip():
            self.psql(f'CREATE DATABASE "{name}"')


def throwaway(prefix: str, port: int, *, durable: bool = False) -> Cluster:
    """A new cluster in a fresh directory under the system's temp dir (reachable by `postgres`
    when we are root, unlike pytest's private temp dirs), started."""
    import tempfile

    cluster = Cluster(Path(tempfile.mkdtemp(prefix=prefix)), port)
    cluster.init()
    cluster.start(durable=durable)
    return cluster


def wait_accepting(cluster: Cluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            cluster.psql("SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        try:
            print(bindir())
        except PostgresNotFound as error:
            print(error, file=sys.stderr)
            sys.exit(1)
