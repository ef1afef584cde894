"""Workload decisions (SPEC sections 2-4): the strongest action among the selecting policies under
which the workload's model is not compliant, plus the two workload rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gpai_operator.api.obligations import WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS
from gpai_operator.engine.policies import CompiledPolicy, policy_label
from gpai_operator.engine.state import MODEL_LABEL, Workload
from gpai_operator.engine.verdicts import (
    Action,
    Decision,
    ModelVerdict,
    WorkloadCompliance,
    WorkloadDecision,
)

_STRENGTH: tuple[tuple[Action, Decision], ...] = (("Deny", "Deny"), ("Warn", "Warn"), ("Audit", "Allow"))
_VERB: dict[Decision, str] = {"Deny": "is denied", "Warn": "is allowed with a warning", "Allow": "is allowed"}


@dataclass(frozen=True, slots=True)
class _Unmet:
    id: str
    line: str  # for the workload's message, under a header naming the workload and the model
    sentence: str  # self-contained (names the model): one admission warning each


@dataclass(frozen=True, slots=True)
class _Violation:
    """What one selecting policy finds wrong with the workload."""

    policy: str
    actions: tuple[Action, ...]
    unmet: tuple[_Unmet, ...]


def decide(
    workload: Workload, policies: Sequence[CompiledPolicy], verdict: ModelVerdict | None
) -> WorkloadDecision:
    """`verdict` is the model's verdict; None when the workload names no model or a missing one."""
    what = f"{workload.kind} {workload.namespace}/{workload.name}"
    compliance: WorkloadCompliance | None
    if workload.model is None:
        compliance = None
        violations = [_undeclared(p, what) for p in policies if p.spec.require_model_label]
        finding = f"it has no {MODEL_LABEL} label"
        fine = f"{what} declares no GPAIModel (no {MODEL_LABEL} label); no policy requires one"
    elif verdict is None:
        compliance = "UnknownModel"
        violations = [_unknown(p, workload) for p in policies]
        finding = f"GPAIModel {workload.namespace}/{workload.model} does not exist"
        fine = f"{what} names a GPAIModel that does not exist"  # unreachable: every policy checks it
    else:
        compliance = "Compliant" if verdict.compliant else "NonCompliant"
        violations = [
            _Violation(
                policy_label(p.policy),
                p.actions,
                tuple(_Unmet(o.id, o.detail, o.message) for o in p.obligations if not o.passing),
            )
            for p in verdict.policies
            if not p.compliant
        ]
        model = f"GPAIModel {verdict.namespace}/{verdict.name} version {verdict.version}"
        finding = f"it serves {model}"
        fine = f"{what} serves {model}, which is compliant"
    if not violations:
        return _decision(workload, "Allow", (), compliance, False, fine)

    action, decision = next((a, d) for a, d in _STRENGTH if any(a in v.actions for v in violations))
    behind = [v for v in violations if action in v.actions]
    unmet: dict[str, _Unmet] = {}
    for violation in behind:
        for item in violation.unmet:
            unmet.setdefault(item.id, item)
    ordered = [unmet[i] for i in sorted(unmet)]
    by = ", ".join(v.policy for v in behind)
    audited = " (audited)" if decision == "Allow" else ""
    count = f"{len(ordered)} obligation{'s' if len(ordered) != 1 else ''}"
    message = f"{what} {_VERB[decision]}{audited} by {by}: {finding}, which leaves {count} unmet:\n"
    message += "\n".join(f"- {u.line}" for u in ordered)
    return _decision(
        workload,
        decision,
        tuple(u.id for u in ordered),
        compliance,
        any("Audit" in v.actions for v in violations),
        message,
        tuple(u.sentence for u in ordered),
    )


def _undeclared(policy: CompiledPolicy, what: str) -> _Violation:
    line = (
        f"{WORKLOAD_MODEL_DECLARED} (project rule): {policy.label} requires every workload in its "
        f"namespaces to declare the GPAIModel it serves. "
        f"To fix: add the label {MODEL_LABEL}: <GPAIModel name>."
    )
    return _Violation(
        policy.label, policy.actions, (_Unmet(WORKLOAD_MODEL_DECLARED, line, f"{what}: {line}"),)
    )


def _unknown(policy: CompiledPolicy, workload: Workload) -> _Violation:
    sentence = (
        f"GPAIModel {workload.namespace}/{workload.model} does not exist; create it or fix the "
        f"{MODEL_LABEL} label"
    )
    line = f"{WORKLOAD_MODEL_EXISTS} (project rule): {sentence}."
    return _Violation(policy.label, policy.actions, (_Unmet(WORKLOAD_MODEL_EXISTS, line, f"{sentence}."),))


def _decision(
    workload: Workload,
    decision: Decision,
    unmet: tuple[str, ...],
    compliance: WorkloadCompliance | None,
    audited: bool,
    message: str,
    reasons: tuple[str, ...] = (),
) -> WorkloadDecision:
    return WorkloadDecision(
        api_version=workload.api_version,
        kind=workload.kind,
        namespace=workload.namespace,
        name=workload.name,
        model=workload.model,
        decision=decision,
        unmet=unmet,
        compliance=compliance,
        audited=audited,
        message=message,
        reasons=reasons,
    )
