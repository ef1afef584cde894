"""An in-memory stand-in for the API server behind the reconciler's writes, and the watch feeding back.

`FakeCluster.create(obj)` stores an object and passes it to the StateSync as a watch event would;
the reconciler's patches are applied to the stored objects (JSON merge patch), recorded, and fed
back to the StateSync the same way, so a test sees the whole loop without a network.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Mapping
from typing import Any

from gpai_operator import objects
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
    def __init__(self, now: dt.datetime, leading: bool = True) -> None:
        self.clock = ManualClock(now)
        self.runtime = Runtime(clock=self.clock)
        self.leading = leading
        loop = build_loop(self.runtime, self, leading=lambda: self.leading)
        self.sync, self.reconciler, self.observed = loop.sync, loop.reconciler, loop.observed
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.writes: list[tuple[str, tuple[str, str, str], Any]] = []
        self.events: list[Obj] = []
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

    def get(self, kind: str, namespace: str, name: str) -> Obj:
        return self.objects[(kind, namespace, name)]

    def start(self) -> None:
        """The watches have listed everything."""
        self.sync.listed()

    async def settle(self, passes: int = 5) -> None:
        """Reconcile until nothing is queued (our own writes come back as events)."""
        for _ in range(passes):
            if self.reconciler.idle:
                return
            await self.reconciler.reconcile_once()
        assert self.reconciler.idle, "the reconciler keeps finding work: a feedback loop"

    # ---- the Writer protocol -----------------------------------------------------------------
    async def patch_status(self, namespace: str, name: str, body: Mapping[str, Any]) -> Obj:
        self.writes.append(("status", ("GPAIModel", namespace, name), copy.deepcopy(body)))
        return self._patch(("GPAIModel", namespace, name), body)

    async def patch_workload(self, workload: Workload, body: Mapping[str, Any]) -> Obj:
        key = (workload.kind, workload.namespace, workload.name)
        self.writes.append(("workload", key, copy.deepcopy(body)))
        return self._patch(key, body)

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
