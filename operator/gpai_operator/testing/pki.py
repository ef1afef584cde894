"""Certificates, keys and the kubeconfig of a throwaway control plane.

One CA signs the API server's serving certificate and the admin's client certificate; the API
server trusts client certificates from the same CA. The admin is in ``system:masters``, the group
that RBAC always allows.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import trustme
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ADMIN_USER = "gpai-admin"
ADMIN_GROUP = "system:masters"
# Names the API server answers to: loopback, and the in-cluster service (first IP of the service range).
SERVING_NAMES = (
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.0.0.1",
)


@dataclass(frozen=True)
class PkiFiles:
    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path  # signs service-account tokens
    service_account_pub: Path  # verifies them


def write_pki(folder: Path) -> PkiFiles:
    """Creates a CA, the API server's serving pair, an admin client pair and a service-account key."""
    folder.mkdir(parents=True, exist_ok=True)
    files = PkiFiles(
        ca_cert=folder / "ca.crt",
        serving_cert=folder / "apiserver.crt",
        serving_key=folder / "apiserver.key",
        admin_cert=folder / "admin.crt",
        admin_key=folder / "admin.key",
        service_account_key=folder / "service-account.key",
        service_account_pub=folder / "service-account.pub",
    )
    ca = trustme.CA(organization_name="gpai-operator test control plane")
    ca.cert_pem.write_to_path(str(files.ca_cert))
    serving = ca.issue_cert(*SERVING_NAMES, common_name="kube-apiserver")
    serving.cert_chain_pems[0].write_to_path(str(files.serving_cert))
    serving.private_key_pem.write_to_path(str(files.serving_key))
    # The name doubles as a SAN: Go rejects the empty critical SAN extension trustme writes without one.
    admin = ca.issue_cert(ADMIN_USER, common_name=ADMIN_USER, organization_name=ADMIN_GROUP)
    admin.cert_chain_pems[0].write_to_path(str(files.admin_cert))
    admin.private_key_pem.write_to_path(str(files.admin_key))
    sa_key = ec.generate_private_key(ec.SECP256R1())
    files.service_account_key.write_bytes(
        sa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.service_account_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for key in (files.serving_key, files.admin_key, files.service_account_key):
        key.chmod(0o600)
    return files


def write_kubeconfig(path: Path, server: str, pki: PkiFiles, name: str = "gpai-test") -> Path:
    """A self-contained kubeconfig (certificates inlined) for the admin identity."""

    def inline(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": inline(pki.ca_cert)}}
        ],
        "users": [
            {
                "name": ADMIN_USER,
                "user": {
                    "client-certificate-data": inline(pki.admin_cert),
                    "client-key-data": inline(pki.admin_key),
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": ADMIN_USER}}],
        "current-context": name,
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
