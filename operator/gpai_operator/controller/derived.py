"""Objects the operator derives wholly from its state: desired manifests in, the differences written.

Some kinds are the operator's output only, every field computed from the cluster state: the
AdmissionVerdicts of the native gate (one per covered namespace), OpenReports reports. Each is
plugged in as one `DerivedSource`, a kind descriptor and a pure function:

    source = DerivedSource(
        kind=DerivedKind("gpai.dev/v1alpha1", "AdmissionVerdicts", "admissionverdicts", namespaced=True,
                         status=True),
        desired=lambda state, verdicts, now: {("ml", "gpai-verdicts"): {...manifest...}},
        stamps=("status.evaluated",),
    )
    build_loop(runtime, writer, derived=[source])

`desired(state, verdicts, now)` returns every object of the kind that should exist, keyed by
(namespace, name) ("" as the namespace of a cluster-scoped kind), each a whole manifest: `metadata`
with at least the name (namespace, labels and annotations as wanted), the content fields (`spec`, or
whatever the kind holds at the top level) and, for a kind with a status subresource, `status`.
`verdicts` are the reconciler's current model verdicts (`runtime.verdicts`); `now` is the pass's
time. It must be pure and cheap enough to run on every reconcile pass that evaluated models or
follows a change of the state (`workloads=False` spares it the passes where only workloads changed).

The rest is the mechanism's:

- Every object carries `app.kubernetes.io/managed-by: gpai-operator` (added here), and only objects
  carrying it are the operator's: others of the kind (another tool's reports) are never touched.
- What exists is what the watch of the kind shows (listed at start-up with everything else), kept
  in `Observed.derived` together with the answers to the operator's own writes; so after a restart,
  or on gaining leadership, a converged cluster gets no write at all.
- An object is written whole by server-side apply (field manager `gpai-operator`, forced), never by a
  merge patch (which would keep what left a map): when its labels, annotations or content differ
  from the desired ones; its status, through the status subresource, when the status differs or the
  content was written. Fields named in `stamps` (dotted paths, e.g. the time of an evaluation) are
  not compared: they are written along with a change, never for themselves.
- An object of the operator's that is no longer desired is deleted (with its uid as precondition).
- Only the leader writes, asking again right before each request (and fenced at sending, as every
  write is); a failed write is retried as the reconciler's others are (controller/writes.py: per
  object, backing off), by working the kind out again.
- Someone else's change to such an object (an edit, a deletion) is noticed by the watch and undone
  in the next pass; one deleted while no watch ran is found by the next listing (controller/listing.py).

A source whose `desired` raises writes and deletes nothing in that pass (a bug must not empty the
cluster of its objects).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gpai_operator.controller.resources import Watched
from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict, ObjectKey

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "gpai-operator"
FIELD_MANAGER = "gpai-operator"
ENVELOPE = frozenset({"apiVersion", "kind", "metadata", "status"})

Manifest = dict[str, Any]
Desire = Callable[[ClusterState, Mapping[ModelKey, ModelVerdict], dt.datetime], Mapping[ObjectKey, Manifest]]


@dataclass(frozen=True)
class DerivedKind:
    """A kind the operator writes and nobody else: where its objects live in the REST API."""

    api_version: str  # e.g. gpai.dev/v1alpha1 (or v1 for the core group)
    kind: str
    plural: str
    namespaced: bool
    status: bool = False  # it has a status subresource: a manifest's `status` is written through it

    @property
    def key(self) -> tuple[str, str]:
        return self.api_version, self.kind

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def watched(self) -> Watched:
        """Its listing and watch (controller/watches.py)."""
        return Watched(self.group, self.version, self.plural, self.kind, self.namespaced, patched=True)

    def path(self, namespace: str, name: str, subresource: str = "") -> str:
        root = f"/apis/{self.api_version}" if self.group else f"/api/{self.api_version}"
        scope = f"/namespaces/{namespace}" if self.namespaced else ""
        tail = f"/{subresource}" if subresource else ""
        return f"{root}{scope}/{self.plural}/{name}{tail}"


@dataclass(frozen=True)
class DerivedSource:
    """One derived kind and the pure function of its desired objects."""

    kind: DerivedKind
    desired: Desire
    stamps: tuple[str, ...] = ()  # dotted paths not compared (times): written only with a change
    # Whether its objects depend on workloads; False spares working them out again when only a
    # workload changed (the pods of every Deployment rollout).
    workloads: bool = True


Action = Literal["create", "replace", "status", "delete"]


@dataclass(frozen=True)
class DerivedPlan:
    """One write to one derived object: apply it (`manifest`, then `status`), or delete it."""

    kind: DerivedKind
    key: ObjectKey
    action: Action
    manifest: Manifest | None = None  # the whole object without status; None: the content is as wanted
    status: Manifest | None = None  # the status subresource's body; None: the status is as wanted
    uid: str = ""  # of the object to delete

    @property
    def result_key(self) -> tuple[str, ...]:
        return (self.kind.kind, *self.key)


def is_managed(body: Mapping[str, Any]) -> bool:
    """Whether an object is the operator's own (carries the managed-by label)."""
    labels = (body.get("metadata") or {}).get("labels")
    return isinstance(labels, Mapping) and labels.get(MANAGED_BY_LABEL) == MANAGED_BY


def observed_form(body: Mapping[str, Any]) -> Manifest:
    """What is kept of a watched or written object: the fields compared, its uid and resourceVersion
    (managedFields and the rest of the metadata are dropped)."""
    metadata = body.get("metadata") or {}
    kept = {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion") if key in metadata}
    for key in ("labels", "annotations"):
        if isinstance(metadata.get(key), Mapping):
            kept[key] = dict(metadata[key])
    form: Manifest = {key: copy.deepcopy(value) for key, value in body.items() if key not in ENVELOPE}
    form["metadata"] = kept
    if "status" in body:
        form["status"] = copy.deepcopy(body["status"])
    return form


def complete(kind: DerivedKind, key: ObjectKey, manifest: Mapping[str, Any]) -> Manifest:
    """The manifest as written: apiVersion, kind, name and namespace from the key, the managed-by
    label. Raises ValueError for a manifest that names another object or kind."""
    namespace, name = key
    where = f"{kind.kind} {namespace}/{name}" if namespace else f"{kind.kind} {name}"
    metadata = dict(manifest.get("metadata") or {})
    for field, wanted in (("name", name), ("namespace", namespace if kind.namespaced else None)):
        given = metadata.get(field)
        if given not in (None, wanted):
            raise ValueError(f"{where}: metadata.{field} is {given!r}")
    for field, wanted in (("apiVersion", kind.api_version), ("kind", kind.kind)):
        if manifest.get(field) not in (None, wanted):
            raise ValueError(f"{where}: {field} is {manifest.get(field)!r}")
    if not kind.namespaced and namespace:
        raise ValueError(f"{kind.kind} {name} is cluster-scoped: keyed with namespace {namespace!r}")
    metadata["name"] = name
    if kind.namespaced:
        metadata["namespace"] = namespace
    metadata["labels"] = {**(metadata.get("labels") or {}), MANAGED_BY_LABEL: MANAGED_BY}
    return {**dict(manifest), "apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata}


def _without(obj: Any, paths: Iterable[tuple[str, ...]]) -> Any:
    """`obj` without the fields at `paths` (those not there are ignored); copied only along them."""
    for path in paths:
        obj = _without_one(obj, path)
    return obj


def _without_one(obj: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(obj, Mapping) or not path or path[0] not in obj:
        return obj
    head, rest = path[0], path[1:]
    copied = dict(obj)
    if rest:
        copied[head] = _without_one(obj[head], rest)
    else:
        del copied[head]
    return copied


def _content(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in ENVELOPE}


def _metadata_differs(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    """The desired labels and annotations not all there (others' extra ones are theirs: ignored)."""
    want, have = desired.get("metadata") or {}, observed.get("metadata") or {}
    for key in ("labels", "annotations"):
        present = have.get(key) or {}
        if any(present.get(k) != v for k, v in (want.get(key) or {}).items()):
            return True
    return False


def content_differs(source: DerivedSource, desired: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    paths = [tuple(p.split(".")) for p in source.stamps]
    stripped = _without(_content(desired), paths), _without(_content(observed), paths)
    return _metadata_differs(desired, observed) or bool(stripped[0] != stripped[1])


def status_differs(source: DerivedSource, desired: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    if not source.kind.status:
        return False
    paths = [tuple(p.split("."))[1:] for p in source.stamps if p.startswith("status.")]
    return bool(_without(desired.get("status") or {}, paths) != _without(observed.get("status") or {}, paths))


def differs(
    source: DerivedSource, desired: Mapping[str, Any] | None, observed: Mapping[str, Any] | None
) -> bool:
    """Whether an object is not as wanted (None: not wanted, or not there)."""
    if desired is None or observed is None:
        return desired is not observed
    return content_differs(source, desired, observed) or status_differs(source, desired, observed)


def plan_derived(
    source: DerivedSource, desired: Mapping[ObjectKey, Manifest], observed: Mapping[ObjectKey, Manifest]
) -> list[DerivedPlan]:
    """The writes that make what is observed what is desired (both as `complete` and `observed_form`
    give them), in key order: creations and replacements, status updates, deletions."""
    kind = source.kind
    plans: list[DerivedPlan] = []
    for key in sorted(desired):
        want, have = desired[key], observed.get(key)
        status = _status_body(kind, want) if kind.status and "status" in want else None
        if have is None:
            plans.append(DerivedPlan(kind, key, "create", _main(kind, want), status))
        elif content_differs(source, want, have):
            plans.append(DerivedPlan(kind, key, "replace", _main(kind, want), status))
        elif status is not None and status_differs(source, want, have):
            plans.append(DerivedPlan(kind, key, "status", None, status))
    for key in sorted(observed.keys() - desired.keys()):
        uid = str((observed[key].get("metadata") or {}).get("uid") or "")
        plans.append(DerivedPlan(kind, key, "delete", uid=uid))
    return plans


def _main(kind: DerivedKind, manifest: Mapping[str, Any]) -> Manifest:
    """The object as applied to the main resource: without status where a subresource holds it."""
    return {k: v for k, v in manifest.items() if not (kind.status and k == "status")}


def _status_body(kind: DerivedKind, manifest: Mapping[str, Any]) -> Manifest:
    metadata = manifest["metadata"]
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": {k: metadata[k] for k in ("name", "namespace") if k in metadata},
        "status": manifest.get("status") or {},
    }
