"""SeriousIncident status: what the reconciler writes for each incident of a model it evaluated.

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

from gpai_operator.controller.status import incident_status, status_patch
from gpai_operator.engine.state import ClusterState, ObjectKey
from gpai_operator.engine.verdicts import ModelVerdict


@dataclass(frozen=True)
class IncidentStatusPlan:
    key: ObjectKey  # (namespace, name) of the SeriousIncident
    desired: dict[str, Any]
    patch: dict[str, Any] | None  # None when the observed status already is the desired one


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
