"""The oracle of the fault tests and benchmarks: what the operator should have written, from a fresh
list of the cluster, compared with what it wrote.

    wait_until_right(api_client, now=lambda: dt.datetime.now(dt.UTC), timeout=60)

It lists every kind the operator reads (our six kinds, Namespaces, every workload kind), builds
the engine's state from the listing with `objects.apply` (the one translation every door uses),
evaluates at the operator's `now`, and compares with the cluster:

- every GPAIModel's status: `observedGeneration`, the `Compliant` condition (status and reason),
  the obligations (id -> status), the classification, and `workloads` (the workloads that name
  the model and are not made by another workload the operator sees); a model the engine cannot
  read must say `InvalidSpec`;
- every workload's `gpai.dev/compliance` and `gpai.dev/unmet` annotations (and that
  `gpai.dev/evaluated` is there), or none of the three on an unlabelled workload; workloads whose
  controller reference resolves to a workload in the listing are left alone, as the operator
  leaves them (`ClusterState.gated_through_controller`).

Every difference is reported by object and field. What it does not look at: messages, times
(`lastTransitionTime`, `nextReview`, `gpai.dev/evaluated`'s value), Events and SeriousIncident
status. The operator's clock must agree with `now` to the day: tests run the operator on a
ManualClock or on the system clock with evidence dated well away from any deadline.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator import objects
from gpai_operator.api.kinds import KINDS
from gpai_operator.api.status import Classification
from gpai_operator.engine import (
    DEFAULT_KINDS,
    ClusterState,
    ModelKey,
    ModelVerdict,
    Workload,
    WorkloadKey,
    WorkloadKinds,
    decide_workload,
    evaluate_model,
)
from gpai_operator.testing.rest import request_json

COMPLIANT_STATUS = "status.conditions[Compliant].status"
COMPLIANT_REASON = "status.conditions[Compliant].reason"
PRESENT = "(present)"  # gpai.dev/evaluated: its value is a time, only its presence is compared
COMPLIANCE = "gpai.dev/compliance"
UNMET = "gpai.dev/unmet"
EVALUATED = "gpai.dev/evaluated"
PAGE = 500
Now = dt.datetime | Callable[[], dt.datetime]


@dataclass(frozen=True)
class Difference:
    """One field of one object that does not say what it should."""

    object: str  # e.g. "GPAIModel team-a/model-001", "Deployment team-a/chat"
    field: str  # e.g. "status.obligations[copyright/policy]"
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.object}: {self.field} is {self.actual!r}, should be {self.expected!r}"


def _collection(api_version: str, plural: str) -> str:
    return f"/apis/{api_version}/{plural}" if "/" in api_version else f"/api/{api_version}/{plural}"


def _paths(kinds: WorkloadKinds) -> Iterator[tuple[str, str, str]]:
    """(apiVersion, kind, collection path) of everything the operator reads."""
    for kind in KINDS:
        yield kind.api_version, kind.kind, _collection(kind.api_version, kind.plural)
    yield "v1", "Namespace", "/api/v1/namespaces"
    for workload in kinds:
        version = workload.version or "v1beta1"  # the optional kind (KServe) at the version we install
        api_version = f"{workload.group}/{version}" if workload.group else version
        yield api_version, workload.kind, _collection(api_version, workload.resource)


def list_cluster(api_client: ApiClient, kinds: WorkloadKinds = DEFAULT_KINDS) -> list[dict[str, Any]]:
    """Every object of the kinds the operator reads, cluster-wide, in pages; a kind the cluster does
    not serve (no KServe CRD) is skipped."""
    found: list[dict[str, Any]] = []
    for api_version, kind, path in _paths(kinds):
        token = ""
        while True:
            query = [("limit", str(PAGE)), *([("continue", token)] if token else [])]
            try:
                page = request_json(api_client, "GET", path, query=query)
            except ApiException as error:
                if error.status == 404 and kind not in {k.kind for k in KINDS}:
                    break
                raise
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                found.append(item)
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                break
    return found


@dataclass(frozen=True)
class Expected:
    """What the operator should have written, by object: field -> value (None: absent)."""

    models: dict[ModelKey, dict[str, Any]]  # e.g. "status.obligations[copyright/policy]" -> "Met"
    workloads: dict[WorkloadKey, dict[str, Any]]  # annotation -> value; controlled ones left out


def _classification(verdict: ModelVerdict) -> dict[str, Any]:
    c = verdict.classification
    return Classification(
        systemic_risk=c.systemic_risk,
        open_source_exempt=c.open_source_exempt,
        legacy=c.legacy,
        eu_provider=c.eu_provider,
        code_of_practice=c.signed_short,
        role=c.role,
    ).wire()


def _expected_model(
    state: ClusterState, key: ModelKey, obj: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    fields: dict[str, Any] = {"status.observedGeneration": (obj.get("metadata") or {}).get("generation")}
    verdict = evaluate_model(state, key, now)
    fields[COMPLIANT_STATUS] = "True" if verdict.compliant else "False"
    fields[COMPLIANT_REASON] = "ObligationsMet" if verdict.compliant else "ObligationsUnmet"
    fields["status.classification"] = _classification(verdict)
    fields["status.workloads"] = sum(
        1 for w in state.workloads_for(key) if not state.gated_through_controller(w)
    )
    fields.update({f"status.obligations[{o.id}]": o.status for o in verdict.obligations})
    return fields


def _expected_marks(state: ClusterState, workload: Workload, now: dt.datetime) -> dict[str, Any]:
    marks: dict[str, Any] = {COMPLIANCE: None, UNMET: None, EVALUATED: None}
    if workload.model is not None:
        model = workload.model_key
        verdict = evaluate_model(state, model, now) if model in state.models else None
        decision = decide_workload(state, workload, now, verdict)
        if decision.compliance is not None:
            marks = {
                COMPLIANCE: decision.compliance,
                UNMET: ",".join(sorted(set(decision.unmet))),
                EVALUATED: PRESENT,
            }
    return marks


def expected(
    listed: Iterable[Mapping[str, Any]], now: dt.datetime, *, kinds: WorkloadKinds = DEFAULT_KINDS
) -> Expected:
    """What the engine says every GPAIModel's status and every workload's annotations should be,
    from the listed objects (or manifests) at `now`. A model the engine cannot read must say
    InvalidSpec; a workload whose controller reference resolves to a listed workload is left out."""
    state = ClusterState(kinds=kinds)
    models: dict[ModelKey, Mapping[str, Any]] = {}
    invalid: set[ModelKey] = set()
    for obj in listed:
        _, kind, namespace, name = objects.identity(obj)
        if kind == "GPAIModel" and objects.is_ours(obj):
            models[(namespace, name)] = obj
        try:
            objects.apply(state, obj)
        except objects.InvalidObject:
            if kind == "GPAIModel":
                invalid.add((namespace, name))
    found = Expected({}, {})
    for key, obj in models.items():
        if key in invalid:
            found.models[key] = {
                "status.observedGeneration": (obj.get("metadata") or {}).get("generation"),
                COMPLIANT_STATUS: "False",
                COMPLIANT_REASON: "InvalidSpec",
            }
        else:
            found.models[key] = _expected_model(state, key, obj, now)
    for wkey, workload in state.workloads.items():
        if not state.gated_through_controller(workload):
            found.workloads[wkey] = _expected_marks(state, workload, now)
    return found


def _condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    for condition in status.get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == type_:
            return condition
    return {}


def written_status(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a GPAIModel's status the oracle compares, as the cluster has them."""
    status = obj.get("status") or {}
    compliant = _condition(status, "Compliant")
    fields = {
        "status.observedGeneration": status.get("observedGeneration"),
        COMPLIANT_STATUS: compliant.get("status"),
        COMPLIANT_REASON: compliant.get("reason"),
        "status.classification": status.get("classification"),
        "status.workloads": status.get("workloads"),
    }
    for obligation in status.get("obligations") or ():
        if isinstance(obligation, Mapping):
            fields[f"status.obligations[{obligation.get('id')}]"] = obligation.get("status")
    return fields


def written_marks(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A workload's gpai.dev/* annotations as the oracle compares them."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return {
        COMPLIANCE: annotations.get(COMPLIANCE),
        UNMET: annotations.get(UNMET),
        EVALUATED: PRESENT if EVALUATED in annotations else None,
    }


def _differ(
    where: str, wanted: Mapping[str, Any], written: Mapping[str, Any], within: str = ""
) -> list[Difference]:
    return [
        Difference(where, f"{within}[{field}]" if within else field, wanted.get(field), written.get(field))
        for field in sorted(wanted.keys() | written.keys())
        if wanted.get(field) != written.get(field)
    ]


def compare(
    listed: list[dict[str, Any]],
    now: dt.datetime,
    *,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    namespaces: Collection[str] | None = None,
) -> list[Difference]:
    """Every difference between what the listed objects say and what the engine computes from them
    at `now`; with `namespaces`, only objects in those namespaces are compared (the state is built
    from everything: policies and namespaces select across the cluster)."""
    wanted = expected(listed, now, kinds=kinds)
    found: list[Difference] = []
    for obj in listed:
        _, kind, namespace, name = objects.identity(obj)
        if namespaces is not None and namespace not in namespaces:
            continue
        if kind == "GPAIModel" and (namespace, name) in wanted.models:
            status = written_status(obj)
            found += _differ(f"GPAIModel {namespace}/{name}", wanted.models[(namespace, name)], status)
        elif (kind, namespace, name) in wanted.workloads:
            marks = wanted.workloads[(kind, namespace, name)]
            found += _differ(f"{kind} {namespace}/{name}", marks, written_marks(obj), "metadata.annotations")
    return sorted(found, key=lambda d: (d.object, d.field))


def differences(
    api_client: ApiClient,
    now: dt.datetime,
    *,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    namespaces: Collection[str] | None = None,
) -> list[Difference]:
    """What the cluster says now against what it should say (a fresh listing)."""
    return compare(list_cluster(api_client, kinds), now, kinds=kinds, namespaces=namespaces)


class NotConverged(AssertionError):
    """The operator's writes never matched the engine's answers within the time given."""

    def __init__(self, seconds: float, found: list[Difference], limit: int = 40) -> None:
        self.differences = found
        objects_wrong = len({d.object for d in found})
        lines = [str(d) for d in found[:limit]]
        if len(found) > limit:
            lines.append(f"... and {len(found) - limit} more")
        super().__init__(
            f"after {seconds:.0f} s, {len(found)} fields of {objects_wrong} objects still differ from "
            "what the engine computes from a fresh listing:\n  " + "\n  ".join(lines)
        )


def wait_until_right(
    api_client: ApiClient,
    now: Now,
    timeout: float = 60.0,
    *,
    interval: float = 0.5,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    namespaces: Collection[str] | None = None,
) -> float:
    """Polls until nothing differs; returns the seconds it took. Raises NotConverged listing every
    difference of the last poll once `timeout` has passed. `now` is the operator's time, or a
    function returning it (the system clock's `now` moves while we wait)."""
    started = time.monotonic()
    while True:
        at = now() if callable(now) else now
        try:
            found = differences(api_client, at, kinds=kinds, namespaces=namespaces)
        except (ApiException, OSError, urllib3.exceptions.HTTPError) as error:  # a restarting API server
            found = [Difference("(the listing)", "", "a listing", f"{type(error).__name__}: {error}")]
        elapsed = time.monotonic() - started
        if not found:
            return elapsed
        if elapsed > timeout:
            raise NotConverged(elapsed, found)
        time.sleep(interval)
