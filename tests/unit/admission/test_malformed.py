"""Malformed bodies get a well-formed answer, never an exception (docs/admission.md, Malformed input)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gpai_operator.admission.review import review
from tests.unit.admission.builders import NOW, model, policy, runtime, workload
from tests.unit.admission.builders import review as admission_review

RUNTIME = runtime(model(systemic=True), policy("eu-ai-act", ["Deny"]))


def good() -> dict[str, Any]:
    return admission_review("CREATE", workload("Deployment"))


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def replaced(body: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


UNANSWERABLE = {
    "empty": (b"", "not JSON"),
    "not json": (b"<html>hello</html>", "not JSON"),
    "not utf-8": (b'{"kind": "\xff\xfe"}', "not UTF-8"),
    "truncated": (json.dumps(good()).encode()[:-20], "not JSON"),
    "a list": (b"[1, 2]", "JSON list"),
    "a string": (b'"AdmissionReview"', "JSON str"),
    "null": (b"null", "JSON NoneType"),
    "nested too deeply": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "wrong apiVersion": (replaced(good(), "admission.k8s.io/v2", "apiVersion"), "admission.k8s.io/v2"),
    "no apiVersion": (without(good(), "apiVersion"), "apiVersion null"),
    "wrong kind": (replaced(good(), "AdmissionRequest", "kind"), '"AdmissionRequest"'),
    "no request": (without(good(), "request"), "no request"),
    "request not an object": (replaced(good(), [1], "request"), "no request"),
    "no uid": (without(good(), "request", "uid"), "no uid"),
    "empty uid": (replaced(good(), "", "request", "uid"), "no uid"),
    "uid not a string": (replaced(good(), 7, "request", "uid"), "no uid"),
}


@pytest.mark.parametrize("case", sorted(UNANSWERABLE))
def test_a_body_that_is_no_admission_review_gets_http_400_with_a_status(case: str) -> None:
    body, says = UNANSWERABLE[case]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    answer = review(data, RUNTIME, NOW)

    assert answer.status == 400
    assert answer.body["kind"] == "Status"
    assert answer.body["apiVersion"] == "v1"
    assert (answer.body["code"], answer.body["reason"], answer.body["status"]) == (
        400,
        "BadRequest",
        "Failure",
    )
    assert says in answer.body["message"]
    assert answer.outcome.decision == "Error"
    json.dumps(answer.body)  # serialisable as it is


MALFORMED = {
    "object not a mapping": (
        replaced(good(), "deployment", "request", "object"),
        "request.object must be an object",
    ),
    "object a list": (replaced(good(), [], "request", "object"), "got a JSON list"),
    "no object on CREATE": (replaced(good(), None, "request", "object"), "request.object is required"),
    "no oldObject on UPDATE": (
        replaced(good(), "UPDATE", "request", "operation"),
        "request.oldObject are required",
    ),
    "unknown operation": (replaced(good(), "PATCH", "request", "operation"), '"PATCH"'),
    "no operation": (without(good(), "request", "operation"), "got null"),
    "kind not a mapping": (
        replaced(good(), "Deployment", "request", "kind"),
        "request.kind must be an object",
    ),
    "kind without a name": (replaced(good(), {"group": "apps"}, "request", "kind"), "request.kind must name"),
    "namespace not a string": (
        replaced(good(), 3, "request", "namespace"),
        "request.namespace must be a string",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_with_a_uid_is_refused_with_code_400(case: str) -> None:
    body, says = MALFORMED[case]

    answer = review(json.dumps(body).encode(), RUNTIME, NOW)

    assert answer.status == 200
    assert answer.body["apiVersion"] == "admission.k8s.io/v1"
    response = answer.body["response"]
    assert response["uid"] == body["request"]["uid"]
    assert response["allowed"] is False
    assert (response["status"]["code"], response["status"]["reason"]) == (400, "BadRequest")
    assert response["status"]["message"].startswith("malformed AdmissionReview: ")
    assert says in response["status"]["message"]
    assert answer.outcome.decision == "Error"
    assert answer.outcome.operation in ("CREATE", "UPDATE", "Other")


def test_odd_but_readable_fields_are_tolerated() -> None:
    body = good()
    body["request"]["userInfo"] = "nobody"
    body["request"]["resource"] = None
    body["request"]["object"]["metadata"]["labels"] = None
    body["request"]["unknownField"] = {"x": 1}

    answer = review(body, RUNTIME, NOW)

    assert answer.body["response"]["allowed"] is True  # unlabelled: nothing to gate


def test_request_kind_may_be_absent_when_the_object_says_what_it_is() -> None:
    answer = review(without(good(), "request", "kind"), RUNTIME, NOW)

    assert answer.body["response"]["allowed"] is False
    assert answer.outcome.kind == "Deployment"


def test_metric_labels_stay_bounded_whatever_the_body_claims() -> None:
    body = replaced(good(), {"group": "x", "version": "v1", "kind": "A" * 500}, "request", "kind")
    body = replaced(body, "A" * 500, "request", "object", "kind")

    answer = review(body, RUNTIME, NOW)

    assert answer.outcome.kind == "Other"
    assert answer.body["response"]["allowed"] is True
