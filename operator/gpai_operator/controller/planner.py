"""What should be written, worked out from the state at `now`; nothing is sent from here.

For a model: its verdict (kept in `runtime.verdicts` for the webhook and the metrics), its status
and the Event of a change of its Compliant condition, and the status of each of its
SeriousIncidents; for a workload: its `gpai.dev/*` annotations. Each plan carries the merge patch
from what the watches last saw (`Observed`); what it should be is kept in `Desired`, where the sync
tells the echo of the operator's own write from someone else's edit.

For each derived kind (controller/derived.py): its desired objects, from its source's pure function
over the state and the current verdicts, and the writes that make the observed ones so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from gpai_operator.controller import events
from gpai_operator.controller.annotations import Marks, desired_marks, marks_patch
from gpai_operator.controller.bookkeeping import Desired, Observed, Packed, one_copy, unpacked
from gpai_operator.controller.derived import DerivedPlan, DerivedSource, complete, plan_derived
from gpai_operator.controller.metrics import Tallies
from gpai_operator.controller.plans import (
    IncidentStatusPlan,
    MarksPlan,
    ModelStatusPlan,
    plan_incident_statuses,
    plan_model_status,
)
from gpai_operator.controller.status import compliant_status, invalid_status, model_status
from gpai_operator.engine import ModelKey, ObjectKey, WorkloadKey, decide_workload, evaluate_model
from gpai_operator.runtime import Runtime


@dataclass(frozen=True)
class ModelPlans:
    """Everything planned for one model, and the workloads that name it (to be decided next)."""

    status: ModelStatusPlan | None  # None: the model is gone
    incidents: tuple[IncidentStatusPlan, ...]
    workloads: frozenset[WorkloadKey]


class Planner:
    def __init__(
        self,
        runtime: Runtime,
        observed: Observed,
        desired: Desired,
        derived: Sequence[DerivedSource] = (),
    ) -> None:
        self.runtime = runtime
        self.observed = observed
        self.desired = desired
        self.derived_sources = tuple(derived)
        self.tallies = Tallies()  # for the metrics
        self.reviews: dict[ModelKey, dt.datetime] = {}  # nextReview of each verdict, when in the future
        self.announced: dict[ModelKey, str] = {}  # Compliant status last written (Events on change)

    def model(self, key: ModelKey, now: dt.datetime) -> ModelPlans:
        """Evaluate one model; plan its status, its Event and its incidents' statuses."""
        state = self.runtime.state
        namespace, name = key
        named = frozenset(w.key for w in state.workloads_for(key) if not state.gated_through_controller(w))
        resource = state.models.get(key)
        seen = self.observed.model_status.get(key)
        observed = unpacked(seen)
        if resource is None:
            self.runtime.verdicts.pop(key, None)
            self.reviews.pop(key, None)
            self.tallies.model_workloads.pop(key, None)
            invalid = self.observed.invalid_models.get(key)
            if invalid is None:
                self.desired.model_status.pop(key, None)
                self.announced.pop(key, None)
                return ModelPlans(None, (), named)
            desired = invalid_status(
                invalid.message, generation=invalid.generation, observed=observed, now=now
            )
            held = self.desired.model_status[key] = one_copy(Packed(desired), seen)
            return ModelPlans(plan_model_status(key, desired, observed, None, held), (), named)

        verdict = evaluate_model(state, key, now)
        self.runtime.verdicts[key] = verdict
        if verdict.next_review is not None and verdict.next_review > now:
            self.reviews[key] = verdict.next_review
        else:
            self.reviews.pop(key, None)
        self.tallies.model_workloads[key] = len(named)
        desired = model_status(verdict, workloads=len(named), observed=observed, now=now)
        # What is wanted and already seen is held once (bookkeeping.one_copy), evaluation after evaluation.
        held = self.desired.model_status[key] = one_copy(Packed(desired), seen)
        previous = self.announced.get(key, compliant_status(observed))
        change = events.transition(namespace, name, resource.uid, previous, verdict.compliant, verdict.unmet)
        incidents = tuple(plan_incident_statuses(verdict, state, self.observed.incident_status, now))
        for plan in incidents:
            self.desired.incident_status[plan.key] = plan.desired
        return ModelPlans(plan_model_status(key, desired, observed, change, held), incidents, named)

    def workload(self, key: WorkloadKey, now: dt.datetime) -> MarksPlan | None:
        """Plan one workload's annotations; None when it is gone or its controller carries them."""
        state = self.runtime.state
        workload = state.workloads.get(key)
        if workload is None or state.gated_through_controller(workload):
            # Gone, or made by a workload the gate judged, which carries the verdict: left alone
            # (the Deployment controller copies a Deployment's annotations onto its ReplicaSets;
            # taking them off would only start a tug of war).
            self.forget_workload(key)
            return None
        observed = self.observed.marks.get(key, {})
        if workload.model is None:
            desired: Marks = {}
            self.tallies.compliance.pop(key, None)
        else:
            model_key = workload.model_key
            verdict = self.runtime.verdicts.get(model_key) if model_key else None
            decision = decide_workload(state, workload, now, verdict)
            desired = desired_marks(decision.compliance, decision.unmet, observed, now)
            if decision.compliance is not None:
                self.tallies.compliance[key] = (workload.namespace, decision.compliance)
        desired = one_copy(desired, observed)
        self.desired.marks[key] = desired
        return MarksPlan(workload, desired, marks_patch(desired, observed))

    def derived(self, source: DerivedSource, now: dt.datetime) -> list[DerivedPlan]:
        """The writes that make the source's objects in the cluster what its function wants at `now`,
        from the current verdicts (their own next reviews queue the models, and so this, again).
        Raises what the function raises, having planned nothing."""
        kind = source.kind
        wanted = source.desired(self.runtime.state, self.runtime.verdicts, now)
        desired = {key: complete(kind, key, manifest) for key, manifest in wanted.items()}
        self.desired.derived[kind.key] = desired
        return plan_derived(source, desired, self.observed.derived.get(kind.key, {}))

    def announce(self, key: ModelKey, compliant: bool) -> None:
        """The Event of a change of the model's Compliant condition is out (or was tried)."""
        self.announced[key] = "True" if compliant else "False"

    def forget_announcements(self) -> None:
        """What a previous leader announced is in the observed status (a new leader reads it there)."""
        self.announced.clear()

    def forget_workload(self, key: WorkloadKey) -> None:
        self.desired.marks.pop(key, None)
        self.tallies.compliance.pop(key, None)

    def forget_incident(self, key: ObjectKey) -> None:
        self.desired.incident_status.pop(key, None)

    def due(self, now: dt.datetime) -> list[ModelKey]:
        """The models whose next review has come, no longer waiting for it."""
        due = [key for key, when in self.reviews.items() if when <= now]
        for key in due:
            del self.reviews[key]
        return due

    def next_review(self) -> dt.datetime | None:
        return min(self.reviews.values(), default=None)
