"""Certificates, keys and kubeconfigs of a throwaway control plane.

One CA signs the API server's serving certificate and the client certificates; the API server
trusts client certificates from the same CA. The admin is in ``system:masters``, the group that RBAC
always allows; kube-controller-manager is ``system:kube-controller-manager``, the user the API
server's bootstrap RBAC policy grants what the controller manager itself needs.
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
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
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
    controller_manager_cert: Path
    controller_manager_key: Path
    service_account_key: Path  # signs service-account tokens
    service_account_pub: Path  # verifies them

    def client(self, user: str) -> tuple[Path, Path]:
        """The client certificate and key of `user`: ADMIN_USER or CONTROLLER_MANAGER_USER."""
        pairs = {
            ADMIN_USER: (self.admin_cert, self.admin_key),
            CONTROLLER_MANAGER_USER: (self.controller_manager_cert, self.controller_manager_key),
        }
        if user not in pairs:
            raise KeyError(f"no client certificate for user {user!r}; there are {sorted(pairs)}")
        return pairs[user]


def new_ca() -> trustme.CA:
    return trustme.CA(organization_name="gpai-operator test control plane")


def write_pki(folder: Path, ca: trustme.CA | None = None) -> PkiFiles:
    """Creates (or takes) a CA, the API server's serving pair, two client pairs and a service-account
    key."""
    folder.mkdir(parents=True, exist_ok=True)
    files = PkiFiles(
        ca_cert=folder / "ca.crt",
        serving_cert=folder / "apiserver.crt",
        serving_key=folder / "apiserver.key",
        admin_cert=folder / "admin.crt",
        admin_key=folder / "admin.key",
        controller_manager_cert=folder / "controller-manager.crt",
        controller_manager_key=folder / "controller-manager.key",
        service_account_key=folder / "service-account.key",
        service_account_pub=folder / "service-account.pub",
    )
    ca = ca or new_ca()
    ca.cert_pem.write_to_path(str(files.ca_cert))
    serving = ca.issue_cert(*SERVING_NAMES, common_name="kube-apiserver")
    serving.cert_chain_pems[0].write_to_path(str(files.serving_cert))
    serving.private_key_pem.write_to_path(str(files.serving_key))
    _issue_client(ca, ADMIN_USER, ADMIN_GROUP, files.admin_cert, files.admin_key)
    # Every authenticated user is in system:authenticated anyway; naming it keeps trustme's default
    # organization out of the groups (kube-controller-manager has none of its own).
    _issue_client(
        ca,
        CONTROLLER_MANAGER_USER,
        "system:authenticated",
        files.controller_manager_cert,
        files.controller_manager_key,
    )
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
    for key in (files.serving_key, files.admin_key, files.controller_manager_key, files.service_account_key):
        key.chmod(0o600)
    return files


def issue_client(ca: trustme.CA, folder: Path, user: str, group: str) -> tuple[Path, Path]:
    """A client certificate and key for `user` in `group`, written into `folder`; (cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = user.replace(":", "-")
    cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
    _issue_client(ca, user, group, cert, key)
    key.chmod(0o600)
    return cert, key


def _issue_client(ca: trustme.CA, user: str, group: str, cert: Path, key: Path) -> None:
    """A client certificate the API server reads as `user` (CN) in `group` (O)."""
    # The name doubles as a SAN: Go rejects the empty critical SAN extension trustme writes without one.
    # A SAN must be a DNS label, so `system:...` users get a stand-in.
    san = user.replace(":", "-")
    issued = ca.issue_cert(san, common_name=user, organization_name=group)
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))


def write_kubeconfig(
    path: Path,
    server: str,
    pki: PkiFiles,
    name: str = "gpai-test",
    user: str = ADMIN_USER,
    client: tuple[Path, Path] | None = None,
) -> Path:
    """A self-contained kubeconfig (certificates inlined) for `user`, the admin by default, with
    `client` (certificate, key) or the user's pair in `pki`."""
    cert, key = client or pki.client(user)

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
                "name": user,
                "user": {"client-certificate-data": inline(cert), "client-key-data": inline(key)},
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
