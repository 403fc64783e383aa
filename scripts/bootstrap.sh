# Sourced by scripts/dev.sh and scripts/test.sh: everything a fresh machine needs, idempotent.
#  - a virtual environment in .venv with the project and its dev dependencies (reinstalled when
#    pyproject.toml changes);
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
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> Installing the project and its dependencies (first run: about a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if ! TEMPORAL_BIN="$(.venv/bin/python -m devtools.temporal_binary)"; then
  exit 1
fi
export TEMPORAL_BINARY="$TEMPORAL_BIN"
