"""The Temporal server (not the dev server) and its SQL schema tool, built once with Go.

The production-like stack (`devtools/prod_stack.py`) runs `go.temporal.io/server` at the dev
server's version (the CLI v1.5.1 embeds server 1.29): `go install` of its `cmd/server` and
`cmd/tools/sql` (temporal-sql-tool) into the cache ${XDG_CACHE_HOME:-~/.cache}/inscriptions/
server-bin, outside the repository, so later clones reuse it (about 10 minutes on 2 busy
cores). The PostgreSQL schema files come from the same module in Go's module cache
(`go env GOMODCACHE`), fetched with `go mod download` when missing.

`python -m devtools.temporal_server` builds what is missing and prints the three paths.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.temporal_binary import cache_dir as cli_cache_dir

SERVER_MODULE = "go.temporal.io/server"
SERVER_VERSION = "v1.29.1"
PACKAGES = {"server": f"{SERVER_MODULE}/cmd/server", "sql": f"{SERVER_MODULE}/cmd/tools/sql"}


class TemporalServerNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class TemporalServer:
    server: Path  # `server start` (frontend, history, matching, worker in one process)
    sql_tool: Path  # temporal-sql-tool
    schema: Path  # .../schema/postgresql/v12 (temporal/ and visibility/, each with versioned/)


def cache_dir() -> Path:
    return cli_cache_dir().parent / "server-bin"


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if go is None:
        raise TemporalServerNotFound(
            f"The Temporal server is built with Go ({SERVER_MODULE}@{SERVER_VERSION}) and Go is not installed: "
            "install Go 1.23+ (Debian: golang-go, or the official tarball)."
        )
    return go


def _binaries() -> tuple[Path, Path] | None:
    server, sql = cache_dir() / "server", cache_dir() / "sql"
    usable = all(p.is_file() and os.access(p, os.X_OK) for p in (server, sql))
    return (server, sql) if usable else None


def build(log=print) -> tuple[Path, Path]:
    go = _go()
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    log(f"Building the Temporal server {SERVER_VERSION} and its SQL tool with Go into {target} (once, ~10 min)...")
    started = time.monotonic()
    done = subprocess.run(
        [go, "install", *(f"{package}@{SERVER_VERSION}" for package in PACKAGES.values())],
        env={**os.environ, "GOBIN": str(target)},
    )
    built = _binaries()
    if done.returncode or built is None:
        raise TemporalServerNotFound(f"`go install` of the Temporal server failed (exit {done.returncode})")
    log(f"Temporal server built in {time.monotonic() - started:.0f} s")
    return built


def schema_dir(log=print) -> Path:
    go = _go()
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    schema = Path(modcache) / f"{SERVER_MODULE}@{SERVER_VERSION}" / "schema" / "postgresql" / "v12"
    if not schema.is_dir():
        log(f"Fetching {SERVER_MODULE}@{SERVER_VERSION} into Go's module cache for its schema files...")
        subprocess.run([go, "mod", "download", f"{SERVER_MODULE}@{SERVER_VERSION}"], check=True)
    if not (schema / "temporal" / "versioned").is_dir():
        raise TemporalServerNotFound(f"no PostgreSQL schema in {schema}")
    return schema


def ensure(log=print) -> TemporalServer:
    server, sql = _binaries() or build(log)
    return TemporalServer(server=server, sql_tool=sql, schema=schema_dir(log))


def main() -> int:
    try:
        found = ensure(log=lambda message: print(message, file=sys.stderr))
    except (TemporalServerNotFound, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{found.server}\n{found.sql_tool}\n{found.schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
