"""The admission webhook restarted while the API server sends it reviews.

Reviews go through the real path: Deployments created with `dryRun=All` by four clients at once,
so kube-apiserver calls the webhook (failurePolicy Fail) for each over TLS; half name a compliant
model (allowed), half one without documentation (denied). Any other answer is a failed review.

- One replica restarted (SIGTERM, then started again on the same port): reviews fail only while it
  is away, between the stop and the restarted replica's readiness.
- Two replicas behind one URL, a Service emulated by a TCP proxy that sends new connections only
  to replicas whose /readyz passes (endpoints follow readiness): each restarted in turn, gracefully
  (SIGTERM), and no review fails. That needs the replica to drain: report not ready first, keep
  serving until no new connection can come, finish what is in flight.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from gpai_operator.admission.configuration import webhook_configuration
from gpai_operator.admission.server import PATH
from gpai_operator.admission.testing import WebhookCertificates
from gpai_operator.testing.churn import deployment
from gpai_operator.testing.operator_process import OperatorProcess
from gpai_operator.testing.rest import request_json
from gpai_operator.testing.tcpproxy import Backend, TcpProxy
from tests.integration.faults.conftest import Faults

CONFIGURATIONS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
CLIENTS = 4


@dataclass(frozen=True)
class Review:
    started: float  # monotonic
    ended: float
    outcome: str  # "allowed", "denied", or what went wrong


class Reviews:
    """Clients creating Deployments (dry run) through the API server until stopped."""

    def __init__(self, faults: Faults, compliant: str, non_compliant: str) -> None:
        self.faults = faults
        self.namespace = faults.namespaces[0]
        self.models = (compliant, non_compliant)
        self.done: list[Review] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(CLIENTS)
        ]

    def review(self, index: int) -> str:
        model = self.models[index % 2]
        body = deployment(self.namespace, f"review-{index % 2}", model)
        path = f"/apis/apps/v1/namespaces/{self.namespace}/deployments"
        try:
            request_json(self.faults.api, "POST", path, query=[("dryRun", "All")], body=body, timeout=30)
        except ApiException as error:
            message = str(error.body)
            with contextlib.suppress(ValueError):
                message = json.loads(error.body or "{}").get("message") or message
            denied = error.status == 403 and message.startswith(
                'admission webhook "validate.gpai.dev" denied'
            )
            return "denied" if denied else f"HTTP {error.status}: {message[:300]}"
        except (OSError, urllib3.exceptions.HTTPError) as error:
            return f"unreachable: {error}"
        return "allowed"

    def expected(self, index: int) -> str:
        return ("allowed", "denied")[index % 2]

    def _client(self, number: int) -> None:
        index = number
        while not self._stop.is_set():
            started = time.monotonic()
            outcome = self.review(index)
            if outcome == self.expected(index):
                outcome = "ok"
            self.done.append(Review(started, time.monotonic(), outcome))
            index += CLIENTS

    def __enter__(self) -> Reviews:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(40)

    def failed(self) -> list[Review]:
        return [r for r in self.done if r.outcome != "ok"]


@pytest.fixture
def certs(faults: Faults) -> WebhookCertificates:
    return WebhookCertificates.create(faults.folder / "webhook")


def register(faults: Faults, url: str, certs: WebhookCertificates) -> Iterator[None]:
    """The webhook configuration sending this test's first namespace to `url`, until the end."""
    name = f"gpai-faults-{faults.token}"
    configuration = webhook_configuration(
        url,
        certs.ca_pem,
        name=name,
        namespace_selector={"matchLabels": {"kubernetes.io/metadata.name": faults.namespaces[0]}},
    )
    request_json(faults.api, "POST", CONFIGURATIONS, body=configuration)
    try:
        yield
    finally:
        request_json(faults.api, "DELETE", f"{CONFIGURATIONS}/{name}")


def models(faults: Faults) -> tuple[str, str]:
    """A compliant model and one without documentation, in the first namespace, as names; a
    CompliancePolicy that denies workloads of non-compliant models there."""
    namespace = faults.namespaces[0]
    policy = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": namespace},
        "spec": {
            "validationActions": ["Deny"],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        },
    }
    request_json(faults.api, "POST", "/apis/gpai.dev/v1alpha1/compliancepolicies", body=policy)
    churn = faults.churn(seed=7)
    churn.populate(models=0, documented=0, workloads=0)
    churn.create_model(namespace, documented=True)
    churn.create_model(namespace, documented=False)
    (_, compliant), (_, non_compliant) = sorted(churn.models)
    return compliant, non_compliant


def wait_until_judged(reviews: Reviews, timeout: float = 30) -> None:
    """The API server sends reviews to the webhook and they are answered right (its configuration
    takes effect within a moment; the replicas' state is synced)."""
    deadline = time.monotonic() + timeout
    while not (reviews.review(0) == "allowed" and reviews.review(1) == "denied"):
        assert time.monotonic() < deadline, f"the webhook does not judge: {reviews.review(1)}"
        time.sleep(0.2)


def restart(replica: OperatorProcess) -> tuple[float, float]:
    """SIGTERM, wait for the exit, start again on the same ports, wait until ready: the monotonic
    times of the stop and of readiness."""
    stopped = time.monotonic()
    replica.stop()
    replica.start_again()
    replica.wait_ready()
    return stopped, time.monotonic()


def describe(failures: list[Review], origin: float) -> str:
    return "; ".join(
        f"[{r.started - origin:.2f}..{r.ended - origin:.2f} s] {r.outcome}" for r in failures[:8]
    )


def test_reviews_fail_only_while_the_only_webhook_replica_restarts(
    faults: Faults, certs: WebhookCertificates
):
    compliant, non_compliant = models(faults)
    replica = faults.operator("w", certs=certs)
    assert replica.webhook_url is not None
    for _ in register(faults, replica.webhook_url, certs):
        reviews = Reviews(faults, compliant, non_compliant)
        wait_until_judged(reviews)
        origin = time.monotonic()
        with reviews:
            time.sleep(3)
            stopped, ready = restart(replica)
            time.sleep(3)
    failures = reviews.failed()
    outside = [r for r in failures if r.ended < stopped or r.started > ready]
    print(
        f"{len(reviews.done)} reviews; the replica was away {ready - stopped:.2f} s "
        f"(stop at {stopped - origin:.2f} s); {len(failures)} failed: {describe(failures, origin)}"
    )
    assert any(r.outcome == "ok" and r.started > ready for r in reviews.done), "no review after the restart"
    assert outside == [], f"reviews failed outside the restart window: {describe(outside, origin)}"


def test_with_two_replicas_behind_one_service_no_review_fails_while_each_restarts(
    faults: Faults, certs: WebhookCertificates
):
    compliant, non_compliant = models(faults)
    # A drain longer than the Service's probe period: it stops sending new connections meanwhile.
    args = ("--shutdown-delay=1.5",)
    replicas = [faults.operator(name, certs=certs, args=args) for name in ("w1", "w2")]
    backends = []
    for replica in replicas:
        assert replica.webhook_url is not None
        port = int(replica.webhook_url.rsplit(":", 1)[1].removesuffix(PATH))
        backends.append(Backend("127.0.0.1", port, ready_url=replica.ready_url))
    with TcpProxy(backends, probe_period=0.25) as service:
        for _ in register(faults, f"https://{service.address}{PATH}", certs):
            reviews = Reviews(faults, compliant, non_compliant)
            wait_until_judged(reviews)
            origin = time.monotonic()
            with reviews:
                time.sleep(2)
                windows = [restart(replica) for replica in replicas]
                time.sleep(2)
    failures = reviews.failed()
    away = ", ".join(f"{stop - origin:.2f}..{ready - origin:.2f} s" for stop, ready in windows)
    print(
        f"{len(reviews.done)} reviews; replicas restarted at {away}; connections {dict(service.counts)}; "
        f"{len(failures)} failed: {describe(failures, origin)}"
    )
    assert failures == [], (
        f"{len(failures)} of {len(reviews.done)} reviews failed while the replicas restarted one at a "
        f"time ({away}): {describe(failures, origin)}"
    )
