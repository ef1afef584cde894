"""The native policies tests, the demo and the benchmarks register are the ones the chart renders: the
same matches, conditions, variables, validations and bindings, so what the tests check is what ships."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gpai_operator.admission.native import native_policies
from tests.chart.harness import NAMESPACE, RELEASE, Helm, find_tool

FULLNAME = f"{RELEASE}-gpai-operator"
NATIVE_KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


@pytest.fixture(scope="module")
def chart_policies() -> list[dict[str, Any]]:
    helm = Helm(find_tool("HELM", "helm.sh"))
    return [m for m in helm.template({"admission": {"mode": "native"}}) if m["kind"] in NATIVE_KINDS]


def normalised(value: Any) -> Any:
    """CEL text with its line breaks and indentation folded, anywhere in a spec."""
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).replace("( ", "(").strip()
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


def test_the_native_policies_are_the_charts(chart_policies: list[dict[str, Any]]) -> None:
    ours = native_policies(name=FULLNAME, excluded_namespaces=("kube-system", NAMESPACE))

    def by_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(o["kind"], o["metadata"]["name"]): o for o in objects}

    assert by_name(ours).keys() == by_name(chart_policies).keys()
    for key, charts in by_name(chart_policies).items():
        mine = by_name(ours)[key]
        assert normalised(mine["spec"]) == normalised(charts["spec"]), key
        assert charts["apiVersion"] == mine["apiVersion"] == "admissionregistration.k8s.io/v1"
