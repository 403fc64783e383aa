"""Browser tests: the real app served by uvicorn on a free port, driven by Debian's Chromium.

The server runs as a task on the session's event loop, serving the same `app` (and so the same
Temporal client, worker, database and SMTP sink) as the HTTP tests; Playwright's async API
shares that loop, so the test, the server and the worker interleave without threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Frame, Page, async_playwright

from tests.conftest import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# axe-core 4.14.1 (Deque, MPL-2.0), vendored from the npm registry's tarball: the tests run
# offline, and a PyPI wrapper (axe-playwright-python) would pin an older axe for no gain.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Leave Ctrl-C to pytest: this server lives inside the test session.
        yield


@pytest.fixture(scope="session")
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    # The `app` fixture already ran the lifespan (Temporal client, database): do not run it twice.
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.025)
    if not server.started:
        raise RuntimeError(f"uvicorn did not start on port {port}")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not await asyncio.to_thread(Path(CHROMIUM).exists):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' or set CHROMIUM_PATH")
    async with async_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser, live_server: str) -> AsyncIterator[BrowserContext]:
    # bypass_csp: our CSP forbids inline scripts, which is how axe-core gets injected.
    ctx = await browser.new_context(base_url=live_server, locale="fr-FR", accept_downloads=True, bypass_csp=True)
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def axe_violations(page: Page, name: str) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; keep the report; return the serious
    and critical violations."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    report_dir = ARTIFACTS / "axe"
    report_dir.mkdir(parents=True, exist_ok=True)
    summary = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
    (report_dir / f"{name}.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return [v for v in summary if v["impact"] in ("serious", "critical")]


class VisitedPages:
    """Every page a tab showed (its main frame's navigations), so that a journey can have axe-core
    check each of them, not only the ones it took a screenshot of."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.urls: list[str] = []
        page.on("framenavigated", self._seen)

    def _seen(self, frame: Frame) -> None:
        if frame is self.page.main_frame and frame.url not in self.urls and not frame.url.startswith("about:"):
            self.urls.append(frame.url)

    async def axe_each(self, prefix: str) -> dict[str, list[dict]]:
        """Open each visited address again (GET; what a form's answer showed is its redirect's
        page) and run axe-core on every HTML page; the serious violations per address."""
        found: dict[str, list[dict]] = {}
        for url in list(self.urls):
            response = await self.page.goto(url)
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            path = url.split("//", 1)[-1].split("/", 1)[-1]
            found[url] = await axe_violations(self.page, f"{prefix}-{re.sub(r'[^A-Za-z0-9]+', '-', path)[:80]}")
        return found
