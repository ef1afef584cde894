"""The HTTPS endpoint on loopback: kopf's WebhookServer with our reviewer, metrics and audit log."""

from __future__ import annotations

import http.client
import json
import logging
import ssl
from collections.abc import Iterator
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from gpai_operator.admission.server import Reviewer
from gpai_operator.admission.testing import ServedWebhook, WebhookCertificates
from gpai_operator.runtime.logs import TextFormatter
from tests.unit.admission.builders import review as admission_review
from tests.unit.admission.builders import workload


@pytest.fixture
def webhook(rt: Any, certs: WebhookCertificates) -> Iterator[ServedWebhook]:
    with ServedWebhook(rt, certs) as served:
        yield served


def post(
    webhook: ServedWebhook,
    certs: WebhookCertificates,
    body: bytes,
    path: str = "/validate",
    method: str = "POST",
) -> tuple[int, dict[str, str], Any]:
    context = ssl.create_default_context(cafile=str(certs.ca_file))  # verifies the name 127.0.0.1 too
    connection = http.client.HTTPSConnection("127.0.0.1", webhook.port, context=context, timeout=10)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.headers), json.loads(data) if data.startswith(b"{") else data
    finally:
        connection.close()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_review_is_answered_over_tls(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    status, headers, body = post(
        webhook, certs, json.dumps(admission_review("CREATE", workload("Job"))).encode()
    )

    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["response"]["allowed"] is False
    assert body["response"]["status"]["code"] == 403


def test_garbage_gets_a_json_status_with_http_400(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    status, headers, body = post(webhook, certs, b"\x00\x01 not json")

    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert body["kind"] == "Status"
    assert body["message"].startswith("not an AdmissionReview request: the body is not")


def test_other_paths_and_methods_are_refused(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    status, _, body = post(webhook, certs, b"{}", path="/mutate")
    assert status == 404
    assert "the webhook path is /validate" in body["message"]

    status, _, _ = post(webhook, certs, b"", method="GET")
    assert status == 405


def test_a_review_larger_than_aiohttps_default_limit_is_read(
    webhook: ServedWebhook, certs: WebhookCertificates
) -> None:
    big = workload("Deployment", annotations={"blob": "x" * (3 * 1024 * 1024)})
    old = workload("Deployment", annotations={"blob": "y" * (3 * 1024 * 1024)})

    status, _, body = post(webhook, certs, json.dumps(admission_review("UPDATE", big, old)).encode())

    assert status == 200
    assert body["response"]["allowed"] is True  # metadata only


def test_answers_are_counted_and_timed(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    labels = {"kind": "StatefulSet", "operation": "CREATE", "decision": "Deny"}
    before = sample("gpai_admission_requests_total", **labels)
    errors = sample("gpai_admission_requests_total", kind="", operation="Other", decision="Error")
    timed = sample("gpai_admission_duration_seconds_count")

    post(webhook, certs, json.dumps(admission_review("CREATE", workload("StatefulSet"))).encode())
    post(webhook, certs, b"{")

    assert sample("gpai_admission_requests_total", **labels) == before + 1
    assert sample("gpai_admission_requests_total", kind="", operation="Other", decision="Error") == errors + 1
    assert sample("gpai_admission_duration_seconds_count") == timed + 2
    assert sample("gpai_admission_duration_seconds_bucket", le="0.0001") is not None


def test_a_denial_is_logged_in_one_line(
    webhook: ServedWebhook, certs: WebhookCertificates, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gpai_operator.admission"):
        post(webhook, certs, json.dumps(admission_review("CREATE", workload("Deployment"))).encode())

    [record] = [r for r in caplog.records if r.getMessage() == "admission decision"]
    line = TextFormatter().format(record)
    assert "\n" not in line
    assert "decision=Deny operation=CREATE kind=Deployment namespace=ml name=chat user=alice" in line
    assert "model=acme-llm unmet=copyright/policy," in line
    assert record.fields["decision"] == "Deny"  # type: ignore[attr-defined]


def test_a_failing_reviewer_still_gets_a_json_answer(rt: Any, certs: WebhookCertificates) -> None:
    def broken(_body: bytes) -> Any:
        raise RuntimeError("bug")

    with ServedWebhook(rt, certs) as served:
        served.server.reviewer = cast(Reviewer, broken)
        status, headers, body = post(served, certs, b"{}")

    assert status == 500
    assert headers["Content-Type"].startswith("application/json")
    assert body["reason"] == "InternalError"


def test_the_runtime_knows_when_the_webhook_serves(rt: Any, certs: WebhookCertificates) -> None:
    assert rt.webhook_serving is False
    with ServedWebhook(rt, certs):
        assert rt.webhook_serving is True
    assert rt.webhook_serving is False


# ---- on a thread of its own --------------------------------------------------------------------------
def test_the_webhook_answers_from_its_own_thread_while_the_state_is_held(
    rt: Any, certs: WebhookCertificates
) -> None:
    """A review judges between two changes of the state: while a watch handler holds the lock, it waits."""
    import threading

    with ServedWebhook(rt, certs) as served:
        body = json.dumps(admission_review("CREATE", workload("Pod"))).encode()
        answers: list[int] = []
        with rt.lock:
            asker = threading.Thread(target=lambda: answers.append(post(served, certs, body)[0]))
            asker.start()
            asker.join(0.3)
            assert answers == []  # waiting for the state
        asker.join(10)
        assert answers == [200]
