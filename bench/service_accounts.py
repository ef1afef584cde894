"""Identities for the processes a benchmark starts: a ServiceAccount and a kubeconfig holding its token,
so the API server authenticates and authorizes each of them as it would the pod it stands in for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gpai_operator.testing.rest import request_json

TOKEN_SECONDS = 24 * 3600


def username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def _create(api_client: Any, path: str, body: dict[str, Any]) -> None:
    """POST, leaving an object that already exists as it is."""
    from kubernetes.client.exceptions import ApiException

    try:
        request_json(api_client, "POST", path, body=body)
    except ApiException as error:
        if error.status != 409:
            raise


def service_account_kubeconfig(
    api_client: Any, admin_kubeconfig: Path, namespace: str, name: str, path: Path
) -> Path:
    """Creates namespace/name (and the namespace) bound to cluster-admin, and writes a kubeconfig for
    it beside the admin's server and CA: a TokenRequest token valid for a day."""
    _create(api_client, "/api/v1/namespaces", {"metadata": {"name": namespace}})
    _create(api_client, f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": name}})
    binding = {
        "metadata": {"name": f"{namespace}:{name}:cluster-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "namespace": namespace, "name": name}],
    }
    _create(api_client, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": TOKEN_SECONDS},
    }
    token = request_json(
        api_client, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", body=request
    )["status"]["token"]
    config = yaml.safe_load(admin_kubeconfig.read_text())
    config["users"] = [{"name": name, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path
