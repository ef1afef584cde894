"""TLS on the webhook listener: 1.2 or 1.3 with modern ciphers only; the API server's client
certificate required when a client CA is configured."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from gpai_operator.admission.testing import ServedWebhook, WebhookCertificates
from gpai_operator.runtime.tls import TLS12_CIPHERS
from tests.unit.admission.builders import review as admission_review
from tests.unit.admission.builders import workload


@pytest.fixture(scope="module")
def rsa_certs(tmp_path_factory: pytest.TempPathFactory) -> WebhookCertificates:
    folder = tmp_path_factory.mktemp("webhook-rsa-certs")
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = ca.issue_cert("127.0.0.1", key_type=trustme.KeyType.RSA)
    certs = WebhookCertificates(
        ca.cert_pem.bytes(), folder / "ca.crt", folder / "tls.crt", folder / "tls.key"
    )
    ca.cert_pem.write_to_path(str(certs.ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(certs.cert_file))
    leaf.private_key_pem.write_to_path(str(certs.key_file))
    return certs


@pytest.fixture(scope="module")
def client_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA(organization_name="the API server's client CA")
    path = tmp_path_factory.mktemp("client-ca") / "client-ca.crt"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture
def webhook(rt: Any, certs: WebhookCertificates) -> Iterator[ServedWebhook]:
    with ServedWebhook(rt, certs) as served:
        yield served


def client_context(certs: WebhookCertificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs.ca_file))


def handshake(webhook: ServedWebhook, context: ssl.SSLContext) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", webhook.port), timeout=10)
    return context.wrap_socket(sock, server_hostname="127.0.0.1")


def refused(webhook: ServedWebhook, context: ssl.SSLContext) -> bool:
    """Whether the server ends the connection instead of answering a request on it. (asyncio drops a
    failed handshake without flushing the TLS alert; with TLS 1.3 a missing client certificate is
    only noticed by the server after the client thinks the handshake is done.)"""
    try:
        with handshake(webhook, context) as sock:
            sock.sendall(b"GET /validate HTTP/1.1\r\nHost: x\r\n\r\n")
            return sock.recv(1) == b""
    except (ssl.SSLError, ConnectionError):
        return True


def accepted_by_a_permissive_server(certs: WebhookCertificates, context: ssl.SSLContext) -> str:
    """The TLS version a server accepting anything negotiates with this client: proof that the client
    really offers what a test says the webhook refuses."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    server_context.set_ciphers("ALL:@SECLEVEL=0")
    server_context.load_cert_chain(certs.cert_file, certs.key_file)
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def accept() -> None:
            connection, _ = listener.accept()
            with contextlib.suppress(OSError), server_context.wrap_socket(connection, server_side=True):
                pass

        thread = threading.Thread(target=accept)
        thread.start()
        with context.wrap_socket(
            socket.create_connection(listener.getsockname(), timeout=10), server_hostname="127.0.0.1"
        ) as sock:
            version = sock.version() or ""
        thread.join(10)
    return version


def review(webhook: ServedWebhook, context: ssl.SSLContext) -> int:
    connection = http.client.HTTPSConnection("127.0.0.1", webhook.port, context=context, timeout=10)
    try:
        body = json.dumps(admission_review("CREATE", workload("Deployment")))
        connection.request("POST", "/validate", body=body, headers={"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


# ---- protocol versions and ciphers ----------------------------------------------------------------------
def legacy_client(certs: WebhookCertificates, maximum: ssl.TLSVersion, ciphers: str) -> ssl.SSLContext:
    context = client_context(certs)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = maximum
    context.set_ciphers(ciphers + ":@SECLEVEL=0")  # let this client offer what old clients offer
    return context


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_and_older_are_refused(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    context = legacy_client(certs, ssl.TLSVersion.TLSv1_1, "ALL")
    assert accepted_by_a_permissive_server(certs, context) == "TLSv1.1"

    assert refused(webhook, context)


def key_certs(cipher: str, request: pytest.FixtureRequest) -> WebhookCertificates:
    """Certificates whose key suits the cipher (an -RSA- suite needs an RSA key, -ECDSA- an ECDSA one)."""
    return request.getfixturevalue("certs" if "ECDSA" in cipher else "rsa_certs")


@pytest.mark.parametrize(
    "cipher",
    [
        "AES128-GCM-SHA256",  # RSA key exchange: no forward secrecy
        "ECDHE-RSA-AES128-SHA",  # CBC
        "ECDHE-ECDSA-AES256-SHA384",  # CBC
    ],
)
def test_tls_1_2_without_ecdhe_and_aead_is_refused(
    rt: Any, cipher: str, request: pytest.FixtureRequest
) -> None:
    certs = key_certs(cipher, request)
    context = legacy_client(certs, ssl.TLSVersion.TLSv1_2, cipher)
    assert accepted_by_a_permissive_server(certs, context) == "TLSv1.2"

    with ServedWebhook(rt, certs) as webhook:
        assert refused(webhook, context)


@pytest.mark.parametrize("cipher", TLS12_CIPHERS.split(":"))
def test_tls_1_2_with_a_modern_cipher_is_served(rt: Any, cipher: str, request: pytest.FixtureRequest) -> None:
    certs = key_certs(cipher, request)
    context = legacy_client(certs, ssl.TLSVersion.TLSv1_2, cipher)

    with ServedWebhook(rt, certs) as webhook:
        with handshake(webhook, context) as sock:
            assert sock.version() == "TLSv1.2"
            assert sock.cipher()[0] == cipher
        assert review(webhook, context) == 200


def test_tls_1_3_is_served(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    with handshake(webhook, client_context(certs)) as sock:
        assert sock.version() == "TLSv1.3"
    assert not refused(webhook, client_context(certs))


# ---- the API server's client certificate -----------------------------------------------------------------
@pytest.fixture
def verifying(
    rt: Any, certs: WebhookCertificates, client_ca: tuple[trustme.CA, Path]
) -> Iterator[ServedWebhook]:
    with ServedWebhook(rt, certs, client_ca_file=client_ca[1]) as served:
        yield served


def with_client_certificate(certs: WebhookCertificates, ca: trustme.CA, name: str) -> ssl.SSLContext:
    context = client_context(certs)
    ca.issue_cert(name, common_name=name).configure_cert(context)
    return context


def test_with_a_client_ca_a_client_without_a_certificate_is_refused(
    verifying: ServedWebhook, certs: WebhookCertificates
) -> None:
    assert refused(verifying, client_context(certs))


def test_with_a_client_ca_a_certificate_from_another_ca_is_refused(
    verifying: ServedWebhook, certs: WebhookCertificates
) -> None:
    stranger = with_client_certificate(certs, trustme.CA(), "kube-apiserver")

    assert refused(verifying, stranger)


def test_with_a_client_ca_a_certificate_it_issued_is_served(
    verifying: ServedWebhook, certs: WebhookCertificates, client_ca: tuple[trustme.CA, Path]
) -> None:
    assert review(verifying, with_client_certificate(certs, client_ca[0], "kube-apiserver")) == 200


def test_allowed_client_names_narrow_the_certificates_served(
    rt: Any, certs: WebhookCertificates, client_ca: tuple[trustme.CA, Path]
) -> None:
    ca, ca_file = client_ca
    with ServedWebhook(rt, certs, client_ca_file=ca_file, client_names=["kube-apiserver"]) as served:
        assert review(served, with_client_certificate(certs, ca, "kube-apiserver")) == 200

        connection = http.client.HTTPSConnection(
            "127.0.0.1", served.port, context=with_client_certificate(certs, ca, "kubelet"), timeout=10
        )
        connection.request("POST", "/validate", body=b"{}")
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()

    assert response.status == 403
    assert answer["reason"] == "Forbidden"
    assert answer["message"] == (
        "the client certificate's names (kubelet) are not among the webhook's allowed clients"
    )
