"""What a client sees of a request: status, body and the admission warnings (HTTP Warning headers)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gpai_operator import objects
from gpai_operator.engine import ClusterState
from gpai_operator.loader import load

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
_WARNING = re.compile(r'^\d{3} \S+ "((?:[^"\\]|\\.)*)"')
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

PLURALS = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "ReplicaSet": "replicasets",
    "ReplicationController": "replicationcontrollers",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "Pod": "pods",
    "InferenceService": "inferenceservices",
    "ConfigMap": "configmaps",
}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))


def call(
    api_client: ApiClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = JSON,
    query: list[tuple[str, str]] | None = None,
    impersonate: str | None = None,
) -> Reply:
    """One request as kubectl makes it (`--as` with `impersonate`); errors come back as a Reply."""
    header_params = {"Accept": JSON, "Content-Type": content_type}
    if impersonate:
        header_params["Impersonate-User"] = impersonate
    method, url, headers, body, _ = api_client.param_serialize(
        method,
        path,
        query_params=query or [],
        header_params=header_params,
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, headers, body)
    data = response.read()
    warnings = [
        _unquote(match.group(1))
        for value in response.headers.getlist("Warning")
        if (match := _WARNING.match(value))
    ]
    return Reply(response.status, json.loads(data) if data else {}, warnings)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def collection(obj: dict[str, Any]) -> str:
    api_version, kind = obj["apiVersion"], obj["kind"]
    root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    return f"{root}/namespaces/{obj['metadata']['namespace']}/{PLURALS[kind]}"


def path_of(obj: dict[str, Any]) -> str:
    return f"{collection(obj)}/{obj['metadata']['name']}"


def create(api_client: ApiClient, obj: dict[str, Any], *, dry_run: bool = False) -> Reply:
    return call(api_client, "POST", collection(obj), obj, query=[("dryRun", "All")] if dry_run else None)


def patch(
    api_client: ApiClient,
    obj: dict[str, Any],
    change: dict[str, Any],
    subresource: str = "",
    impersonate: str | None = None,
) -> Reply:
    path = path_of(obj) + (f"/{subresource}" if subresource else "")
    return call(api_client, "PATCH", path, change, content_type=MERGE_PATCH, impersonate=impersonate)


def delete(api_client: ApiClient, obj: dict[str, Any]) -> Reply:
    return call(api_client, "DELETE", path_of(obj))


def example_evidence(name: str, namespace: str) -> list[dict[str, Any]]:
    """The objects of examples/models/<name>.yaml, moved into `namespace`."""
    loaded = load([str(EXAMPLES / "models" / f"{name}.yaml")])
    assert not loaded.errors, loaded.errors
    moved = []
    for manifest in loaded.manifests:
        obj = dict(manifest.obj)
        obj["metadata"] = {**obj["metadata"], "namespace": namespace}
        moved.append(obj)
    return moved


def feed(state: ClusterState, *manifests: dict[str, Any]) -> None:
    for manifest in manifests:
        objects.apply(state, manifest)
