"""Find a `temporal` CLI binary (the dev server), building it with Go when none is found.

Order: $TEMPORAL_BINARY, then `temporal` on PATH, then the project's cache outside the repo
(${XDG_CACHE_HOME:-~/.cache}/inscriptions/bin). When none is there and Go is installed, it runs
`go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into the cache (later CLI versions carry
a `replace` directive that `go install` refuses), so later clones on the machine reuse it.

`python -m devtools.temporal_binary` prints the path, building if needed; exit 1 with what to
install when nothing works. The binary is never written inside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CLI_MODULE = "github.com/temporalio/cli/cmd/temporal"
CLI_VERSION = "v1.5.1"


class TemporalNotFound(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inscriptions" / "bin"


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find() -> Path | None:
    explicit = os.environ.get("TEMPORAL_BINARY")
    if explicit:
        if not _usable(Path(explicit)):
            raise TemporalNotFound(f"TEMPORAL_BINARY={explicit} is not an executable file")
        return Path(explicit)
    on_path = shutil.which("temporal")
    if on_path:
        return Path(on_path)
    cached = cache_dir() / "temporal"
    return cached if _usable(cached) else None


def build_with_go(log=print) -> Path:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if _usable(Path("/usr/local/go/bin/go")) else None)
    if go is None:
        raise TemporalNotFound(
            "No Temporal CLI found and Go is not installed to build one.\n"
            "Install one of:\n"
            "  - the Temporal CLI (https://docs.temporal.io/cli), then set TEMPORAL_BINARY or put it on PATH;\n"
            f"  - Go 1.23+, and this setup builds it ({CLI_MODULE}@{CLI_VERSION})."
        )
    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    log(f"Building the Temporal CLI {CLI_VERSION} with Go into {target} (first time only, a few minutes)...")
    started = time.monotonic()
    env = {**os.environ, "GOBIN": str(target), "GOFLAGS": "-mod=mod"}
    result = subprocess.run([go, "install", f"{CLI_MODULE}@{CLI_VERSION}"], env=env)
    binary = target / "temporal"
    if result.returncode != 0 or not _usable(binary):
        raise TemporalNotFound(
            f"`go install {CLI_MODULE}@{CLI_VERSION}` failed (exit {result.returncode}); "
            "check that the Go module proxy is reachable (GOPROXY)."
        )
    log(f"Temporal CLI built in {time.monotonic() - started:.0f} s: {binary}")
    return binary


def ensure(log=print) -> Path:
    return find() or build_with_go(log)


def main() -> int:
    try:
        path = ensure(log=lambda msg: print(msg, file=sys.stderr))
    except TemporalNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
