"""A namespace's AdmissionVerdicts: the engine's decisions, in the form the native gate reads them.

    verdicts = verdicts_for(state, namespace, now)
    verdicts.manifest()   # the object the operator writes into the namespace
    desired_verdicts(state, current, now, excluded)   # every namespace's, with status: what the
                                                      # operator keeps in the cluster

The ValidatingAdmissionPolicies of admission/native.py decide every judged request from this one
object (their `params`), inside the API server, without calling the operator. For every workload of
the namespace their decision is the engine's (`decide_workload`): Deny when a Deny policy finds a
violation, else Warn when a Warn policy does, else Allow; Audit-only violations are allowed and
audited. `gate_decision` is the same rule in Python, for tests and readers.

Which namespaces need one (`namespaces_needing_verdicts`): every namespace the gate covers. The gate
stays closed where the object is missing (the policies' `parameterNotFoundAction: Deny`): a workload
in a namespace without verdicts is refused until the operator has written them, never let through.

Pure: the state and `now` in, plain data out. Reads only the engine's public functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpai_operator.api.base import API_VERSION
from gpai_operator.api.kinds import ADMISSION_VERDICTS
from gpai_operator.api.obligations import WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS
from gpai_operator.api.verdicts import (
    NAME,
    ActionVerdicts,
    AdmissionVerdictsSpec,
    AdmissionVerdictsStatus,
    Finding,
)
from gpai_operator.engine import (
    Action,
    ClusterState,
    Decision,
    ModelKey,
    ModelVerdict,
    ObjectKey,
    evaluate_model,
    selecting_policies,
)

MANAGED_BY = {"app.kubernetes.io/managed-by": "gpai-operator"}


@dataclass(frozen=True, slots=True)
class _Violation:
    """What one selecting policy finds wrong: its name ("" for the built-in default), its actions, the
    obligations it finds unmet."""

    policy: str
    actions: Sequence[Action]
    unmet: Sequence[str]


@dataclass(frozen=True, slots=True)
class NamespaceVerdicts:
    namespace: str
    spec: AdmissionVerdictsSpec
    next_review: dt.datetime | None  # the earliest instant the clock alone changes a model's verdict

    def status(self, evaluated: dt.datetime) -> AdmissionVerdictsStatus:
        return AdmissionVerdictsStatus(
            evaluated=_rfc3339(evaluated),
            next_review=_rfc3339(self.next_review) if self.next_review else None,
            models=len(self.spec.models),
            denied=len(self.spec.deny.models),
            warned=len(self.spec.warn.models),
        )

    def manifest(self) -> dict[str, Any]:
        """The AdmissionVerdicts object to write whole: by an update or a server-side apply, never a
        merge patch (which would keep the models that left a section). Its status is a separate
        write (`status()`)."""
        return {
            "apiVersion": API_VERSION,
            "kind": ADMISSION_VERDICTS.kind,
            "metadata": {"name": NAME, "namespace": self.namespace, "labels": dict(MANAGED_BY)},
            "spec": self.spec.wire(),
        }


def verdicts_for(
    state: ClusterState,
    namespace: str,
    now: dt.datetime,
    verdicts: Mapping[ModelKey, ModelVerdict] | None = None,
) -> NamespaceVerdicts:
    """The namespace's verdicts at `now`; `verdicts` (current ones, e.g. the reconciler's) spare
    evaluating those models again."""
    versions: dict[str, str] = {}
    by_action: dict[Action, dict[str, Finding]] = {"Deny": {}, "Warn": {}, "Audit": {}}
    next_review: dt.datetime | None = None
    for key in state.models_in(namespace):
        verdict = (verdicts or {}).get(key) or evaluate_model(state, key, now)
        versions[key[1]] = verdict.version
        violations = [_Violation(p.policy, p.actions, p.unmet) for p in verdict.policies if not p.compliant]
        for action, finding in _findings(violations).items():
            by_action[action][key[1]] = finding
        if verdict.next_review is not None and (next_review is None or verdict.next_review < next_review):
            next_review = verdict.next_review

    policies = selecting_policies(state, namespace)
    unlabelled = _findings(
        [
            _Violation(p.name, p.spec.validation_actions, (WORKLOAD_MODEL_DECLARED,))
            for p in policies
            if p.spec.require_model_label
        ]
    )
    unknown = _findings(
        [_Violation(p.name, p.spec.validation_actions, (WORKLOAD_MODEL_EXISTS,)) for p in policies]
    )

    def section(action: Action) -> ActionVerdicts:
        return ActionVerdicts(
            models=by_action[action],
            unlabelled=list(unlabelled[action].policies) if action in unlabelled else [],
            unknown_model=list(unknown[action].policies) if action in unknown else [],
        )

    spec = AdmissionVerdictsSpec(
        models=versions, deny=section("Deny"), warn=section("Warn"), audit=section("Audit")
    )
    return NamespaceVerdicts(namespace, spec, next_review)


def _findings(violations: Sequence[_Violation]) -> dict[Action, Finding]:
    """The engine's rule (engine/workloads.py): Deny when a Deny policy finds a violation, else Warn
    when a Warn policy does; Audit whenever an Audit policy does. Each with the policies behind it and
    the union of what they find unmet, sorted."""
    denying = [v for v in violations if "Deny" in v.actions]
    groups: dict[Action, list[_Violation]] = {
        "Deny": denying,
        "Warn": [] if denying else [v for v in violations if "Warn" in v.actions],
        "Audit": [v for v in violations if "Audit" in v.actions],
    }
    return {
        action: Finding(policies=[v.policy for v in group], unmet=sorted({i for v in group for i in v.unmet}))
        for action, group in groups.items()
        if group
    }


def gate_decision(spec: AdmissionVerdictsSpec, model: str | None) -> tuple[Decision, bool]:
    """(decision, audited) the native gate takes for a judged workload labelled `model` (None or ""
    when unlabelled): the policies' CEL, in Python."""

    def violated(section: ActionVerdicts) -> bool:
        if not model:
            return bool(section.unlabelled)
        if model in spec.models:
            return model in section.models
        return bool(section.unknown_model)

    decision: Decision = "Deny" if violated(spec.deny) else "Warn" if violated(spec.warn) else "Allow"
    return decision, violated(spec.audit)


def namespaces_needing_verdicts(state: ClusterState, excluded: Iterable[str] = ()) -> list[str]:
    """Every namespace the state knows (from Namespace objects, models and workloads) but those the
    gate does not cover (`excluded`: kube-system, the operator's own, the chart's excludeNamespaces).

    Not only those with models or workloads: where the object is missing the gate refuses every
    workload, so a namespace needs its verdicts before its first workload arrives.
    """
    known = set(state.namespaces)
    known.update(namespace for namespace, _ in state.models)
    known.update(namespace for _, namespace, _ in state.workloads)
    return sorted(known - set(excluded))


def desired_verdicts(
    state: ClusterState,
    verdicts: Mapping[ModelKey, ModelVerdict],
    now: dt.datetime,
    excluded: Iterable[str] = (),
) -> dict[ObjectKey, dict[str, Any]]:
    """Every covered namespace's AdmissionVerdicts at `now`, status included (`evaluated` is `now`),
    keyed by (namespace, name): what the operator keeps in the cluster (controller/derived.py).

    `verdicts` are current model verdicts (the reconciler's); one whose nextReview has come is not
    used (the model is evaluated afresh), so a late re-evaluation cannot write a stale verdict.
    """
    current = {
        key: verdict
        for key, verdict in verdicts.items()
        if verdict.next_review is None or verdict.next_review > now
    }
    desired: dict[ObjectKey, dict[str, Any]] = {}
    for namespace in namespaces_needing_verdicts(state, excluded):
        verdict = verdicts_for(state, namespace, now, current)
        manifest = verdict.manifest()
        manifest["status"] = verdict.status(now).wire()
        desired[(namespace, NAME)] = manifest
    return desired


def _rfc3339(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
