"""The test control plane's audit log: who created which workload object.

kube-apiserver writes one JSON event per line for every `create` of Pods, ReplicationControllers,
ServiceAccounts and the `apps` and `batch` workload kinds made by kube-controller-manager, under
its own name or as one of the per-controller service accounts in kube-system. The response object
is logged (without managedFields), so an event names the object it created by uid, including Pods
whose name the API server generated. Requests by anybody else are not logged: the log is evidence
of what the controllers did, and costs nothing where they do not run. An event is written as its
request completes: read the log with a short retry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpai_operator.testing.pki import CONTROLLER_MANAGER_USER

CONTROLLER_NAMESPACE = "kube-system"
# Named one by one: a subresource such as serviceaccounts/token (whose response is a token) never matches.
_LOGGED_RESOURCES = [
    {"group": "", "resources": ["pods", "replicationcontrollers", "serviceaccounts"]},
    {
        "group": "apps",
        "resources": ["deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"],
    },
    {"group": "batch", "resources": ["jobs", "cronjobs"]},
]
POLICY: dict[str, Any] = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "omitManagedFields": True,
    "rules": [
        {
            "level": "RequestResponse",
            "verbs": ["create"],
            "userGroups": [f"system:serviceaccounts:{CONTROLLER_NAMESPACE}"],
            "resources": _LOGGED_RESOURCES,
        },
        {
            "level": "RequestResponse",
            "verbs": ["create"],
            "users": [CONTROLLER_MANAGER_USER],
            "resources": _LOGGED_RESOURCES,
        },
        {"level": "None"},
    ],
}


def controller_identity(controller: str) -> str:
    """The user name a kube-controller-manager controller acts as with per-controller credentials,
    e.g. ``replicaset-controller``."""
    return f"system:serviceaccount:{CONTROLLER_NAMESPACE}:{controller}"


@dataclass(frozen=True)
class Creation:
    """One successful create the audit log recorded."""

    user: str
    resource: str  # plural, e.g. "pods"
    namespace: str
    name: str
    uid: str


def creations(audit_log: Path) -> Iterator[Creation]:
    """Every successful create in the log, oldest first."""
    with audit_log.open() as lines:
        for line in lines:
            event = json.loads(line)
            response = event.get("responseObject") or {}
            status = (event.get("responseStatus") or {}).get("code")
            if event.get("verb") != "create" or status not in (200, 201) or "metadata" not in response:
                continue
            metadata = response["metadata"]
            yield Creation(
                user=event["user"]["username"],
                resource=event["objectRef"]["resource"],
                namespace=metadata.get("namespace", ""),
                name=metadata["name"],
                uid=metadata["uid"],
            )


def creators(audit_log: Path) -> dict[str, str]:
    """The user who created each logged object, by uid."""
    return {creation.uid: creation.user for creation in creations(audit_log)}
