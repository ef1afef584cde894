"""Test, demo and benchmark support: webhook certificates from trustme, and the webhook in a thread.

    certs = WebhookCertificates.create(folder)
    with ServedWebhook(runtime, certs) as webhook:
        configuration = webhook_configuration(webhook.url, certs.ca_pem)

trustme (a test dependency) is imported only here: kopf's own self-signed certificates need an
OpenSSL feature that current versions removed, and production certificates come from the chart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from gpai_operator.admission.configuration import webhook_url
from gpai_operator.admission.handlers import build_server
from gpai_operator.admission.server import AdmissionServer
from gpai_operator.admission.serving import WebhookThread
from gpai_operator.runtime import Runtime

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")

# A stand-in for KServe's InferenceService CRD: enough for the API server to store InferenceServices
# and send them to the webhook (KServe's own schema is large; admission reads only spec.predictor).
KSERVE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "inferenceservices.serving.kserve.io"},
    "spec": {
        "group": "serving.kserve.io",
        "names": {
            "kind": "InferenceService",
            "listKind": "InferenceServiceList",
            "plural": "inferenceservices",
            "singular": "inferenceservice",
            "shortNames": ["isvc"],
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1beta1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def install_kserve_crd(api_client: ApiClient, timeout: float = 30.0) -> bool:
    """Creates the stand-in InferenceService CRD unless one exists; True if it was created here."""
    from kubernetes.client import ApiextensionsV1Api
    from kubernetes.client.exceptions import ApiException

    from gpai_operator.testing.crds import wait_until_established

    api = ApiextensionsV1Api(api_client)
    try:
        api.create_custom_resource_definition(KSERVE_CRD)
    except ApiException as error:
        if error.status == 409:
            return False
        raise
    wait_until_established(api, KSERVE_CRD["metadata"]["name"], time.monotonic() + timeout)
    return True


@dataclass(frozen=True)
class WebhookCertificates:
    ca_pem: bytes  # the caBundle of the webhook configuration
    ca_file: Path
    cert_file: Path  # the serving certificate (chain)
    key_file: Path

    @classmethod
    def create(cls, folder: Path, names: tuple[str, ...] = LOOPBACK_NAMES) -> WebhookCertificates:
        """A new CA and a serving certificate for `names`, written into `folder`."""
        import trustme

        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="gpai-operator webhook (test)")
        leaf = ca.issue_cert(*names, common_name=names[0])
        certs = cls(
            ca_pem=ca.cert_pem.bytes(),
            ca_file=folder / "webhook-ca.crt",
            cert_file=folder / "webhook.crt",
            key_file=folder / "webhook.key",
        )
        ca.cert_pem.write_to_path(str(certs.ca_file))
        leaf.private_key_pem.write_to_path(str(certs.key_file))
        certs.key_file.chmod(0o600)
        certs.cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        return certs


class ServedWebhook:
    """The admission server answering from `runtime`, in a thread with its own event loop, as the
    operator serves it (serving.WebhookThread)."""

    def __init__(
        self,
        runtime: Runtime,
        certs: WebhookCertificates,
        address: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        """`options`: build_server's keyword options (client_ca_file, client_names, limits)."""
        self.server: AdmissionServer = build_server(
            address, port, certs.cert_file, certs.key_file, runtime=runtime, **options
        )
        self.address = address
        self._thread: WebhookThread | None = None

    @property
    def port(self) -> int:
        return self._thread.port if self._thread is not None else self.server.port or 0

    @property
    def url(self) -> str:
        return webhook_url(self.address, self.port)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> Self:
        self._thread = WebhookThread(self.server).start(timeout)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
