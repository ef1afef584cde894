"""Deleting a ModelDocumentation: always allowed, with a warning while its ten years run (Art. 53(1)(a),
54(3)(b); CoP Transparency M1.1). The advice webhook sends these DELETEs (admission/configuration.py)."""

from __future__ import annotations

from typing import Any

from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.review import review
from tests.unit.admission.builders import NOW, runtime
from tests.unit.engine import builders as b

UID = "705ab4f5-6393-11e8-b7cc-42010a800002"
HISTORY = (("3.0", "2025-09-01T08:00:00Z", "2026-05-01T10:00:00Z"), ("3.1", "2026-05-01T10:00:00Z", None))


def deleting(doc: dict[str, Any] | None, name: str = "acme-3.0") -> dict[str, Any]:
    """kube-apiserver's review of a ModelDocumentation DELETE (oldObject: the object deleted)."""
    kind = {"group": "gpai.dev", "version": "v1alpha1", "kind": "ModelDocumentation"}
    resource = {"group": "gpai.dev", "version": "v1alpha1", "resource": "modeldocumentations"}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": UID,
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": name,
            "namespace": b.NS,
            "operation": "DELETE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": None,
            "oldObject": doc,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions"},
        },
    }


def cluster_with_history(*extra: dict[str, Any]) -> Any:
    return runtime(*b.frontier(), b.with_history(b.model(), *HISTORY), b.documentation(version="3.0"), *extra)


def test_deleting_an_earlier_versions_documentation_within_ten_years_is_allowed_with_a_warning():
    answer = review(deleting(b.documentation(version="3.0")), cluster_with_history(), NOW)
    response = answer.body["response"]
    assert response["allowed"] is True
    assert response["warnings"] == [
        "ModelDocumentation ml/acme-3.0 documents version 3.0 of GPAIModel ml/acme, on the market until "
        "2026-05-01: transparency/documentation-retention (Art. 53(1)(a), 54(3)(b); CoP Transparency M1.1) "
        "asks that it be kept through 2036-05-01. Deleting it is allowed; "
        "transparency/documentation-retention becomes Missing unless another ModelDocumentation of that "
        "version exists."
    ]
    assert (answer.outcome.kind, answer.outcome.operation, answer.outcome.decision) == (
        "ModelDocumentation",
        "DELETE",
        "Warn",
    )
    assert answer.log["detail"] == response["warnings"][0]


def test_deleting_the_current_versions_documentation_warns_that_it_is_still_on_the_market():
    response = review(deleting(b.documentation(), "acme-3.1"), cluster_with_history(), NOW).body["response"]
    assert response["allowed"] is True
    [warning] = response["warnings"]
    assert "documents version 3.1 of GPAIModel ml/acme, its current version" in warning
    assert "transparency/technical-documentation becomes Missing" in warning


def test_no_warning_after_ten_years_for_a_version_never_on_the_market_or_a_model_that_does_not_exist():
    old = b.with_history(b.model(), ("3.0", "2015-01-01T00:00:00Z", "2016-11-27T00:00:00Z"), HISTORY[1])
    assert (
        "warnings" not in review(deleting(b.documentation(version="3.0")), runtime(old), NOW).body["response"]
    )
    draft = review(deleting(b.documentation(version="4.0"), "acme-4.0"), cluster_with_history(), NOW)
    assert "warnings" not in draft.body["response"]
    assert draft.outcome.decision == "Allow"
    orphan = review(deleting(b.documentation("gone", version="1.0"), "gone-1.0"), runtime(), NOW)
    assert orphan.body["response"] == {"uid": UID, "allowed": True}


def test_no_warning_when_the_model_owes_no_documentation():
    exempt = b.with_history(b.open_weights_model(), ("0.9", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
    doc = b.documentation("openmodel", version="0.9")
    answer = review(deleting(doc, "openmodel-0.9"), runtime(exempt, doc), NOW, VerdictMemo())
    assert "warnings" not in answer.body["response"]


def test_without_old_object_the_documentation_is_taken_from_the_watched_state():
    answer = review(deleting(None), cluster_with_history(), NOW)
    assert answer.body["response"]["allowed"] is True
    assert "kept through 2036-05-01" in answer.body["response"]["warnings"][0]


def test_before_the_state_is_loaded_or_when_the_check_fails_it_is_allowed_silently(monkeypatch):
    assert (
        "warnings"
        not in review(deleting(b.documentation(version="3.0")), runtime(synced=False), NOW).body["response"]
    )

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("engine bug")

    monkeypatch.setattr("gpai_operator.admission.review.retention_warning", broken)
    response = review(deleting(b.documentation(version="3.0")), cluster_with_history(), NOW).body["response"]
    assert response == {"uid": UID, "allowed": True}
