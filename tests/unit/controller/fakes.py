"""An in-memory stand-in for the API server behind the reconciler's writes, and the watch feeding back.

`FakeCluster.create(obj)` stores an object and passes it to the StateSync as a watch event would;
the reconciler's patches are applied to the stored objects (JSON merge patch), its applies of
derived objects replace what the operator owns (as server-side apply does), its deletions remove;
all are recorded and fed back to the StateSync the same way, so a test sees the whole loop without
a network. `fail_next` makes the next write fail with that error; workload patches of the keys in
`held` (or of every workload with `hold_all`) stay in flight until `release()`.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gpai_operator import objects
from gpai_operator.controller.derived import DerivedKind, DerivedSource
from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.wiring import build_loop
from gpai_operator.engine import Workload
from gpai_operator.runtime import ManualClock, Runtime

Obj = dict[str, Any]


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


class FakeCluster:
    def __init__(
        self,
        now: dt.datetime,
        leading: bool = True,
        derived: Sequence[DerivedSource] = (),
        retry_delay: float = 5.0,
    ) -> None:
        self.clock = ManualClock(now)
        self.runtime = Runtime(clock=self.clock)
        self.leading = leading
        loop = build_loop(
            self.runtime, self, leading=lambda: self.leading, derived=derived, retry_delay=retry_delay
        )
        self.sync, self.reconciler, self.observed = loop.sync, loop.reconciler, loop.observed
        self.desired = loop.desired
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.writes: list[tuple[str, tuple[str, str, str], Any]] = []
        self.events: list[Obj] = []
        self.fail_next: ApiError | None = None
        self.held: set[tuple[str, str, str]] = set()
        self.hold_all = False
        self.in_flight = 0
        self.most_in_flight = 0
        self._released: asyncio.Event | None = None
        self._uids = itertools.count(1)
        self._versions = itertools.count(1)

    # ---- what users do ------------------------------------------------------------------------
    def create(self, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        _, kind, namespace, name = objects.identity(obj)
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("namespace", namespace) if namespace else None
        metadata.setdefault("uid", f"uid-{next(self._uids)}")
        metadata.setdefault("generation", 1)
        metadata["resourceVersion"] = str(next(self._versions))
        self.objects[(kind, namespace, name)] = obj
        self.sync.upsert(obj)
        return obj

    def update(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> Obj:
        key = (kind, namespace, name)
        obj = merge(self.objects[key], patch)
        if "spec" in patch:
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
        obj["metadata"]["resourceVersion"] = str(next(self._versions))
        self.objects[key] = obj
        self.sync.upsert(obj)
        return obj

    def delete(self, kind: str, namespace: str, name: str) -> None:
        obj = self.objects.pop((kind, namespace, name))
        self.sync.delete(obj)

    def of_kind(self, kind: str) -> dict[tuple[str, str], Obj]:
        """The stored objects of one kind, by (namespace, name)."""
        return {(ns, name): obj for (k, ns, name), obj in self.objects.items() if k == kind}

    def written(self, *operations: str) -> list[tuple[str, tuple[str, str, str], Any]]:
        """The writes recorded so far, only those of `operations` if given."""
        return [w for w in self.writes if not operations or w[0] in operations]

    def get(self, kind: str, namespace: str, name: str) -> Obj:
        return self.objects[(kind, namespace, name)]

    def start(self) -> None:
        """The watches have listed everything."""
        self.sync.listed()

    def load(self, objs: Iterable[Obj]) -> FakeCluster:
        """These objects created, and the watches' start-up listing over: a started operator (settle
        it, or run its reconciler, next)."""
        for obj in objs:
            self.create(obj)
        self.start()
        return self

    def add(self, *objs: Obj) -> None:
        """These objects created in a started cluster, and reconciled until settled (outside an
        event loop)."""
        for obj in objs:
            self.create(obj)
        asyncio.run(self.settle())

    async def settle(self, passes: int = 5) -> None:
        """Reconcile until nothing is queued (our own writes come back as events)."""
        for _ in range(passes):
            if self.reconciler.idle:
                return
            await self.reconciler.reconcile_once()
            await self.reconciler.written()
        assert self.reconciler.idle, "the reconciler keeps finding work: a feedback loop"

    # ---- the Writer protocol -----------------------------------------------------------------
    async def patch_status(self, namespace: str, name: str, body: Mapping[str, Any]) -> Obj:
        self.writes.append(("status", ("GPAIModel", namespace, name), copy.deepcopy(body)))
        return self._patch(("GPAIModel", namespace, name), body)

    async def patch_workload(self, workload: Workload, body: Mapping[str, Any]) -> Obj:
        key = (workload.kind, workload.namespace, workload.name)
        self.writes.append(("workload", key, copy.deepcopy(body)))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold_all or key in self.held:
                if self._released is None:
                    self._released = asyncio.Event()
                await self._released.wait()
        finally:
            self.in_flight -= 1
        return self._patch(key, body)

    def release(self) -> None:
        """Let the held workload patches answer (and hold none from now on)."""
        self.held.clear()
        self.hold_all = False
        if self._released is not None:
            self._released.set()
            self._released = None

    async def post_event(self, namespace: str, body: Mapping[str, Any]) -> None:
        self.events.append(copy.deepcopy(dict(body)))

    async def patch_incident_status(self, namespace: str, name: str, body: Mapping[str, Any]) -> Obj:
        self.writes.append(("status", ("SeriousIncident", namespace, name), copy.deepcopy(body)))
        return self._patch(("SeriousIncident", namespace, name), body)

    def _patch(self, key: tuple[str, str, str], body: Mapping[str, Any]) -> Obj:
        obj = merge(self.objects[key], body)
        obj["metadata"]["resourceVersion"] = str(next(self._versions))
        self.objects[key] = obj
        self.sync.upsert(obj)  # the watch event of our own write
        return copy.deepcopy(obj)

    # ---- derived objects (server-side apply and deletion) ---------------------------------------------
    async def apply_derived(self, kind: DerivedKind, body: Mapping[str, Any]) -> Obj:
        self._fail()
        key = self._derived_key(kind, body)
        self.writes.append(("apply", key, copy.deepcopy(body)))
        existing = self.objects.get(key)
        obj = copy.deepcopy(dict(body))
        if existing is not None:  # what others own stays: extra labels, the status
            metadata = {**existing["metadata"], **obj["metadata"]}
            metadata["labels"] = {
                **existing["metadata"].get("labels", {}),
                **obj["metadata"].get("labels", {}),
            }
            obj["metadata"] = metadata
            if "status" in existing:
                obj["status"] = existing["status"]
        return self._store(key, obj)

    async def apply_derived_status(self, kind: DerivedKind, body: Mapping[str, Any]) -> Obj:
        self._fail()
        key = self._derived_key(kind, body)
        self.writes.append(("apply-status", key, copy.deepcopy(body)))
        if key not in self.objects:
            raise ApiError("PATCH", "/status", 404, "NotFound", "not found")
        obj = copy.deepcopy(self.objects[key])
        obj["status"] = copy.deepcopy(body["status"])
        return self._store(key, obj)

    async def delete_derived(self, kind: DerivedKind, namespace: str, name: str, uid: str) -> None:
        self._fail()
        key = (kind.kind, namespace, name)
        self.writes.append(("delete", key, uid))
        obj = self.objects.get(key)
        if obj is None:
            raise ApiError("DELETE", "/", 404, "NotFound", "not found")
        if uid and obj["metadata"]["uid"] != uid:
            raise ApiError("DELETE", "/", 409, "Conflict", "precondition failed: uid")
        del self.objects[key]
        self.sync.delete(obj)

    def _fail(self) -> None:
        error, self.fail_next = self.fail_next, None
        if error is not None:
            raise error

    @staticmethod
    def _derived_key(kind: DerivedKind, body: Mapping[str, Any]) -> tuple[str, str, str]:
        return kind.kind, str(body["metadata"].get("namespace") or ""), str(body["metadata"]["name"])

    def _store(self, key: tuple[str, str, str], obj: Obj) -> Obj:
        metadata = obj["metadata"]
        metadata.setdefault("uid", f"uid-{next(self._uids)}")
        metadata["resourceVersion"] = str(next(self._versions))
        self.objects[key] = obj
        self.sync.upsert(obj)  # the watch event of our own write
        return copy.deepcopy(obj)
