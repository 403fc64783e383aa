#!/usr/bin/env bash
# The production topology on this machine, one command (devtools/prod_stack.py): PostgreSQL,
# the Temporal server on it (built once with Go, like the dev server's CLI), the migrate step,
# two workers, two web processes, the mail sink. Arguments go to devtools.prod_stack, e.g.
#   scripts/prod_stack.sh --dir data/prod-stack     # keep the data across starts
#   scripts/prod_stack.sh --smoke                   # a candidate's journey, then stop
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
source scripts/need.sh  # bootstrap.sh moved to the repository root
need_postgres "the production-like stack"
.venv/bin/python -m devtools.temporal_server >/dev/null
exec .venv/bin/python -m devtools.prod_stack "$@"
