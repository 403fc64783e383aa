"""The alert rules are checked by Prometheus's own tool, so a broken rule cannot land: syntax
(`promtool check rules`), the compose file's Prometheus configuration, and unit tests that feed
series to the alerts and expect them to fire, or not (`deploy/prometheus/alerts_test.yml`).
`scripts/test.sh` installs promtool (Debian's `prometheus`) when it is missing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from infra.settings import PROJECT_ROOT

RULES = PROJECT_ROOT / "deploy" / "prometheus"
ALERTS = [
    "InscriptionsNoWorkerPolling",
    "InscriptionsWorkflowTaskFailures",
    "InscriptionsWorkerBehind",
    "InscriptionsMailsWaiting",
    "InscriptionsMailsSlow",
    "InscriptionsMailsSentAgain",
    "InscriptionsCandidatePagesErrors",
    "InscriptionsCandidatePagesSlow",
    "InscriptionsRefusalsNearDeadline",
    "InscriptionsLoginRefusals",
]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: run the tests through scripts/test.sh, which installs it")
    return subprocess.run([binary, *args], cwd=RULES, capture_output=True, text=True, timeout=120)


def test_the_rules_load() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_every_alert_is_explained_in_the_readme() -> None:
    rules = (RULES / "alerts.yml").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    for alert in ALERTS:
        assert f"alert: {alert}\n" in rules
        assert f"`{alert}`" in readme, f"{alert} is not explained in the README's « Exploitation »"


def test_the_alerts_fire_when_they_should() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_compose_prometheus_configuration_loads() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
