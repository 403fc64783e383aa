#!/usr/bin/env bash
# Checked code: lint (ruff check), format (ruff format --check) and types (mypy), with the
# versions of uv.lock and the settings of pyproject.toml. scripts/test.sh runs it before pytest.
#   scripts/check.sh          check; exit 1 and name what failed
#   scripts/check.sh --fix    apply ruff's safe fixes and the formatter, then check
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${INSCRIPTIONS_BOOTSTRAPPED:-}" ]; then
  BOOTSTRAP_VENV_ONLY=1 source scripts/bootstrap.sh   # .venv only: no Temporal CLI needed here
fi

if [ "${1:-}" = "--fix" ]; then
  .venv/bin/ruff check --fix --quiet . || true
  .venv/bin/ruff format --quiet .
fi

failed=()
echo "==> ruff check";          .venv/bin/ruff check --quiet --output-format concise .          || failed+=("ruff check (lint; try: scripts/check.sh --fix)")
echo "==> ruff format --check"; .venv/bin/ruff format --check --quiet --output-format concise . || failed+=("ruff format (run: scripts/check.sh --fix)")
echo "==> mypy";                .venv/bin/mypy --hide-error-context --no-pretty                                 || failed+=("mypy (types)")

if [ ${#failed[@]} -gt 0 ]; then
  printf 'error: code checks failed:\n' >&2
  printf '  - %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "==> code checks passed"
