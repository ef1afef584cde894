"""The API server presents a client certificate to the webhook, and the webhook serves nobody else.

A control plane of its own, started as docs/security.md tells a cluster admin to configure one:
`--admission-control-config-file` naming an AdmissionConfiguration whose ValidatingAdmissionWebhook
plugin reads a kubeconfig with a client certificate for the webhook's host:port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
import yaml
from kubernetes.client import AdmissionregistrationV1Api, ApiClient

from gpai_operator.admission.configuration import webhook_configuration
from gpai_operator.admission.testing import ServedWebhook, WebhookCertificates
from gpai_operator.runtime import Runtime
from gpai_operator.testing.controlplane import BinariesUnavailable, ControlPlane, free_ports
from gpai_operator.testing.namespaces import create_namespace
from tests.integration.admission.kube import call
from tests.unavailable import unavailable

CLIENT_NAME = "kube-apiserver-webhook-client"
SELECT_LABEL = "gpai.dev/client-certificate-test"
NOT_LOADED = "has not finished loading"


@dataclass
class Setup:
    api_client: ApiClient
    certs: WebhookCertificates  # the webhook's serving certificate
    client_ca: Path  # the CA of the API server's client certificate
    port: int  # the webhook port the API server has a client certificate for


def write_admission_configuration(folder: Path, port: int, client_ca: trustme.CA) -> Path:
    """What a cluster admin writes (docs/security.md): a kubeconfig whose user, named after the
    webhook's host:port, holds the client certificate; an AdmissionConfiguration pointing at it."""
    client = client_ca.issue_cert(CLIENT_NAME, common_name=CLIENT_NAME)
    client.cert_chain_pems[0].write_to_path(str(folder / "apiserver-webhook-client.crt"))
    client.private_key_pem.write_to_path(str(folder / "apiserver-webhook-client.key"))
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "users": [
            {
                "name": f"127.0.0.1:{port}",
                "user": {
                    "client-certificate": str(folder / "apiserver-webhook-client.crt"),
                    "client-key": str(folder / "apiserver-webhook-client.key"),
                },
            }
        ],
    }
    (folder / "webhook-kubeconfig.yaml").write_text(yaml.safe_dump(kubeconfig))
    configuration = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AdmissionConfiguration",
        "plugins": [
            {
                "name": "ValidatingAdmissionWebhook",
                "configuration": {
                    "apiVersion": "apiserver.config.k8s.io/v1",
                    "kind": "WebhookAdmissionConfiguration",
                    "kubeConfigFile": str(folder / "webhook-kubeconfig.yaml"),
                },
            }
        ],
    }
    path = folder / "admission-configuration.yaml"
    path.write_text(yaml.safe_dump(configuration))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("client-certificates")
    (port,) = free_ports(1)
    client_ca = trustme.CA(organization_name="the API server's webhook client CA")
    client_ca.cert_pem.write_to_path(str(folder / "client-ca.crt"))
    configuration = write_admission_configuration(folder, port, client_ca)
    try:
        plane = ControlPlane(
            extra_apiserver_args=(f"--admission-control-config-file={configuration}",)
        ).start()
    except BinariesUnavailable as error:
        unavailable(f"no Kubernetes control plane: {error}")
    try:
        with plane.api_client() as api_client:
            yield Setup(
                api_client, WebhookCertificates.create(folder / "serving"), folder / "client-ca.crt", port
            )
    finally:
        plane.stop()


def dry_run_pod(setup: Setup, webhook: ServedWebhook, name: str) -> str:
    """Registers the webhook for a fresh namespace, then creates a Pod there (dry run) until the API
    server calls it; returns the message the client gets."""
    namespace = create_namespace(setup.api_client, name, labels={SELECT_LABEL: name})
    admission = AdmissionregistrationV1Api(setup.api_client)
    configuration = webhook_configuration(
        webhook.url,
        setup.certs.ca_pem,
        name=f"client-certificate-{name}",
        namespace_selector={"matchLabels": {SELECT_LABEL: name}},
    )
    admission.create_validating_webhook_configuration(configuration)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    try:
        deadline = time.monotonic() + 15
        while True:  # until the API server has loaded the configuration and calls the webhook
            reply = call(
                setup.api_client,
                "POST",
                f"/api/v1/namespaces/{namespace}/pods",
                pod,
                query=[("dryRun", "All")],
            )
            if not reply.ok or time.monotonic() > deadline:
                return reply.message
            time.sleep(0.1)
    finally:
        admission.delete_validating_webhook_configuration(configuration["metadata"]["name"])


def test_the_api_server_presents_its_client_certificate_and_is_served(setup: Setup) -> None:
    with ServedWebhook(
        Runtime(), setup.certs, port=setup.port, client_ca_file=setup.client_ca, client_names=[CLIENT_NAME]
    ) as webhook:
        message = dry_run_pod(setup, webhook, "served")

    assert NOT_LOADED in message  # the webhook's own answer (its state is not loaded): it was reached


def test_a_webhook_the_api_server_has_no_certificate_for_refuses_it(setup: Setup) -> None:
    (other_port,) = free_ports(1)  # no kubeconfig entry: the API server calls without a certificate
    with ServedWebhook(Runtime(), setup.certs, port=other_port, client_ca_file=setup.client_ca) as webhook:
        message = dry_run_pod(setup, webhook, "anonymous")

    assert "failed calling webhook" in message
    assert NOT_LOADED not in message


def test_a_certificate_with_another_name_is_refused(setup: Setup) -> None:
    with ServedWebhook(
        Runtime(),
        setup.certs,
        port=setup.port,
        client_ca_file=setup.client_ca,
        client_names=["kube-apiserver"],
    ) as webhook:
        message = dry_run_pod(setup, webhook, "other-name")

    assert "failed calling webhook" in message
    assert f"names ({CLIENT_NAME}) are not among the webhook's allowed clients" in message
