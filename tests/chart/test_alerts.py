"""The alerting rules: valid, unit-tested with promtool, explained, and the same in the chart."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.harness import (
    CHART,
    REPO,
    Helm,
    contract_series_names,
    find,
    operator_metrics_in,
)

RULES = CHART / "files" / "alerts.yaml"
RULE_TESTS = Path(__file__).parent / "alerts_test.yaml"
RUNBOOKS = REPO / "docs" / "runbooks.md"
ALERTS = {
    "GPAIModelNonCompliant",
    "GPAIEvidenceExpiringSoon",
    "GPAIAdmissionDenials",
    "GPAIWebhookLatencyHigh",
    "GPAIOperatorDown",
    "GPAIWebhookFailingOpen",
    "GPAISeriousIncidentReportDue",  # issue 10
}
# Series that are not the operator's: scrape health and the API server's own counter.
FOREIGN_SERIES = {"up", "apiserver_admission_webhook_fail_open_count"}


def rules_of(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


FILE_RULES = rules_of(yaml.safe_load(RULES.read_text())["groups"])


def promtool_run(promtool: Path, *args: str | Path) -> str:
    result = subprocess.run([promtool, *args], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_rules_file_is_valid(promtool: Path) -> None:
    assert f"SUCCESS: {len(ALERTS)} rules found" in promtool_run(promtool, "check", "rules", RULES)


def test_each_alert_fires_on_its_series_and_stays_silent_on_healthy_ones(promtool: Path) -> None:
    promtool_run(promtool, "test", "rules", RULE_TESTS)


def test_every_alert_has_a_firing_and_a_silent_case() -> None:
    cases = [
        case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]
    ]
    for alert in ALERTS:
        outcomes = [bool(case["exp_alerts"]) for case in cases if case["alertname"] == alert]
        assert set(outcomes) == {True, False}, f"{alert}: needs a firing and a silent case"


def test_the_alerts_are_the_ones_shipped() -> None:
    assert set(FILE_RULES) == ALERTS


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings of a Markdown document."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    }


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_every_alert_explains_itself_and_links_its_runbook_section(alert: str) -> None:
    rule = FILE_RULES[alert]
    assert rule["labels"]["severity"] in ("critical", "warning", "info")
    assert rule["annotations"]["summary"]
    assert rule["annotations"]["description"]
    url = rule["annotations"]["runbook_url"]
    assert url == f"https://github.com/gpai-dev/gpai-operator/blob/main/docs/runbooks.md#{alert.lower()}"
    assert alert.lower() in anchors(RUNBOOKS.read_text()), f"docs/runbooks.md has no section {alert}"


@pytest.mark.parametrize("alert", sorted(ALERTS))
def test_alerts_query_only_metrics_the_operator_exports(alert: str) -> None:
    expr = FILE_RULES[alert]["expr"]
    assert operator_metrics_in(expr) <= contract_series_names()
    assert operator_metrics_in(expr) or set(re.findall(r"\b[a-z_]+\b", expr)) & FOREIGN_SERIES


# --- the PrometheusRule renders the same rules ----------------------------------------------------


def rendered_rules(helm: Helm, values: dict[str, Any]) -> list[dict[str, Any]]:
    rule = find(helm.template({"prometheusRule": {"enabled": True, **values}}), "PrometheusRule")
    return rule["spec"]["groups"]


def check_with_promtool(promtool: Path, groups: list[dict[str, Any]]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump({"groups": groups}, file)
        file.flush()
        promtool_run(promtool, "check", "rules", file.name)


def test_prometheus_rule_is_the_rules_file_by_default(helm: Helm, promtool: Path) -> None:
    groups = rendered_rules(helm, {})
    check_with_promtool(promtool, groups)
    rendered = rules_of(groups)
    assert rendered.keys() == FILE_RULES.keys()
    for alert, rule in FILE_RULES.items():
        assert rendered[alert]["expr"].strip() == rule["expr"].strip(), alert
        assert rendered[alert].get("for", "0m") == rule.get("for", "0m"), alert
        assert rendered[alert]["labels"] == rule["labels"], alert
        assert rendered[alert]["annotations"] == rule["annotations"], alert


def test_prometheus_rule_applies_the_overrides(helm: Helm, promtool: Path) -> None:
    groups = rendered_rules(
        helm,
        {
            "runbookBaseUrl": "https://wiki.example.com/gpai/runbooks",
            "additionalAlertLabels": {"team": "platform"},
            "alerts": {
                "GPAIModelNonCompliant": {"for": "4h", "severity": "critical"},
                "GPAIWebhookLatencyHigh": {"thresholdSeconds": 1.5},
                "GPAIAdmissionDenials": {"enabled": False},
            },
        },
    )
    check_with_promtool(promtool, groups)
    rendered = rules_of(groups)
    assert "GPAIAdmissionDenials" not in rendered
    assert rendered["GPAIModelNonCompliant"]["for"] == "4h"
    assert rendered["GPAIModelNonCompliant"]["labels"] == {"severity": "critical", "team": "platform"}
    assert rendered["GPAIWebhookLatencyHigh"]["expr"].endswith("> 1.5")
    assert rendered["GPAIOperatorDown"]["annotations"]["runbook_url"] == (
        "https://wiki.example.com/gpai/runbooks#gpaioperatordown"
    )


def test_prometheus_rule_follows_a_renamed_scrape_job(helm: Helm) -> None:
    rule = find(
        helm.template(
            {
                "prometheusRule": {"enabled": True},
                "metrics": {"serviceMonitor": {"enabled": True}},
                "nameOverride": "ai-act",
            }
        ),
        "PrometheusRule",
    )
    expr = rules_of(rule["spec"]["groups"])["GPAIOperatorDown"]["expr"]
    assert 'job="ai-act"' in expr
    assert 'job="gpai-operator"' not in expr
