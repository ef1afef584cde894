"""Deleting a ModelDocumentation through the real API server: the advice webhook (registered as the
chart registers it) answers with a warning while the documentation must be kept, kubectl shows it
(HTTP Warning headers), and the deletion goes through."""

from __future__ import annotations

from typing import Any

from tests.integration.admission.conftest import Gate
from tests.integration.admission.kube import call, example_evidence, feed

HISTORY = [
    {"version": "1.5", "firstSeen": "2025-06-02T08:00:00Z", "superseded": "2026-03-02T09:00:00Z"},
    {"version": "2.0", "firstSeen": "2026-03-02T09:00:00Z"},
]


def _path(namespace: str, name: str = "") -> str:
    return f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/modeldocumentations" + (
        f"/{name}" if name else ""
    )


def _documentation(evidence: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in evidence if o["kind"] == "ModelDocumentation" and o["metadata"]["name"] == name)


def test_deleting_documentation_within_its_ten_years_warns_and_is_allowed(gate: Gate) -> None:
    evidence = example_evidence("aurora-2", gate.namespace)  # documentation of 2.0 and of 1.5
    model = {**evidence[0], "status": {"versions": HISTORY}}  # as the operator recorded it
    earlier = _documentation(evidence, "aurora-1-5-documentation")
    current = _documentation(evidence, "aurora-2-documentation")
    for doc in (earlier, current):
        created = call(gate.api_client, "POST", _path(gate.namespace), doc)
        assert created.status == 201, created.body
    feed(gate.runtime.state, model, *evidence[1:])  # what the operator's watches hold

    deleted = call(gate.api_client, "DELETE", _path(gate.namespace, "aurora-1-5-documentation"))

    assert deleted.status == 200, deleted.body
    assert deleted.warnings == [
        f"ModelDocumentation {gate.namespace}/aurora-1-5-documentation documents version 1.5 of GPAIModel "
        f"{gate.namespace}/aurora-2, on the market until 2026-03-02: transparency/documentation-retention "
        "(Art. 53(1)(a), 54(3)(b); CoP Transparency M1.1) asks that it be kept through 2036-03-02. Deleting "
        "it is allowed; transparency/documentation-retention becomes Missing unless another "
        "ModelDocumentation of that version exists."
    ]
    assert call(gate.api_client, "GET", _path(gate.namespace, "aurora-1-5-documentation")).status == 404

    deleted = call(gate.api_client, "DELETE", _path(gate.namespace, "aurora-2-documentation"))
    assert deleted.status == 200
    [warning] = deleted.warnings
    assert "documents version 2.0 of GPAIModel" in warning
    assert "its current version" in warning


def test_deleting_documentation_nobody_must_keep_is_silent(gate: Gate) -> None:
    evidence = example_evidence("aurora-2", gate.namespace)
    draft = {
        **_documentation(evidence, "aurora-1-5-documentation"),
        "metadata": {"name": "aurora-3-draft", "namespace": gate.namespace},
    }
    draft["spec"] = {**draft["spec"], "modelVersion": "3.0-draft"}  # never on the market
    assert call(gate.api_client, "POST", _path(gate.namespace), draft).status == 201
    feed(gate.runtime.state, {**evidence[0], "status": {"versions": HISTORY}}, draft)

    deleted = call(gate.api_client, "DELETE", _path(gate.namespace, "aurora-3-draft"))

    assert deleted.status == 200
    assert deleted.warnings == []
