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
def helm() -> Helm:
    return Helm(find_tool("HELM", "helm.sh"))


def normalised(value: Any) -> Any:
    """CEL text with its line breaks and indentation folded, anywhere in a spec."""
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value).replace("( ", "(").strip()
    if isinstance(value, dict):
        return {key: normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


@pytest.mark.parametrize("mode", ["native", "both"])
def test_the_native_policies_are_the_charts(helm: Helm, mode: str) -> None:
    rendered = helm.template({"admission": {"mode": mode}})
    chart_policies = [m for m in rendered if m["kind"] in NATIVE_KINDS]
    ours = native_policies(
        name=FULLNAME, excluded_namespaces=("kube-system", NAMESPACE), warnings=mode == "native"
    )

    def by_name(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(o["kind"], o["metadata"]["name"]): o for o in objects}

    assert by_name(ours).keys() == by_name(chart_policies).keys()
    for key, charts in by_name(chart_policies).items():
        mine = by_name(ours)[key]
        assert normalised(mine["spec"]) == normalised(charts["spec"]), key
        assert charts["apiVersion"] == mine["apiVersion"] == "admissionregistration.k8s.io/v1"
