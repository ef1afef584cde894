"""The test control plane's audit log: who created which workload object, and what the operator's
replicas did.

kube-apiserver writes one JSON event per line for every `create` of Pods, ReplicationControllers,
ServiceAccounts and the `apps` and `batch` workload kinds made by kube-controller-manager, under
its own name or as one of the per-controller service accounts in kube-system. The response object
is logged (without managedFields), so an event names the object it created by uid, including Pods
whose name the API server generated. Users in the group `OPERATORS` (the fault tests give each
operator replica a client certificate of its own in that group) have every write, list and watch
logged at the Metadata level: who, what, when the request arrived and how it ended, which is how
the fault tests prove which replica wrote what, and when. Requests by anybody else are not logged.
An event is written as its request completes: read the log with a short retry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpai_operator.testing.pki import CONTROLLER_MANAGER_USER

CONTROLLER_NAMESPACE = "kube-system"
OPERATORS = "gpai:operators"  # the group of the operator identities whose requests are logged
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# Created to ask a question, stored nowhere: not writes to the cluster.
REVIEWS = frozenset(
    {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews", "tokenreviews"}
)
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
        {
            "level": "Metadata",
            "userGroups": [OPERATORS],
            "verbs": [*sorted(WRITES), "list", "watch"],
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


@dataclass(frozen=True)
class Request:
    """One request of an operator identity, as the audit log recorded it."""

    user: str
    verb: str
    resource: str  # plural, e.g. "gpaimodels"; "" for non-resource URLs
    subresource: str  # e.g. "status"
    namespace: str
    name: str
    received: dt.datetime  # when the API server received it (its requestReceivedTimestamp)
    code: int  # the response's HTTP status (0 when none was recorded)
    uri: str

    @property
    def write(self) -> bool:
        """A change to something stored (a review is a question, not a write)."""
        return self.verb in WRITES and self.resource not in REVIEWS

    @property
    def succeeded(self) -> bool:
        return 200 <= self.code < 300


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _request(event: dict[str, Any], users: set[str] | None) -> Request | None:
    """The event as a Request when it is an operator identity's (one of `users`) and final."""
    user = event.get("user") or {}
    if OPERATORS not in (user.get("groups") or ()) or (users and user.get("username") not in users):
        return None
    stage, verb = event.get("stage"), event.get("verb", "")
    if stage != ("ResponseStarted" if verb == "watch" else "ResponseComplete"):
        return None
    ref = event.get("objectRef") or {}
    return Request(
        user=user["username"],
        verb=verb,
        resource=ref.get("resource", ""),
        subresource=ref.get("subresource", ""),
        namespace=ref.get("namespace", ""),
        name=ref.get("name", ""),
        received=_instant(event["requestReceivedTimestamp"]),
        code=int((event.get("responseStatus") or {}).get("code") or 0),
        uri=event.get("requestURI", ""),
    )


def requests(audit_log: Path, users: set[str] | None = None) -> Iterator[Request]:
    """The requests of the OPERATORS group (of `users` only, if given) in the order they completed;
    a watch once, when its response started."""
    yield from RequestTail(audit_log, users).read()


class RequestTail:
    """The requests of `requests()`, read as the log grows: each `read()` returns the new ones."""

    def __init__(self, audit_log: Path, users: set[str] | None = None) -> None:
        self.path, self.users = audit_log, users
        self._offset = 0

    def read(self) -> list[Request]:
        found = []
        with self.path.open("rb") as log:
            log.seek(self._offset)
            for line in log:
                if not line.endswith(b"\n"):  # being written: read it next time
                    break
                self._offset += len(line)
                request = _request(json.loads(line), self.users)
                if request is not None:
                    found.append(request)
        return found
