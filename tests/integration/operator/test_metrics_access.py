"""/metrics answers only callers the real API server authenticates and authorises (TokenReview and
SubjectAccessReview), over HTTPS; service-account tokens come from the TokenRequest API."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from gpai_operator.admission.testing import WebhookCertificates
from gpai_operator.app import OperatorThread
from gpai_operator.testing.rest import request_json
from tests.integration.operator.conftest import StartOperator, health_url
from tests.integration.operator.helpers import http_get, metric

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def service_account_token(api_client: ApiClient, namespace: str, name: str) -> str:
    request_json(
        api_client,
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts",
        body={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
    )
    token_request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    answer = request_json(
        api_client, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", body=token_request
    )
    return str(answer["status"]["token"])


@pytest.fixture
def metrics_reader(api_client: ApiClient, namespace: str) -> Iterator[str]:
    """A ClusterRole granting get on /metrics (as the chart's metrics-reader), bound to `scraper`."""
    name = f"gpai-test-metrics-reader-{namespace}"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "scraper", "namespace": namespace}],
    }
    request_json(api_client, "POST", f"{RBAC}/clusterroles", body=role)
    request_json(api_client, "POST", f"{RBAC}/clusterrolebindings", body=binding)
    yield name
    request_json(api_client, "DELETE", f"{RBAC}/clusterrolebindings/{name}")
    request_json(api_client, "DELETE", f"{RBAC}/clusterroles/{name}")


def scrape(url: str, ca_file: Path, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answers_plain_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:  # the TLS listener hangs up on a plain-text request
        return False


def secure_metrics_url(thread: OperatorThread) -> str:
    assert thread.operator.endpoints is not None
    return f"https://127.0.0.1:{thread.operator.endpoints.ports['metrics']}/metrics"


def test_metrics_answer_only_callers_the_api_server_authorises(
    start_operator: StartOperator, api_client: ApiClient, namespace: str, metrics_reader: str, tmp_path: Path
) -> None:
    certs = WebhookCertificates.create(tmp_path)
    thread = start_operator(
        metrics_secure=True, metrics_cert_file=str(certs.cert_file), metrics_key_file=str(certs.key_file)
    )
    url = secure_metrics_url(thread)
    scraper = service_account_token(api_client, namespace, "scraper")
    stranger = service_account_token(api_client, namespace, "stranger")

    assert scrape(url, certs.ca_file)[0] == 401
    assert scrape(url, certs.ca_file, "not-a-token")[0] == 401
    status, text = scrape(url, certs.ca_file, stranger)
    assert (status, text) == (
        403,
        f'Forbidden: system:serviceaccount:{namespace}:stranger may not get "/metrics"\n',
    )
    status, text = scrape(url, certs.ca_file, scraper)
    assert status == 200
    assert metric(text, "gpai_operator_ready") == 1

    # Nothing in clear text: the metrics port speaks TLS only; the probes stay plain HTTP for the kubelet.
    assert not answers_plain_http(url.replace("https://", "http://"))
    assert http_get(health_url(thread, "/readyz")) == (200, "ready\n")
