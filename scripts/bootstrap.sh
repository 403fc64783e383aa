# Sourced by scripts/dev.sh and scripts/test.sh: everything a fresh machine needs, idempotent.
#  - a virtual environment in .venv with the project (editable), its dev dependencies and the
#    PostgreSQL driver (the tests run on PostgreSQL too) at exactly
#    the versions of uv.lock, installed by uv (itself locked there); re-synced when uv.lock or
#    pyproject.toml changes. After editing dependencies in pyproject.toml, run `.venv/bin/uv lock`
#    and commit uv.lock: an out-of-date lock stops here instead of installing something untested;
#  - a Temporal CLI (dev server): $TEMPORAL_BINARY, `temporal` on PATH, or built once with Go
#    into ~/.cache/inscriptions/bin (never inside the repository).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python 3.11 or later is required (python3.11, python3.12 or python3.13 on PATH)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtual environment in .venv"
  "$(find_python)" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml uv.lock | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> Installing the project and its locked dependencies (first run: about a minute)"
  if [ ! -x .venv/bin/uv ]; then
    # uv's own version comes from uv.lock too; later syncs keep it at the locked version.
    uv_version="$(.venv/bin/python -c 'import tomllib
print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
  fi
  # --locked: refuse a uv.lock that no longer matches pyproject.toml; exact: packages not in the
  # lock are removed; the project itself is installed editable (tests import it from the tree).
  if ! UV_PROJECT_ENVIRONMENT=.venv .venv/bin/uv sync --quiet --locked --extra dev --extra postgres --python .venv/bin/python; then
    echo "error: could not install uv.lock into .venv (above). If pyproject.toml's dependencies changed," >&2
    echo "       run '.venv/bin/uv lock' and commit uv.lock with them." >&2
    exit 1
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# scripts/check.sh needs only the virtual environment.
if [ -n "${BOOTSTRAP_VENV_ONLY:-}" ]; then return 0; fi

if ! TEMPORAL_BIN="$(.venv/bin/python -m devtools.temporal_binary)"; then
  exit 1
fi
export TEMPORAL_BINARY="$TEMPORAL_BIN"
