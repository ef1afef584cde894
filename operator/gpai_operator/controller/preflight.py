"""Start-up checks with answers a person can act on: is the API reachable, are the CRDs there,
may the operator do what it needs (SelfSubjectAccessReviews, every missing permission listed),
does the peering object exist, is KServe installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from gpai_operator.api.base import API_VERSION, GROUP
from gpai_operator.controller.kube import ApiError, KubeClient
from gpai_operator.controller.leadership import PEERING_PATH
from gpai_operator.controller.resources import INFERENCE_SERVICES, NAMESPACES, OUR_KINDS, WORKLOADS, Watched

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
    kserve: bool  # InferenceService is served
    kserve_version: str = ""  # its preferred version, e.g. v1beta1


def required_permissions(
    namespaces: Sequence[str], kserve: bool, peering: str | None, *, metrics_auth: bool = False
) -> list[Permission]:
    scopes = list(namespaces) or [""]
    wanted: list[Permission] = []

    def add(w: Watched, verbs: tuple[str, ...]) -> None:
        for namespace in scopes if w.namespaced else [""]:
            wanted.extend(Permission(verb, w.group, w.plural, namespace=namespace) for verb in verbs)

    for w in OUR_KINDS:
        add(w, ("list", "watch"))
    for namespace in scopes:
        wanted.append(Permission("patch", GROUP, "gpaimodels", "status", namespace))
        wanted.append(Permission("create", "", "events", namespace=namespace))
    add(NAMESPACES, ("list", "watch"))
    for w in WORKLOADS:
        if w is INFERENCE_SERVICES and not kserve:
            continue
        add(w, ("list", "watch", "patch"))
    wanted += [
        Permission("list", "apiextensions.k8s.io", "customresourcedefinitions"),
        Permission("watch", "apiextensions.k8s.io", "customresourcedefinitions"),
    ]
    if peering:
        wanted.append(Permission("patch", "kopf.dev", "clusterkopfpeerings"))
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


async def _served(client: KubeClient, path: str) -> dict[str, object] | None:
    try:
        return await client.get(path)  # type: ignore[no-any-return]
    except ApiError as error:
        if error.not_found:
            return None
        raise


async def preflight(
    client: KubeClient, namespaces: Sequence[str], peering: str | None, *, metrics_auth: bool = False
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
        served = {r.get("name") for r in (ours or {}).get("resources", [])}  # type: ignore[union-attr]
        missing = [w.plural for w in OUR_KINDS if w.plural not in served]
        if missing:
            raise PreflightError(
                f"the {GROUP} CustomResourceDefinitions are not installed ({API_VERSION} lacks "
                f"{', '.join(missing)}): apply crds/ (kubectl apply -f crds/) or install the Helm chart"
            )
        kserve_group = await _served(client, "/apis/serving.kserve.io")
        preferred = (kserve_group or {}).get("preferredVersion") or {}
        kserve_version = str(preferred.get("version") or "")  # type: ignore[union-attr]
        kserve = bool(kserve_version)
        permissions = required_permissions(namespaces, kserve, peering, metrics_auth=metrics_auth)
        answers = await asyncio.gather(*(_allowed(client, p) for p in permissions))
        denied = [p for p, allowed in zip(permissions, answers, strict=True) if not allowed]
        if denied:
            lines = "\n".join(f"  - {p}" for p in denied)
            raise PreflightError(
                f"RBAC: the operator's identity may not do what it needs at {where}; missing:\n{lines}\n"
                "Grant them (the chart's ClusterRole has every one) and start again."
            )
        if peering and await _served(client, PEERING_PATH.format(name=peering)) is None:
            raise PreflightError(
                f"peering object missing: ClusterKopfPeering {peering} does not exist (or its CRD, "
                "clusterkopfpeerings.kopf.dev, is not installed); the chart creates both, or run "
                "with --standalone"
            )
    except ApiError as error:
        raise PreflightError(f"start-up checks against {where} failed: {error}") from error
    return Discovery(
        server_version=str((version or {}).get("gitVersion", "")),
        kserve=kserve,
        kserve_version=kserve_version,
    )
