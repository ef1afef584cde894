"""Start-up checks with answers a person can act on: is the API reachable, are the CRDs there (those
of the kinds it derives too), may the operator do what it needs (SelfSubjectAccessReviews, every
missing permission listed), can it hold the leader Lease, is KServe installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gpai_operator.api.base import API_VERSION, GROUP
from gpai_operator.controller.derived import DerivedKind
from gpai_operator.controller.kube import ApiError, JsonObject, KubeClient
from gpai_operator.controller.leadership import LeaseSettings
from gpai_operator.controller.resources import (
    NAMESPACES,
    OUR_KINDS,
    STATUS_WRITTEN,
    Watched,
    workload_watches,
)
from gpai_operator.engine import DEFAULT_KINDS, WorkloadKinds

SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class PreflightError(Exception):
    """The operator cannot work against this cluster; the message says why and what to do."""


@dataclass(frozen=True)
class Permission:
    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""

    def __str__(self) -> str:
        what = f"{self.group or 'core'}/{self.resource}" + (
            f"/{self.subresource}" if self.subresource else ""
        )
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {what} {where}"


@dataclass(frozen=True)
class Discovery:
    server_version: str
    served: Mapping[str, str] = field(default_factory=dict)  # optional workload kind -> version served

    @property
    def kserve(self) -> bool:  # InferenceService is served
        return "InferenceService" in self.served

    @property
    def kserve_version(self) -> str:  # its preferred version, e.g. v1beta1
        return self.served.get("InferenceService", "")


def required_permissions(
    namespaces: Sequence[str],
    kserve: bool,
    lease: LeaseSettings | None,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    *,
    metrics_auth: bool = False,
    derived: Sequence[DerivedKind] = (),
) -> list[Permission]:
    scopes = list(namespaces) or [""]
    wanted: list[Permission] = []

    def add(w: Watched, verbs: tuple[str, ...]) -> None:
        for namespace in scopes if w.namespaced else [""]:
            wanted.extend(Permission(verb, w.group, w.plural, namespace=namespace) for verb in verbs)

    for w in OUR_KINDS:
        add(w, ("list", "watch"))
    for namespace in scopes:
        wanted.extend(Permission("patch", GROUP, plural, "status", namespace) for plural in STATUS_WRITTEN)
        wanted.append(Permission("create", "", "events", namespace=namespace))
    add(NAMESPACES, ("list", "watch"))
    for w in workload_watches(kinds):
        if w.kind == "InferenceService" and not kserve:
            continue
        add(w, ("list", "watch", "patch"))
    for kind in derived:  # server-side apply is a patch (one that creates needs create too)
        add(kind.watched, ("list", "watch", "create", "patch", "delete"))
        if kind.status:
            for namespace in scopes if kind.namespaced else [""]:
                wanted.append(Permission("patch", kind.group, kind.plural, "status", namespace))
    wanted += [
        Permission("list", "apiextensions.k8s.io", "customresourcedefinitions"),
        Permission("watch", "apiextensions.k8s.io", "customresourcedefinitions"),
    ]
    if lease is not None:
        wanted += [
            Permission(verb, "coordination.k8s.io", "leases", namespace=lease.namespace)
            for verb in ("get", "create", "update")
        ]
    if metrics_auth:  # who scrapes /metrics is asked of the API server (controller/access.py)
        wanted.append(Permission("create", "authentication.k8s.io", "tokenreviews"))
        wanted.append(Permission("create", "authorization.k8s.io", "subjectaccessreviews"))
    return wanted


async def _allowed(client: KubeClient, permission: Permission) -> bool:
    attributes = {"verb": permission.verb, "group": permission.group, "resource": permission.resource}
    if permission.subresource:
        attributes["subresource"] = permission.subresource
    if permission.namespace:
        attributes["namespace"] = permission.namespace
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    answer = await client.create(SSAR_PATH, review)
    return bool((answer or {}).get("status", {}).get("allowed"))


async def _served(client: KubeClient, path: str) -> JsonObject | None:
    try:
        return await client.get(path)
    except ApiError as error:
        if error.not_found:
            return None
        raise


async def served_version(client: KubeClient, group: str, version: str, plural: str) -> str:
    """The version of an optional kind the cluster serves ("" when none): `version` if served,
    else (no version configured) the group's preferred one."""
    if version:
        found = await _served(client, f"/apis/{group}/{version}")
        resources = (found or {}).get("resources") or []
        served = any(isinstance(r, dict) and r.get("name") == plural for r in resources)
        return version if served else ""
    found_group = await _served(client, f"/apis/{group}")
    preferred = (found_group or {}).get("preferredVersion") or {}
    return str(preferred.get("version") or "")


async def preflight(
    client: KubeClient,
    namespaces: Sequence[str],
    lease: LeaseSettings | None,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    *,
    metrics_auth: bool = False,
    derived: Sequence[DerivedKind] = (),
) -> Discovery:
    where = f"{client.credentials.server} (credentials: {client.credentials.source})"
    try:
        version = await client.get("/version")
    except ApiError as error:
        if error.unreachable:
            raise PreflightError(f"cannot reach the Kubernetes API at {where}: {error.message}") from error
        if error.status == 401:
            raise PreflightError(f"the Kubernetes API at {where} refused the credentials (401)") from error
        raise PreflightError(f"the Kubernetes API at {where} answered: {error}") from error
    try:
        ours = await _served(client, f"/apis/{API_VERSION}")
        served = {r.get("name") for r in (ours or {}).get("resources", [])}
        missing = [w.plural for w in OUR_KINDS if w.plural not in served]
        if missing:
            raise PreflightError(
                f"the {GROUP} CustomResourceDefinitions are not installed ({API_VERSION} lacks "
                f"{', '.join(missing)}): apply crds/ (kubectl apply -f crds/) or install the Helm chart"
            )
        for output in derived:
            found = await _served(client, f"/apis/{output.api_version}")
            if not any(r.get("name") == output.plural for r in (found or {}).get("resources", [])):
                raise PreflightError(
                    f"{output.api_version} {output.kind} ({output.plural}) is not served, and the operator "
                    "is to write it: install its CustomResourceDefinition (crds/ or the Helm chart)"
                )
        optional: dict[str, str] = {}  # optional kind -> the version served
        for kind in kinds:
            if kind.optional and (
                kind_version := await served_version(client, kind.group, kind.version, kind.resource)
            ):
                optional[kind.kind] = kind_version
        permissions = required_permissions(
            namespaces,
            "InferenceService" in optional,
            lease,
            kinds,
            metrics_auth=metrics_auth,
            derived=derived,
        )
        answers = await asyncio.gather(*(_allowed(client, p) for p in permissions))
        denied = [p for p, allowed in zip(permissions, answers, strict=True) if not allowed]
        if denied:
            lines = "\n".join(f"  - {p}" for p in denied)
            raise PreflightError(
                f"RBAC: the operator's identity may not do what it needs at {where}; missing:\n{lines}\n"
                "Grant them (the chart's ClusterRole has every one) and start again."
            )
        if lease is not None and await _served(client, f"/api/v1/namespaces/{lease.namespace}") is None:
            raise PreflightError(
                f"leader election: namespace {lease.namespace} of the Lease {lease.name} does not exist; "
                "pass --leader-election-namespace (the chart sets it to the release's namespace)"
            )
    except ApiError as error:
        raise PreflightError(f"start-up checks against {where} failed: {error}") from error
    return Discovery(server_version=str((version or {}).get("gitVersion", "")), served=optional)


async def serves(client: KubeClient, api_version: str, plural: str) -> bool:
    """Whether the cluster serves `plural` in `api_version` (e.g. openreports.io/v1alpha1 reports)."""
    found = await _served(client, f"/apis/{api_version}")
    return any(isinstance(r, dict) and r.get("name") == plural for r in (found or {}).get("resources") or [])
