"""Fuzzing the webhook: whatever is POSTed, a well-formed answer and never a 5xx.

10,000 generated bodies go through the pure `review()`: AdmissionReviews as kube-apiserver sends
them for every workload kind and operation, with any one field (at any depth, the objects' included)
replaced by any JSON type or removed; JSON that is no review; and raw bytes. The answer must be
HTTP 200 with an AdmissionReview for the request's uid, or HTTP 400 with a metav1.Status, and no
`response.status.code` of 500 or more. A handful of the nastiest bodies then go through the real
HTTPS server, to show that its HTTP layer agrees. Derandomised, so CI sees the same bodies every run.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpai_operator.admission.envelope import REVIEW_VERSIONS
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.outcome import Answer
from gpai_operator.admission.review import review
from gpai_operator.admission.testing import ServedWebhook, WebhookCertificates
from tests.damage import KUBERNETES_FIELDS, Path, any_value, damaged
from tests.unit.admission.builders import (
    KINDS,
    NOW,
    OPERATOR,
    model,
    namespace,
    policy,
    runtime,
    scale,
    workload,
)
from tests.unit.admission.builders import review as admission_review
from tests.unit.admission.test_server import post

RUNTIME = runtime(
    namespace("ml", team="research"), model(systemic=True), model("other"), policy("eu-ai-act", ["Deny"])
)
MEMO = VerdictMemo()  # as the server reviews
FUZZ = settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _reviews() -> list[dict[str, Any]]:
    """Well-formed reviews: every workload kind and operation, subresources, users, dry runs."""
    reviews = []
    for kind in KINDS:
        new, old = workload(kind), workload(kind, model="other")
        reviews += [
            admission_review("CREATE", new),
            admission_review("CREATE", workload(kind, model=None), username=OPERATOR, dry_run=True),
            admission_review("UPDATE", new, old),
            admission_review("UPDATE", new, old, subresource="status"),
            admission_review("DELETE", None, old),
            admission_review("CONNECT", new, api_version="admission.k8s.io/v1beta1"),
        ]
    reviews.append(admission_review("UPDATE", scale("chat", 3), scale("chat", 1), subresource="scale"))
    return reviews


REVIEWS = _reviews()

json_values = any_value(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "CREATE", "UPDATE", "DELETE", "scale", "status", "apps", "Deployment", "Pod"])
)


REQUEST_FIELDS = ("uid", "kind", "resource", "subResource", "namespace", "name", "operation", "userInfo")
# Where a review is read: the envelope, the request's fields and both objects' (present or not).
READ: list[Path] = [
    ("apiVersion",),
    ("kind",),
    ("request",),
    *(("request", field) for field in REQUEST_FIELDS),
    *(("request", "kind", field) for field in ("group", "version", "kind")),
    *(("request", "resource", field) for field in ("group", "resource")),
    ("request", "userInfo", "username"),
    ("request", "dryRun"),
    *(("request", side, *field) for side in ("object", "oldObject") for field in [(), *KUBERNETES_FIELDS]),
]
# Tokens JSON allows, or Python's decoder reads, that no value above can produce.
RAW = [
    b"1" * 5000,  # more digits than Python converts
    b"1e400",
    b"-Infinity",
    b"NaN",
    b'"\\ud800"',  # a lone surrogate
    b"[" * 900 + b"]" * 900,
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": 1, "a": 2}',
]
_SPLICE = "\x00raw\x00"


@st.composite
def reviews_with(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Any:
    """A review with one or two fields where a review is read, or anywhere in it, replaced or removed."""
    return draw(damaged(draw(st.sampled_from(REVIEWS)), values, READ, changes=(1, 2)))


def spliced(body: Any, raw: bytes) -> bytes:
    return json.dumps(body).encode().replace(json.dumps(_SPLICE).encode(), raw)


damaged_reviews = reviews_with(json_values).map(lambda body: json.dumps(body).encode())
bodies = st.one_of(
    damaged_reviews,
    damaged_reviews,
    damaged_reviews,
    st.builds(spliced, reviews_with(st.just(_SPLICE)), st.sampled_from(RAW)),
    damaged_reviews.map(lambda body: body[: len(body) // 2]),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
)


def assert_well_formed(body: bytes, answer: Answer) -> None:
    """HTTP 200 with an AdmissionReview for the request's uid, or 400 with a Status; never a 5xx."""
    json.dumps(answer.body)  # the server sends it as it is
    if answer.status == 400:
        assert answer.body["kind"] == "Status"
        assert (answer.body["apiVersion"], answer.body["code"]) == ("v1", 400)
        assert answer.body["message"]
        return
    assert answer.status == 200, answer
    sent = json.loads(body)
    assert answer.body["kind"] == "AdmissionReview"
    assert answer.body["apiVersion"] == sent["apiVersion"] in REVIEW_VERSIONS
    response = answer.body["response"]
    assert response["uid"] == sent["request"]["uid"]
    assert isinstance(response["allowed"], bool)
    if not response["allowed"]:
        assert 400 <= response["status"]["code"] < 500, response
        assert response["status"]["message"]


@FUZZ
@given(body=bodies)
def test_any_body_gets_a_well_formed_answer_and_never_a_5xx(body: bytes) -> None:
    assert_well_formed(body, review(body, RUNTIME, NOW, MEMO))


def nasty(path: tuple[Any, ...], value: Any) -> bytes:
    body = copy.deepcopy(REVIEWS[0])
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(body).encode()


NASTY = {
    "kind.kind a list": nasty(("request", "kind", "kind"), ["Deployment"]),
    "kind.kind an object": nasty(("request", "kind", "kind"), {"kind": "Deployment"}),
    "operation an object": nasty(("request", "operation"), {"CREATE": True}),
    "apiVersion a list": nasty(("apiVersion",), ["admission.k8s.io/v1"]),
    "ownerReferences a number": nasty(("request", "object", "metadata", "ownerReferences"), 7),
    "labels a list": nasty(("request", "object", "metadata", "labels"), ["gpai.dev/model"]),
    "an integer of 5000 digits": b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "n": '
    + b"1" * 5000
    + b"}",
    "not UTF-8": b'{"kind": "\xff"}',
}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> WebhookCertificates:
    return WebhookCertificates.create(tmp_path_factory.mktemp("webhook-certs"))


def test_the_nastiest_bodies_get_a_well_formed_answer_over_https(certs: WebhookCertificates) -> None:
    with ServedWebhook(RUNTIME, certs) as webhook:
        for case, body in NASTY.items():
            status, headers, answer = post(webhook, certs, body)

            assert headers["Content-Type"].startswith("application/json"), case
            assert status in (200, 400), (case, status, answer)
            expected = review(body, RUNTIME, NOW)
            assert (status, answer) == (expected.status, expected.body), case
            assert_well_formed(body, expected)
