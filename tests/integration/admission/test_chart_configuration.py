"""The configuration tests and the demo register is the one the chart renders (but for the address):
the same webhooks, rules and matchConditions, so what the integration tests check is what ships."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gpai_operator.admission.configuration import webhook_configuration
from tests.chart.harness import NAMESPACE, Helm, find_tool

SAME = ("admissionReviewVersions", "sideEffects", "timeoutSeconds", "failurePolicy", "matchPolicy", "rules")


@pytest.fixture(scope="module")
def chart_webhooks() -> list[dict[str, Any]]:
    helm = Helm(find_tool("HELM", "helm.sh"))
    [configuration] = [m for m in helm.template() if m["kind"] == "ValidatingWebhookConfiguration"]
    return configuration["webhooks"]


def normalised(conditions: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(c["name"], re.sub(r"\s+", " ", c["expression"]).replace("( ", "(").strip()) for c in conditions]


def test_the_webhooks_are_the_charts(chart_webhooks: list[dict[str, Any]]) -> None:
    username = "system:serviceaccount:gpai-system:gpai-gpai-operator"
    ours = webhook_configuration(
        "https://127.0.0.1:9443/validate",
        b"CA",
        operator_username=username,
        excluded_namespaces=("kube-system", NAMESPACE),
    )["webhooks"]

    assert [w["name"] for w in ours] == [w["name"] for w in chart_webhooks]
    for mine, charts in zip(ours, chart_webhooks, strict=True):
        for key in SAME:
            assert mine[key] == charts[key], (mine["name"], key)
        assert mine["namespaceSelector"] == charts["namespaceSelector"], mine["name"]
        assert normalised(mine["matchConditions"]) == normalised(charts["matchConditions"]), mine["name"]
        assert charts["clientConfig"]["service"]["path"] == "/validate"


def test_deleting_documentation_goes_to_the_advice_only(chart_webhooks: list[dict[str, Any]]) -> None:
    """The retention warning (issue 10): the advice webhook gets ModelDocumentation DELETEs; the gate
    never sees our kinds, so a deletion can never be refused."""
    documentation_rule = {
        "apiGroups": ["gpai.dev"],
        "apiVersions": ["v1alpha1"],
        "resources": ["modeldocumentations"],
        "operations": ["DELETE"],
        "scope": "Namespaced",
    }
    hooks = {w["name"]: w for w in chart_webhooks}
    assert documentation_rule in hooks["advise.gpai.dev"]["rules"]
    assert hooks["advise.gpai.dev"]["failurePolicy"] == "Ignore"
    assert all("gpai.dev" not in rule["apiGroups"] for rule in hooks["validate.gpai.dev"]["rules"])
