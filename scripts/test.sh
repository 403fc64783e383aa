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

source scripts/need.sh  # bootstrap.sh moved to the repository root

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
need chromium chromium "the browser tests"
# The time-skipping server is Temporal's Java test server, fetched from Maven Central.
need java default-jre-headless "the time-skipping workflow tests"
need mvn maven "the time-skipping workflow tests"
# The PostgreSQL tests start their own cluster of Debian's server (initdb/pg_ctl in a temp dir on
# a free port, never the system service).
need_postgres "the PostgreSQL tests"
.venv/bin/python -m devtools.test_server >/dev/null
# The alert rules are loaded and unit-tested by Prometheus's own checker (tests/ops/test_alerts.py).
need promtool prometheus "the alert rules' checks"

exec .venv/bin/python -m pytest "$@"
