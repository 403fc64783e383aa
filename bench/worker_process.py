"""The production worker (`worker.main`), run as its own process by `bench.lifecycles`.

Configured like `python worker.py`, through the INSCRIPTIONS_* environment variables, so the
memory the benchmark reads from /proc is the worker's alone. The benchmark sizes the worker's
cache with INSCRIPTIONS_WORKER_CACHED_WORKFLOWS, the setting `worker.build_worker` passes to the
SDK as `max_cached_workflows`.
"""

from __future__ import annotations

import asyncio

import worker


def main() -> None:
    asyncio.run(worker.main())


if __name__ == "__main__":
    main()
