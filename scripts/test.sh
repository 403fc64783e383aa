#!/usr/bin/env bash
# Run the test suite against real parts: Temporal dev server, Temporal's Java time-skipping
# server (month-long timelines), SMTP sink, SQLite and PostgreSQL (a throwaway cluster the tests
# start), Chromium. Extra arguments go to pytest.
# Before pytest it runs scripts/check.sh (ruff, mypy).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"

# Lint, format and type checks first (a few seconds once mypy's cache is warm); they fail the
# run. INSCRIPTIONS_SKIP_CHECKS=1 skips them, e.g. while iterating on one test.
if [ -z "${INSCRIPTIONS_SKIP_CHECKS:-}" ]; then
  INSCRIPTIONS_BOOTSTRAPPED=1 bash scripts/check.sh
fi

# Installs a Debian package when its command is missing (root only); otherwise says what to do.
need() {
  local command="$1" packages="$2" why="$3"
  command -v "$command" >/dev/null 2>&1 && return 0
  install_packages "$command" "$packages" "$why"
}

install_packages() {
  local command="$1" packages="$2" why="$3"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing $packages ($why)"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "error: $why need '$command': install the Debian package(s) $packages." >&2
    exit 1
  fi
}

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
need chromium chromium "the browser tests"
# The time-skipping server is Temporal's Java test server, fetched from Maven Central.
need java default-jre-headless "the time-skipping workflow tests"
need mvn maven "the time-skipping workflow tests"
# The PostgreSQL tests start their own cluster of Debian's server (initdb/pg_ctl in a temp dir on
# a free port, never the system service); its binaries are not on PATH, so ask the helper.
if ! .venv/bin/python -m devtools.postgres --check >/dev/null 2>&1; then
  install_packages initdb postgresql "the PostgreSQL tests"
fi
.venv/bin/python -m devtools.test_server >/dev/null

exec .venv/bin/python -m pytest "$@"
