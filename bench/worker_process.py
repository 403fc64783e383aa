"""The production worker (`worker.main`), run as its own process by `bench.lifecycles`.

Configured like `python worker.py`, through the INSCRIPTIONS_* environment variables, so the
memory the benchmark reads from /proc is the worker's alone. One knob more, for the benchmark:
BENCH_MAX_CACHED_WORKFLOWS, when set, passes `max_cached_workflows` to the `Worker` that
`worker.build_worker` builds (the SDK's default is 1,000 and `build_worker` does not set it).
The worker is still built by `build_worker`: only the `Worker` class it calls is wrapped.
"""

from __future__ import annotations

import asyncio
import functools
import os

import worker


def main() -> None:
    cache = os.environ.get("BENCH_MAX_CACHED_WORKFLOWS")
    if cache:
        worker.Worker = functools.partial(worker.Worker, max_cached_workflows=int(cache))  # type: ignore[misc]
    asyncio.run(worker.main())


if __name__ == "__main__":
    main()
