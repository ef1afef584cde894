"""Where the reconciler's writes go: the `Writer` protocol, and `ApiWriter` over the operator's client.

Merge patches of GPAIModel and SeriousIncident status and of workload metadata, Event creation, and
the objects of the derived kinds (controller/derived.py), applied whole or deleted: nothing else is
ever written. Every request is fenced by `leading`, asked as its bytes are written: one that waited
(for a connection, or in a paused process) is not sent once this replica no longer leads
(`Fenced`). Unit tests put a recording fake in its place (tests/unit/controller/fakes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from gpai_operator.controller.derived import FIELD_MANAGER, DerivedKind
from gpai_operator.controller.kube import KubeClient
from gpai_operator.controller.resources import events_path, object_path
from gpai_operator.engine import Workload


class Writer(Protocol):
    """Where the reconciler's writes go: the API server, or a recorder in unit tests."""

    async def patch_status(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None: ...

    async def patch_workload(
        self, workload: Workload, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None: ...

    async def post_event(self, namespace: str, body: Mapping[str, Any]) -> None: ...

    async def patch_incident_status(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None: ...

    async def apply_derived(self, kind: DerivedKind, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """A derived object, whole (server-side apply): created, or made exactly `body`."""
        ...

    async def apply_derived_status(
        self, kind: DerivedKind, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """A derived object's status subresource, whole (server-side apply)."""
        ...

    async def delete_derived(self, kind: DerivedKind, namespace: str, name: str, uid: str) -> None:
        """A derived object, if it still is the one with `uid`."""
        ...


class ApiWriter:
    """Writes through the operator's KubeClient: what the module docstring lists, nothing else."""

    def __init__(
        self,
        client: KubeClient,
        plurals: Mapping[str, str] | None = None,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.client = client
        self.plurals = plurals or {}  # kind -> plural, for workload kinds added by configuration
        self.leading = leading

    async def patch_status(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        path = object_path("gpai.dev/v1alpha1", "GPAIModel", namespace, name, "status")
        return await self.client.merge_patch(path, body, self.leading)

    async def patch_workload(self, workload: Workload, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        path = object_path(
            workload.api_version,
            workload.kind,
            workload.namespace,
            workload.name,
            plural=self.plurals.get(workload.kind, ""),
        )
        return await self.client.merge_patch(path, body, self.leading)

    async def post_event(self, namespace: str, body: Mapping[str, Any]) -> None:
        await self.client.create(events_path(namespace), body, self.leading)

    async def patch_incident_status(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        path = object_path("gpai.dev/v1alpha1", "SeriousIncident", namespace, name, "status")
        return await self.client.merge_patch(path, body, self.leading)

    async def apply_derived(self, kind: DerivedKind, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return await self.client.apply(_derived_path(kind, body), body, FIELD_MANAGER, self.leading)

    async def apply_derived_status(
        self, kind: DerivedKind, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        path = _derived_path(kind, body, "status")
        return await self.client.apply(path, body, FIELD_MANAGER, self.leading)

    async def delete_derived(self, kind: DerivedKind, namespace: str, name: str, uid: str) -> None:
        preconditions = {"preconditions": {"uid": uid}} if uid else {}
        body = {"apiVersion": "v1", "kind": "DeleteOptions", **preconditions}
        await self.client.delete(kind.path(namespace, name), body, self.leading)


def _derived_path(kind: DerivedKind, body: Mapping[str, Any], subresource: str = "") -> str:
    metadata = body["metadata"]
    return kind.path(str(metadata.get("namespace") or ""), str(metadata["name"]), subresource)
