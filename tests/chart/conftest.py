"""Fixtures of the chart tests: a Helm that renders the chart, and promtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chart.harness import Helm, find_tool

HERE = Path(__file__).resolve().parent

# The first run on a machine may build helm from Go modules (about a minute on 2 cores, more when
# the machine is busy) inside the first test that needs it; `make test` builds it beforehand.
FIRST_BUILD_TIMEOUT = 1800


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents and {"helm", "promtool"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.timeout(FIRST_BUILD_TIMEOUT))


@pytest.fixture(scope="session")
def helm() -> Helm:
    return Helm(find_tool("HELM", "helm.sh"))


@pytest.fixture(scope="session")
def promtool() -> Path:
    return find_tool("PROMTOOL", "promtool.sh")
