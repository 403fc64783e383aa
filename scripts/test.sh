#!/usr/bin/env bash
# Run the test suite against real parts: Temporal dev server, SMTP sink, SQLite, Chromium.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"

# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need Chromium: install the 'chromium' package (or set CHROMIUM_PATH)." >&2
    exit 1
  fi
fi

exec .venv/bin/python -m pytest "$@"
