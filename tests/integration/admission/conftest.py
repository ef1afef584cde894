"""The webhook alone against the real API server: a ValidatingWebhookConfiguration pointing at a
webhook served in this process over TLS (a trustme CA as caBundle), answering from a Runtime whose
state each test fills directly (the operator's watches are not needed for what admission decides).

The configuration only selects namespaces labelled for this module, so other tests sharing the
session's cluster never reach this webhook.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kubernetes.client import AdmissionregistrationV1Api, ApiClient, ApiextensionsV1Api

from gpai_operator.admission.configuration import webhook_configuration
from gpai_operator.admission.handlers import bind
from gpai_operator.admission.testing import (
    KSERVE_CRD,
    ServedWebhook,
    WebhookCertificates,
    install_kserve_crd,
)
from gpai_operator.runtime import ManualClock, Runtime
from gpai_operator.testing.controlplane import Cluster
from gpai_operator.testing.namespaces import TEST_LABEL, create_namespace, delete_namespace
from tests.integration.admission.kube import call

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)  # the examples' evidence is current on this day
SELECT_LABEL = "gpai.dev/admission-test"
OPERATOR = "system:serviceaccount:gpai-system:gpai-operator"  # the chart's operator identity


@dataclass
class Gate:
    """One test's namespace, behind the webhook, and the state the webhook judges it by."""

    namespace: str
    runtime: Runtime
    api_client: ApiClient


@pytest.fixture(scope="module")
def selector_value() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="module")
def kserve(api_client: ApiClient) -> Iterator[None]:
    """A minimal InferenceService CRD (serving.kserve.io/v1beta1), removed again if we installed it."""
    created = install_kserve_crd(api_client)
    yield
    if created:
        ApiextensionsV1Api(api_client).delete_custom_resource_definition(KSERVE_CRD["metadata"]["name"])


@pytest.fixture(scope="module")
def webhook(
    api_client: ApiClient, kserve: None, selector_value: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedWebhook]:
    """The webhook served here, and a configuration sending this module's namespaces to it."""
    certs = WebhookCertificates.create(tmp_path_factory.mktemp("webhook"))
    with ServedWebhook(Runtime(), certs) as served:
        configuration = webhook_configuration(
            served.url,
            certs.ca_pem,
            name=f"gpai-admission-test-{selector_value}",
            operator_username=OPERATOR,
            namespace_selector={"matchLabels": {SELECT_LABEL: selector_value}},
        )
        admission = AdmissionregistrationV1Api(api_client)
        admission.create_validating_webhook_configuration(configuration)
        try:
            yield served
        finally:
            admission.delete_validating_webhook_configuration(configuration["metadata"]["name"])


@pytest.fixture
def gate(
    cluster: Cluster,
    api_client: ApiClient,
    webhook: ServedWebhook,
    selector_value: str,
    request: pytest.FixtureRequest,
) -> Iterator[Gate]:
    """A fresh namespace behind the webhook, judged from a fresh Runtime that knows the namespace."""
    labels = {SELECT_LABEL: selector_value, "env": "prod" if "prod" in request.node.name else "dev"}
    name = create_namespace(api_client, request.node.name, labels=labels)
    runtime = Runtime(clock=ManualClock(NOW))
    runtime.state.put_namespace(name, {TEST_LABEL: "true", **labels, "kubernetes.io/metadata.name": name})
    bind(webhook.server, runtime)
    _wait_until_gated(api_client, name)  # while not synced, the webhook refuses every CREATE
    runtime.synced = True
    yield Gate(name, runtime, api_client)
    delete_namespace(api_client, name, purge=not cluster.runs_controllers)


def _wait_until_gated(api_client: ApiClient, namespace: str, timeout: float = 15.0) -> None:
    """Until kube-apiserver sends this namespace's requests to the webhook (it loads a new
    configuration within moments): a dry-run Pod is then refused as "not loaded yet"."""
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    deadline = time.monotonic() + timeout
    while True:
        reply = call(
            api_client, "POST", f"/api/v1/namespaces/{namespace}/pods", probe, query=[("dryRun", "All")]
        )
        if reply.status == 503 and "has not finished loading" in reply.message:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the webhook is not called for namespace {namespace}: {reply}")
        time.sleep(0.05)
