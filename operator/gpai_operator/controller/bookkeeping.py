"""What the sync and the reconciler share, so neither reads the other's fields.

- `Observed`: what the watches (and the answers to the reconciler's own writes) last showed of the
  fields the operator writes: model and incident status, the workloads' `gpai.dev/*` annotations,
  and the objects of the kinds it derives wholly (controller/derived.py).
- `Desired`: what the reconciler last computed for those fields and objects. The sync compares the two to tell
  someone else's edit (queue the object again) from the echo of the operator's own write (nothing).
- `WorkQueue`: the one way the sync hands work to the reconciler.

`wiring.build_loop` makes both sides over one `Observed` and one `Desired`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gpai_operator.controller.annotations import Marks
from gpai_operator.engine import ModelKey, ObjectKey, WorkloadKey

KindKey = tuple[str, str]  # (apiVersion, kind) of a derived kind
T = TypeVar("T")


def one_copy(seen: T, wanted: T | None) -> T:
    """What was seen, or the equal object already held as wanted: once converged, an object's status
    or annotations are held once, not twice (a model's status is ~13 KiB; never changed in place)."""
    return wanted if wanted is not None and seen == wanted else seen


class Packed:
    """A model's status as it is held between passes: canonical JSON, compressed. A status is some
    13 KiB of Python objects (the obligations with their messages); packed it is about 1 KiB, and a
    status is read (unpacked) only when its model is evaluated again. Equal when the JSON is equal,
    or, should the API server have written a number differently (1.0 as 1), when the values are."""

    __slots__ = ("_data",)

    def __init__(self, value: Mapping[str, Any]) -> None:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._data = zlib.compress(text.encode(), 1)

    def unpack(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(zlib.decompress(self._data))
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packed):
            return NotImplemented
        return self._data == other._data or self.unpack() == other.unpack()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Packed({self.unpack()!r})"


def unpacked(packed: Packed | None) -> dict[str, Any] | None:
    return packed.unpack() if packed is not None else None


@dataclass(frozen=True)
class InvalidModel:
    """A GPAIModel the API server accepted but the engine cannot read (e.g. a newer schema)."""

    message: str
    generation: int
    uid: str


@dataclass
class Observed:
    """The last seen values of what the operator writes, per object, from the watches."""

    model_status: dict[ModelKey, Packed] = field(default_factory=dict)
    incident_status: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)  # SeriousIncidents
    invalid_models: dict[ModelKey, InvalidModel] = field(default_factory=dict)
    marks: dict[WorkloadKey, Marks] = field(default_factory=dict)
    uids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (kind, namespace, name) -> uid
    # The operator's own objects of each derived kind (derived.observed_form), and the resourceVersions
    # its latest writes to each produced: their watch events, arriving late, are not news.
    derived: dict[KindKey, dict[ObjectKey, dict[str, Any]]] = field(default_factory=dict)
    derived_written: dict[tuple[KindKey, ObjectKey], tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Desired:
    """What the reconciler last computed for each object it writes (written by the reconciler only)."""

    model_status: dict[ModelKey, Packed] = field(default_factory=dict)
    incident_status: dict[ObjectKey, dict[str, Any]] = field(default_factory=dict)
    marks: dict[WorkloadKey, Marks] = field(default_factory=dict)
    derived: dict[KindKey, dict[ObjectKey, dict[str, Any]]] = field(default_factory=dict)


class WorkQueue(Protocol):
    """What the sync asks of the reconciler."""

    def enqueue_models(self, keys: Iterable[ModelKey]) -> None:
        """Evaluate these models again (and the workloads that name them)."""

    def enqueue_workloads(self, keys: Iterable[WorkloadKey]) -> None:
        """Decide these workloads again."""

    def enqueue_derived(self, *, workloads: bool = False) -> None:
        """The state changed (or a derived object is not as wanted): work the derived objects out
        again; `workloads`: only a workload changed (only the kinds that read workloads)."""

    def forget_workload(self, key: WorkloadKey) -> None:
        """The workload is gone: drop what was computed for it."""

    def forget_incident(self, key: ObjectKey) -> None:
        """The SeriousIncident is gone: drop what was computed for it."""

    def synced(self) -> None:
        """The start-up listing is in the state: start reconciling, everything first."""
