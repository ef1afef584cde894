"""The Grafana dashboard: valid, portable between Grafanas, and built only on metrics the operator
exports (the live scrape comparison is in tests/integration/test_chart.py once the operator runs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chart.harness import CHART, CONTRACT_METRICS, contract_series_names, operator_metrics_in

DASHBOARD = json.loads((CHART / "files" / "dashboard.json").read_text())


def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from panels(panel)


QUERIES = [
    (panel["title"], target["expr"]) for panel in panels(DASHBOARD) for target in panel.get("targets", [])
]


def test_dashboard_has_a_stable_identity_and_panels() -> None:
    assert DASHBOARD["uid"] == "gpai-operator"
    assert DASHBOARD["title"]
    assert len(QUERIES) >= 15
    ids = [panel["id"] for panel in panels(DASHBOARD)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("panel", "expr"), QUERIES)
def test_every_query_names_only_metrics_the_operator_exports(panel: str, expr: str) -> None:
    used = operator_metrics_in(expr)
    assert used, f"{panel}: queries no operator metric"
    assert used <= contract_series_names(), f"{panel}: {used - contract_series_names()}"


def test_every_contract_metric_is_on_the_dashboard() -> None:
    shown = set().union(*(operator_metrics_in(expr) for _, expr in QUERIES))
    assert set(CONTRACT_METRICS) <= {name.removesuffix("_bucket") for name in shown}


def test_data_source_is_a_variable_so_the_dashboard_imports_anywhere() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(DASHBOARD):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_namespace_filter_applies_to_model_queries() -> None:
    for panel, expr in QUERIES:
        if any(name.startswith(("gpai_model_", "gpai_workloads")) for name in operator_metrics_in(expr)):
            assert 'namespace=~"$namespace"' in expr, panel
