"""Production refuses to start with unsafe settings; development and tests keep their defaults."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import ValidationError

from infra.settings import DEV_SECRET, PROJECT_ROOT, Settings
from web.app import create_app

LONG_SECRET = "k" * 64


def test_production_refuses_the_development_secret_and_short_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSCRIPTIONS_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="development value"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="development value"):
        Settings(environment="production", secret_key=DEV_SECRET)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment="production", secret_key="0123456789abcdef0123456789abcde")  # 31
    assert Settings(environment="production", secret_key="0123456789abcdef0123456789abcdef").secure_cookies
    # Development and the tests run with the development secret, as before.
    assert Settings(environment="dev").secret_key == DEV_SECRET


def test_the_container_image_runs_as_production() -> None:
    """A deployment of the image that forgets INSCRIPTIONS_ENVIRONMENT is production (and then
    refuses the development secret), never development with plain cookies and API docs."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    env_lines = re.findall(r"^ENV\b(?:.*\\\n)*.*$", dockerfile, re.M)
    assert any(re.search(r"\bINSCRIPTIONS_ENVIRONMENT=production\b", line) for line in env_lines)


async def _get(settings: Settings, path: str) -> httpx.Response:
    app = create_app(settings)  # no lifespan: these answers need neither Temporal nor the database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        return await http.get(path)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_production_hides_the_api_docs_unless_enabled(path: str) -> None:
    production = Settings(environment="production", secret_key=LONG_SECRET)
    assert (await _get(production, path)).status_code == 404
    enabled = Settings(environment="production", secret_key=LONG_SECRET, api_docs=True)
    assert (await _get(enabled, path)).status_code == 200
    assert (await _get(Settings(environment="test"), path)).status_code == 200


async def test_hsts_in_production_only() -> None:
    production = await _get(Settings(environment="production", secret_key=LONG_SECRET), "/healthz")
    assert production.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    local = await _get(Settings(environment="test"), "/healthz")
    assert "strict-transport-security" not in local.headers
