"""What the reconciler plans to write for a model it evaluated: its status and Event, and the status
of each of its SeriousIncidents, each as a frozen record with the merge patch (None: nothing differs).

The model's verdict carries where each of its incidents stands (engine/incidents.py); this turns that
into the status to write (controller/status.py `incident_status`) and the merge patch, if any. The
incidents are planned with their model, so they are looked at again whenever the model is: when an
incident changes (the state queues its model), and at the model's nextReview, which includes the
day after each pending deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gpai_operator.controller.annotations import Marks
from gpai_operator.controller.bookkeeping import Packed
from gpai_operator.controller.events import Transition
from gpai_operator.controller.status import incident_status, status_patch
from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict, ObjectKey, Workload


@dataclass(frozen=True)
class ModelStatusPlan:
    key: ModelKey
    desired: dict[str, Any]
    patch: dict[str, Any] | None  # None when the observed status already is the desired one
    change: Transition | None  # the Event to post, when the Compliant condition changes
    held: Packed  # `desired` as the bookkeeping holds it

    @property
    def result_key(self) -> tuple[str, ...]:
        return ("GPAIModel", *self.key)

    @property
    def nothing_to_write(self) -> bool:
        return self.patch is None and self.change is None


def plan_model_status(
    key: ModelKey,
    desired: dict[str, Any],
    observed: Mapping[str, Any] | None,
    change: Transition | None,
    held: Packed,
) -> ModelStatusPlan:
    return ModelStatusPlan(key, desired, status_patch(desired, observed), change, held)


@dataclass(frozen=True)
class IncidentStatusPlan:
    key: ObjectKey  # (namespace, name) of the SeriousIncident
    desired: dict[str, Any]
    patch: dict[str, Any] | None  # None when the observed status already is the desired one

    @property
    def result_key(self) -> tuple[str, ...]:
        return ("SeriousIncident", *self.key)


def plan_incident_statuses(
    verdict: ModelVerdict,
    state: ClusterState,
    observed: Mapping[ObjectKey, Mapping[str, Any]],
    now: dt.datetime,
) -> Iterator[IncidentStatusPlan]:
    for incident in verdict.incidents:
        key = (incident.namespace, incident.name)
        resource = state.incidents.get(key)
        if resource is None:
            continue
        seen = observed.get(key)
        desired = incident_status(incident, generation=resource.generation, observed=seen, now=now)
        yield IncidentStatusPlan(key, desired, status_patch(desired, seen))


@dataclass(frozen=True)
class MarksPlan:
    """A workload's `gpai.dev/*` annotations: what they should be, and the patch (None: as they are)."""

    workload: Workload
    desired: Marks
    patch: dict[str, Any] | None

    @property
    def result_key(self) -> tuple[str, ...]:
        return ("workload", *self.workload.key)
