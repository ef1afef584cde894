"""Watch events into the cluster state: what the listings and watches call (controller/watches.py).

`StateSync` keeps `runtime.state` current with `objects.apply/remove`, remembers what the watches
last saw of the fields the operator itself writes (model status, the workload annotations), and
tells the reconciler what to look at again:

- a model whose evaluation may change (anything `apply` reports, but only when the object really
  changed: a status-only update of a GPAIModel or an annotation-only update of a workload changes
  no verdict);
- a model whose status differs from what the reconciler last computed (someone edited it);
- a workload whose labels or `gpai.dev/*` annotations differ from what it should carry (a user
  writing `gpai.dev/compliance: Compliant` by hand).

So the reconciler's own writes come back as events that queue nothing: no feedback loop.

Any real change of the state also asks the reconciler to work out the derived objects again
(controller/derived.py); their own watch events are kept as observed, and queue that work only when
an object is not what the reconciler wants (someone edited or deleted it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from gpai_operator import objects
from gpai_operator.controller.annotations import observed_marks
from gpai_operator.controller.bookkeeping import Desired, InvalidModel, Observed, Packed, WorkQueue, one_copy
from gpai_operator.controller.derived import DerivedSource, differs, is_managed, observed_form
from gpai_operator.engine import ClusterState, ModelKey, ObjectKey, WorkloadKey
from gpai_operator.runtime import Runtime, audit

logger = logging.getLogger("gpai_operator.sync")


def _current(state: ClusterState, kind: str, namespace: str, name: str) -> Any:
    """The state's entry for one of our objects (to tell a real change from a status-only one)."""
    if kind == "CompliancePolicy":
        return state.policies.get(name)
    if kind == "GPAIModel":  # its version history (status.versions) is read by the engine too
        return (state.models.get((namespace, name)), state.versions.get((namespace, name)))
    tables: dict[str, Mapping[ObjectKey, object]] = {
        "ModelDocumentation": state.documentation,
        "CopyrightPolicy": state.copyright_policies,
        "RiskEvaluation": state.evaluations,
        "SeriousIncident": state.incidents,
    }
    table = tables.get(kind)
    return table.get((namespace, name)) if table is not None else None


class StateSync:
    def __init__(
        self,
        runtime: Runtime,
        observed: Observed,
        desired: Desired,
        queue: WorkQueue,
        derived: Iterable[DerivedSource] = (),
    ) -> None:
        self.runtime = runtime
        self.observed = observed
        self.desired = desired
        self.queue = queue
        self.derived = {source.kind.key: source for source in derived}

    @property
    def state(self) -> ClusterState:
        return self.runtime.state

    # ---- called by the listings and watches ---------------------------------------------------
    def upsert(self, body: Mapping[str, Any]) -> None:
        """An object was listed, added or modified."""
        with self.runtime.lock:  # the webhook judges from the state on its own thread
            self._upsert(body)

    def delete(self, body: Mapping[str, Any]) -> None:
        """An object was deleted. A stale deletion (the name already has a new object) is ignored."""
        with self.runtime.lock:
            self._delete(body)

    def _upsert(self, body: Mapping[str, Any]) -> None:
        api_version, kind, namespace, name = objects.identity(body)
        source = self.derived.get((api_version, kind))
        if source is not None:
            self._upsert_derived(source, body)
            return
        uid = str((body.get("metadata") or {}).get("uid") or "")
        self.observed.uids[(kind, namespace, name)] = uid
        if objects.is_ours(body):
            self._upsert_ours(body, kind, namespace, name, uid)
        elif objects.is_workload(body, self.state.kinds):
            self._upsert_workload(body, kind, namespace, name)
        elif kind == "Namespace" and api_version == "v1":
            self.queue.enqueue_models(objects.apply(self.state, body))
            self.queue.enqueue_derived()

    def _delete(self, body: Mapping[str, Any]) -> None:
        api_version, kind, namespace, name = objects.identity(body)
        source = self.derived.get((api_version, kind))
        if source is not None:
            self._delete_derived(source, body)
            return
        uid = str((body.get("metadata") or {}).get("uid") or "")
        known = self.observed.uids.get((kind, namespace, name))
        if known is not None and uid and known != uid:
            return
        self.observed.uids.pop((kind, namespace, name), None)
        affected = objects.remove(self.state, body)
        if kind == "GPAIModel" and objects.is_ours(body):
            key = (namespace, name)
            self.observed.model_status.pop(key, None)
            self.observed.invalid_models.pop(key, None)
            affected.add(key)
        elif kind == "SeriousIncident" and objects.is_ours(body):
            self.observed.incident_status.pop((namespace, name), None)
            self.queue.forget_incident((namespace, name))
        elif objects.is_workload(body, self.state.kinds):
            self.observed.marks.pop((kind, namespace, name), None)
            self.queue.forget_workload((kind, namespace, name))
            self._claims_changed((kind, namespace, name))
        self.queue.enqueue_models(affected)
        self.queue.enqueue_derived(workloads=objects.is_workload(body, self.state.kinds))

    def known(self, kind: str) -> dict[tuple[str, str], str]:
        """The objects of `kind` the state came from, (namespace, name) -> uid; for a derived kind, the
        operator's own objects (one deleted unwatched is then written again)."""
        derived = [seen for (_, k), seen in self.observed.derived.items() if k == kind]
        if derived:
            return {key: str(form["metadata"].get("uid") or "") for key, form in derived[0].items()}
        return {(ns, name): uid for (k, ns, name), uid in self.observed.uids.items() if k == kind}

    def listed(self) -> None:
        """The start-up listing is in the state: from now on the state is the cluster's."""
        if not self.runtime.synced:
            self.runtime.synced = True
            audit(
                logger,
                "state synced",
                models=len(self.state.models),
                workloads=len(self.state.workloads),
                policies=len(self.state.policies),
                namespaces=len(self.state.namespaces),
            )
            self.queue.synced()

    # ---- details ------------------------------------------------------------------------------
    def _upsert_ours(self, body: Mapping[str, Any], kind: str, namespace: str, name: str, uid: str) -> None:
        key = (namespace, name)
        before = _current(self.state, kind, namespace, name)
        changed = True
        try:
            affected = objects.apply(self.state, body)
        except objects.InvalidObject as error:
            audit(
                logger,
                "object cannot be evaluated; treated as absent",
                logging.WARNING,
                kind=kind,
                namespace=namespace,
                name=name,
                error=str(error),
            )
            affected = objects.remove(self.state, body)
            if kind == "GPAIModel":
                generation = int((body.get("metadata") or {}).get("generation") or 0)
                self.observed.invalid_models[key] = InvalidModel(str(error), generation, uid)
                affected.add(key)
        else:
            if kind == "GPAIModel" and self.observed.invalid_models.pop(key, None) is not None:
                affected.add(key)
            if before is not None and before == _current(self.state, kind, namespace, name):
                affected = set()  # metadata or status only: no verdict can change
                changed = False
        if kind == "GPAIModel":
            status = body.get("status")
            seen = Packed(status if isinstance(status, Mapping) else {})
            wanted = self.desired.model_status.get(key)
            self.observed.model_status[key] = one_copy(seen, wanted)
            if seen != wanted:
                affected.add(key)
        elif kind == "SeriousIncident":
            affected |= self._incident_status_seen(body, key)
        self.queue.enqueue_models(affected)
        if changed:
            self.queue.enqueue_derived()

    def _incident_status_seen(self, body: Mapping[str, Any], key: ObjectKey) -> set[ModelKey]:
        """Remember a SeriousIncident's status; its model when the status is not what it should be."""
        status = body.get("status")
        status = dict(status) if isinstance(status, Mapping) else {}
        wanted = self.desired.incident_status.get(key)
        self.observed.incident_status[key] = one_copy(status, wanted)
        incident = self.state.incidents.get(key)
        if incident is None or status == wanted:
            return set()
        return {(key[0], incident.spec.model_ref.name)}

    def _upsert_workload(self, body: Mapping[str, Any], kind: str, namespace: str, name: str) -> None:
        key: WorkloadKey = (kind, namespace, name)
        before = self.state.workloads.get(key)
        affected = objects.apply(self.state, body)
        after = self.state.workloads.get(key)
        if before == after:
            affected = set()  # only annotations, status or spec changed: the model's verdict did not
        else:
            self.queue.enqueue_derived(workloads=True)
        marks = observed_marks((body.get("metadata") or {}).get("annotations"))
        wanted = self.desired.marks.get(key)
        self.observed.marks[key] = one_copy(marks, wanted)
        self.queue.enqueue_models(affected)
        if after is not None and (before != after or marks != (wanted or {})):
            self.queue.enqueue_workloads({key})
        if before is None or after is None or before.uid != after.uid:
            self._claims_changed(key)

    def _claims_changed(self, key: WorkloadKey) -> None:
        """A workload appeared, went or was recreated: whether the objects whose controller reference
        names it are gated through it may have changed (and so their annotations and model counts)."""
        claimed = self.state.claimed_by(key)
        if not claimed:
            return
        self.queue.enqueue_workloads(claimed)
        workloads = self.state.workloads
        self.queue.enqueue_models(
            {model for k in claimed if (w := workloads.get(k)) is not None and (model := w.model_key)}
        )

    # ---- the derived kinds (controller/derived.py) -------------------------------------------------
    def _upsert_derived(self, source: DerivedSource, body: Mapping[str, Any]) -> None:
        kind, key = source.kind.key, _derived_key(source, body)
        seen = self.observed.derived.setdefault(kind, {})
        wanted = self.desired.derived.get(kind, {}).get(key)
        if not is_managed(body):  # not the operator's (or no longer labelled so): never touched
            if seen.pop(key, None) is not None or wanted is not None:
                self.queue.enqueue_derived()
            return
        version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        current = seen.get(key)
        if (
            current is not None
            and version in self.observed.derived_written.get((kind, key), ())
            and version != current["metadata"].get("resourceVersion")
        ):
            return  # the late echo of an earlier write of ours: what we hold is newer
        form = observed_form(body)
        seen[key] = form
        if differs(source, wanted, form):
            self.queue.enqueue_derived()

    def _delete_derived(self, source: DerivedSource, body: Mapping[str, Any]) -> None:
        kind, key = source.kind.key, _derived_key(source, body)
        seen = self.observed.derived.get(kind, {})
        current = seen.get(key)
        uid = str((body.get("metadata") or {}).get("uid") or "")
        if current is None or (uid and current["metadata"].get("uid") not in (None, "", uid)):
            return  # not ours, or a stale deletion: the name already has a new object
        del seen[key]
        self.observed.derived_written.pop((kind, key), None)
        if key in self.desired.derived.get(kind, {}):
            self.queue.enqueue_derived()


def _derived_key(source: DerivedSource, body: Mapping[str, Any]) -> ObjectKey:
    metadata = body.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "") if source.kind.namespaced else ""
    return namespace, str(metadata.get("name") or "")
