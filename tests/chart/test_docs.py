"""The chart's documentation keeps up with the chart: every value is described in values.yaml and
listed in docs/helm.md."""

from __future__ import annotations

import re

import yaml

from tests.chart.harness import CHART, REPO

VALUES_TEXT = (CHART / "values.yaml").read_text()
HELM_DOC = (REPO / "docs" / "helm.md").read_text()
# Maps whose keys are the user's own (labels, resources...) or are documented as a group.
GROUPS = {
    "resources",
    "podSecurityContext",
    "securityContext",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "updateStrategy",
    "dashboard.labels",
    "prometheusRule.alerts",
}


def documented_paths(text: str) -> set[str]:
    """Dotted paths of the keys that a `# --` comment introduces."""
    paths: set[str] = set()
    stack: list[tuple[int, str]] = []
    described = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            described = True
            continue
        if not stripped or stripped.startswith("#"):
            described = described and bool(stripped)
            continue
        match = re.match(r"^( *)([A-Za-z0-9_]+):", line)
        if not match:
            continue
        indent = len(match.group(1))
        stack = [(i, key) for i, key in stack if i < indent] + [(indent, match.group(2))]
        if described:
            paths.add(".".join(key for _, key in stack))
        described = False
    return paths


def leaf_paths(values: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in GROUPS:
            paths |= leaf_paths(value, f"{path}.")
        else:
            paths.add(path)
    return paths


def test_every_value_is_described_in_values_yaml() -> None:
    documented = documented_paths(VALUES_TEXT)
    undocumented = {
        path
        for path in leaf_paths(yaml.safe_load(VALUES_TEXT))
        if not any(path == d or path.startswith(f"{d}.") for d in documented)
    }
    assert undocumented == set()


def test_every_described_value_is_in_the_values_table_of_docs_helm_md() -> None:
    missing = {path for path in documented_paths(VALUES_TEXT) if f"| `{path}` |" not in HELM_DOC}
    assert missing == set()
