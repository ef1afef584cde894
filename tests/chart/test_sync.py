"""The chart ships copies of crds/ and policies/ (a chart cannot reach outside its folder): they
must be the same bytes as the repository's, or `helm install` would install stale CRDs or policies.
hack/sync-chart.sh refreshes them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gpai_operator.api.kinds import CRD_KINDS
from tests.chart.harness import CHART, REPO

FIX = "run hack/sync-chart.sh"
CHART_ONLY_CRDS: set[str] = set()  # every CRD the chart ships is generated from our API models


def differences(source: Path, copy: Path, chart_only: frozenset[str] | set[str] = frozenset()) -> list[str]:
    originals = {p.name: p.read_bytes() for p in source.glob("*.yaml")}
    copies = {p.name: p.read_bytes() for p in copy.glob("*.yaml") if p.name not in chart_only}
    problems = [f"{name} is missing from the chart" for name in sorted(originals.keys() - copies.keys())]
    problems += [
        f"{name} is in the chart but not in {source.name}/"
        for name in sorted(copies.keys() - originals.keys())
    ]
    problems += [
        f"{name} differs"
        for name in sorted(originals.keys() & copies.keys())
        if originals[name] != copies[name]
    ]
    return problems


@pytest.mark.parametrize(
    ("source", "copy", "chart_only"),
    [("crds", "crds", CHART_ONLY_CRDS), ("policies", "files/policies", set())],
)
def test_chart_copy_equals_the_repository(source: str, copy: str, chart_only: set[str]) -> None:
    assert list((REPO / source).glob("*.yaml")), f"{source}/ is empty"
    assert differences(REPO / source, CHART / copy, chart_only) == [], FIX


def test_chart_installs_the_crd_of_every_kind_and_nothing_else() -> None:
    names = {
        document["metadata"]["name"]
        for path in (CHART / "crds").glob("*.yaml")
        for document in yaml.safe_load_all(path.read_text())
        if document and document["kind"] == "CustomResourceDefinition"
    }
    assert names == {kind.crd_name for kind in CRD_KINDS}  # no kopf peering CRDs: the writer holds a Lease
