"""What the operator watches and where each object lives in the REST API."""

from __future__ import annotations

from dataclasses import dataclass

from gpai_operator.api.base import API_VERSION, GROUP
from gpai_operator.api.kinds import KINDS
from gpai_operator.engine import DEFAULT_KINDS, WorkloadKind, WorkloadKinds


@dataclass(frozen=True)
class Watched:
    """One resource the operator lists and watches; also, for the start-up checks, its RBAC names."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    patched: bool  # the operator writes to it (workload annotations)
    optional: bool = False  # served only when its CRD is installed (KServe)


OUR_KINDS: tuple[Watched, ...] = tuple(
    Watched(GROUP, API_VERSION.split("/")[1], k.plural, k.kind, k.namespaced, patched=False) for k in KINDS
)
NAMESPACES = Watched("", "v1", "namespaces", "Namespace", namespaced=False, patched=False)
# Our kinds whose status subresource the operator writes.
STATUS_WRITTEN: tuple[str, ...] = ("gpaimodels", "seriousincidents")


def workload_watch(kind: WorkloadKind) -> Watched:
    return Watched(
        kind.group, kind.version, kind.resource, kind.kind, True, patched=True, optional=kind.optional
    )


def workload_watches(kinds: WorkloadKinds = DEFAULT_KINDS) -> tuple[Watched, ...]:
    """Every workload kind; controllers' kinds first, so a child's controller is usually known before it."""
    return tuple(workload_watch(k) for k in kinds)


WORKLOADS: tuple[Watched, ...] = workload_watches()
INFERENCE_SERVICES = next(w for w in WORKLOADS if w.kind == "InferenceService")
PLURALS: dict[str, str] = {w.kind: w.plural for w in (*OUR_KINDS, NAMESPACES, *WORKLOADS)}


def object_path(
    api_version: str, kind: str, namespace: str, name: str, subresource: str = "", plural: str = ""
) -> str:
    """The REST path of one object, e.g. /apis/apps/v1/namespaces/ml/deployments/chat."""
    root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace else ""
    tail = f"/{subresource}" if subresource else ""
    return f"{root}{scope}/{plural or PLURALS[kind]}/{name}{tail}"


def events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/events"
