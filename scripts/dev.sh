#!/usr/bin/env bash
# Run the whole product locally: Temporal dev server (+ Web UI), worker, web app, dev mailbox.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
exec .venv/bin/python -m devtools.run_local "$@"
