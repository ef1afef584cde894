"""Policy reports: the engine's verdicts where compliance and security teams already look.

    reports = policy_reports(state, now, verdicts, OPENREPORTS)   # {(namespace, name): manifest}

One report per namespace that holds a GPAIModel or a reported workload (`Report`, or `PolicyReport`
in the older wgpolicyk8s.io format; same content), and one cluster-wide summary (`ClusterReport` /
`ClusterPolicyReport`), all named `gpai-operator` and labelled `app.kubernetes.io/managed-by`. The
two formats share the result schema; only apiVersion and kind differ (`ReportFormat`).

A namespace report holds one result per (model, selecting policy, obligation) and one per
(reported workload, selecting policy), each naming its subject in `resources`:

- obligations: `rule` the obligation id, `policy` the CompliancePolicy (`built-in-default` where none
  selects the namespace); `result` from the status: Met pass; Missing, Incomplete, Expired, Failed
  fail; Grace warn (unmet, not yet due); Waived and Exempt skip (an exception, by the policy or by the
  law). NotApplicable obligations give no result, as a policy engine reports no result for a rule
  that does not match the resource. Properties: the legal basis, the status, the model's version,
  the expiry of the evidence, the evidence object judged.
- workloads that the gate judges on their own (not those gated through their controller, such as a
  Deployment's ReplicaSets and Pods), when a rule applies to them: labelled ones (`workload/model-exists`
  when their model is missing, else `workload/model-compliant`: the model meets the policy's
  obligations) and unlabelled ones under a policy that requires the label (`workload/model-declared`).
  Properties: the gate's decision (Allow, Warn or Deny, across all policies) and the model.

The result says whether the subject meets the rule; what the policy does about it is the
`severity`: high where it denies, medium where it warns, low where it only audits (Kyverno reports a
violation as `fail` whether its policy enforces or audits, and takes the severity from the policy).

The cluster report holds one result per (model, selecting policy), rule `model/compliant`.

Deterministic: no timestamps, the same state gives the same manifests, so a writer that compares
desired with observed writes only when a verdict changed. Pure: the state and `now` in, plain data out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gpai_operator.api.base import API_VERSION
from gpai_operator.api.obligations import WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS
from gpai_operator.engine import (
    Action,
    ClusterState,
    ModelKey,
    ModelVerdict,
    ObligationVerdict,
    PolicyVerdict,
    Workload,
    decide_from_verdict,
    decide_workload,
    evaluate_model,
    selecting_policies,
)

NAME = "gpai-operator"  # every report's name: one per namespace, one for the cluster
SOURCE = "gpai-operator"
MANAGED_BY = {"app.kubernetes.io/managed-by": "gpai-operator"}
BUILTIN_POLICY = "built-in-default"  # the `policy` of results under the engine's built-in default
MODEL_COMPLIANT = "model/compliant"
WORKLOAD_MODEL_COMPLIANT = "workload/model-compliant"

Result = Literal["pass", "fail", "warn", "error", "skip"]
Severity = Literal["critical", "high", "medium", "low", "info"]
ReportKey = tuple[str, str]  # (namespace, name); namespace "" for the cluster report
MAX_RESULTS_BYTES = 1_000_000  # the results of one report, as JSON; etcd stores at most ~1.5 MiB
MESSAGE_CUT = 200
OMITTED_ANNOTATION = "gpai.dev/omitted"  # what a report left out to fit, when it had to
RESULTS: tuple[Result, ...] = ("pass", "fail", "warn", "error", "skip")

_RESULT: dict[str, Result] = {
    "Met": "pass",
    "Missing": "fail",
    "Incomplete": "fail",
    "Expired": "fail",
    "Failed": "fail",
    "Grace": "warn",
    "Waived": "skip",
    "Exempt": "skip",
}
_SEVERITY: tuple[tuple[Action, Severity], ...] = (("Deny", "high"), ("Warn", "medium"), ("Audit", "low"))
_CATEGORY = {
    "transparency": "EU AI Act: transparency",
    "copyright": "EU AI Act: copyright",
    "governance": "EU AI Act: governance",
    "systemic-risk": "EU AI Act: systemic risk",
    "value-chain": "EU AI Act: value chain",
    "model": "EU AI Act",
    "workload": "gpai-operator: workloads",
}


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """Where reports go: a namespaced kind and a cluster-scoped kind of one API group."""

    name: str  # as the chart's reports.format and `gpai run --reports-format` name it
    api_version: str
    kind: str
    plural: str
    cluster_kind: str
    cluster_plural: str

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0]


OPENREPORTS = ReportFormat(
    "openreports", "openreports.io/v1alpha1", "Report", "reports", "ClusterReport", "clusterreports"
)
WGPOLICYK8S = ReportFormat(
    "wgpolicyk8s",
    "wgpolicyk8s.io/v1alpha2",
    "PolicyReport",
    "policyreports",
    "ClusterPolicyReport",
    "clusterpolicyreports",
)
FORMATS: dict[str, ReportFormat] = {f.name: f for f in (OPENREPORTS, WGPOLICYK8S)}


def policy_reports(
    state: ClusterState,
    now: dt.datetime,
    verdicts: Mapping[ModelKey, ModelVerdict] | None = None,
    report_format: ReportFormat = OPENREPORTS,
) -> dict[ReportKey, dict[str, Any]]:
    """Every report the state calls for at `now`, by (namespace, name): the namespaces' and the
    cluster's. `verdicts` (current ones, e.g. the reconciler's) spare evaluating those models again."""
    known = _verdicts(state, now, verdicts)
    return {
        **namespace_reports(state, now, known, report_format),
        **cluster_report(state, now, known, report_format),
    }


def namespace_reports(
    state: ClusterState,
    now: dt.datetime,
    verdicts: Mapping[ModelKey, ModelVerdict] | None = None,
    report_format: ReportFormat = OPENREPORTS,
) -> dict[ReportKey, dict[str, Any]]:
    """One report for each namespace with a GPAIModel or a reported workload."""
    known = _verdicts(state, now, verdicts)
    workloads: dict[str, list[Workload]] = defaultdict(list)
    for workload in state.workloads.values():
        if not state.gated_through_controller(workload):
            workloads[workload.namespace].append(workload)
    reports: dict[ReportKey, dict[str, Any]] = {}
    for namespace in sorted({ns for ns, _ in state.models} | set(workloads)):
        results = list(_model_results(state, namespace, known))
        for workload in sorted(workloads[namespace], key=lambda w: (w.kind, w.name)):
            results += _results_for_workload(state, workload, now, known)
        if results:
            reports[(namespace, NAME)] = _manifest(report_format, namespace, results)
    return reports


def cluster_report(
    state: ClusterState,
    now: dt.datetime,
    verdicts: Mapping[ModelKey, ModelVerdict] | None = None,
    report_format: ReportFormat = OPENREPORTS,
) -> dict[ReportKey, dict[str, Any]]:
    """The cluster-wide summary: always there, empty without models."""
    known = _verdicts(state, now, verdicts)
    results = [r for v in known.values() for r in _cluster_results(v, _model_reference(state, v))]
    return {("", NAME): _manifest(report_format, "", results)}


def _verdicts(
    state: ClusterState, now: dt.datetime, verdicts: Mapping[ModelKey, ModelVerdict] | None
) -> dict[ModelKey, ModelVerdict]:
    """A verdict for every model the state holds, by key: those given, the others evaluated (a given
    verdict of a model no longer there is dropped)."""
    given = verdicts or {}
    return {key: given.get(key) or evaluate_model(state, key, now) for key in sorted(state.models)}


def summary(results: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many results of each kind: the report's `summary`."""
    counts: dict[str, int] = dict.fromkeys(RESULTS, 0)
    for result in results:
        counts[result["result"]] += 1
    return counts


def fit(results: list[dict[str, Any]], budget: int = MAX_RESULTS_BYTES) -> tuple[list[dict[str, Any]], str]:
    """The results, made to fit in `budget` bytes of JSON, and what was left out ("" when nothing).

    An object the API server stores is at most about 1.5 MiB (etcd's request limit). Step by step,
    until they fit: passing and skipped results lose their message (their rule, status and
    properties remain); every message is cut to MESSAGE_CUT characters; passing and skipped results
    are left out (the failures and warnings, what a reader must act on, stay).
    """
    if _size(results) <= budget:
        return results, ""
    quiet = ("pass", "skip")
    results = [{**r, "message": ""} if r["result"] in quiet else r for r in results]
    if _size(results) <= budget:
        return results, "messages of passing and skipped results, to fit the size limit"
    results = [{**r, "message": _cut(r["message"])} for r in results]
    if _size(results) <= budget:
        return results, f"messages of passing and skipped results; others cut to {MESSAGE_CUT} characters"
    kept = [r for r in results if r["result"] not in quiet]
    return kept, f"{len(results) - len(kept)} passing and skipped results, to fit the size limit"


def _size(results: list[dict[str, Any]]) -> int:
    return len(json.dumps(results, separators=(",", ":")).encode())


def _cut(message: str) -> str:
    return message if len(message) <= MESSAGE_CUT else message[: MESSAGE_CUT - 1] + "\u2026"


def _manifest(report_format: ReportFormat, namespace: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": NAME, "labels": dict(MANAGED_BY)}
    if namespace:
        metadata["namespace"] = namespace
    results, omitted = fit(results)
    if omitted:
        metadata["annotations"] = {OMITTED_ANNOTATION: omitted}
    return {
        "apiVersion": report_format.api_version,
        "kind": report_format.kind if namespace else report_format.cluster_kind,
        "metadata": metadata,
        "summary": summary(results),
        "results": results,
    }


def _policy(name: str) -> str:
    return name or BUILTIN_POLICY


def _severity(actions: Iterable[Action]) -> Severity:
    given = set(actions)
    return next((severity for action, severity in _SEVERITY if action in given), "info")


def _category(rule: str) -> str:
    return _CATEGORY.get(rule.split("/")[0], "EU AI Act")


def _obligations(count: int) -> str:
    return f"{count} obligation{'' if count == 1 else 's'}"


def _reference(api_version: str, kind: str, namespace: str, name: str, uid: str) -> dict[str, str]:
    reference = {"apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name}
    if uid:
        reference["uid"] = uid
    return reference


def _result(
    *,
    policy: str,
    rule: str,
    result: Result,
    actions: Iterable[Action],
    message: str,
    resource: dict[str, str],
    properties: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "policy": _policy(policy),
        "rule": rule,
        "category": _category(rule),
        "severity": _severity(actions),
        "result": result,
        "scored": True,
        "message": message,
        "properties": {k: v for k, v in properties.items() if v},
        "resources": [resource],
    }


def _model_reference(state: ClusterState, verdict: ModelVerdict) -> dict[str, str]:
    model = state.models.get((verdict.namespace, verdict.name))
    return _reference(API_VERSION, "GPAIModel", verdict.namespace, verdict.name, model.uid if model else "")


def _model_results(
    state: ClusterState, namespace: str, verdicts: Mapping[ModelKey, ModelVerdict]
) -> Iterator[dict[str, Any]]:
    for key in state.models_in(namespace):
        verdict = verdicts[key]
        resource = _model_reference(state, verdict)
        for policy in verdict.policies:
            for obligation in policy.obligations:
                if obligation.status in _RESULT:
                    yield _obligation_result(verdict, policy, obligation, resource)


def _obligation_result(
    verdict: ModelVerdict, policy: PolicyVerdict, obligation: ObligationVerdict, resource: dict[str, str]
) -> dict[str, Any]:
    subject = obligation.subject
    return _result(
        policy=policy.policy,
        rule=obligation.id,
        result=_RESULT[obligation.status],
        actions=policy.actions,
        message=obligation.message,
        resource=resource,
        properties={
            "status": obligation.status,
            "legalBasis": obligation.basis,
            "model": verdict.name,
            "modelVersion": verdict.version,
            "expires": obligation.expires.isoformat() if obligation.expires else "",
            "expiring": "true" if obligation.expiring else "",
            "evidence": f"{subject.kind}/{subject.name}" if subject else "",
            "validationActions": ",".join(policy.actions),
        },
    )


def _results_for_workload(
    state: ClusterState, workload: Workload, now: dt.datetime, verdicts: Mapping[ModelKey, ModelVerdict]
) -> Iterator[dict[str, Any]]:
    what = f"{workload.kind} {workload.namespace}/{workload.name}"
    resource = _reference(
        workload.api_version, workload.kind, workload.namespace, workload.name, workload.uid
    )
    key = workload.model_key
    verdict = verdicts.get(key) if key else None
    if verdict is not None:
        decision = decide_from_verdict(workload, verdict).decision
        model = f"GPAIModel {verdict.namespace}/{verdict.name} version {verdict.version}"
        for policy in verdict.policies:
            unmet = policy.unmet
            under = f"under policy {_policy(policy.policy)}"
            message = (
                f"{what} serves {model}, which leaves {_obligations(len(unmet))} unmet {under}: "
                f"{', '.join(unmet)}; the gate's decision: {decision}"
                if unmet
                else f"{what} serves {model}, which meets every obligation {under}"
            )
            yield _result(
                policy=policy.policy,
                rule=WORKLOAD_MODEL_COMPLIANT,
                result="fail" if unmet else "pass",
                actions=policy.actions,
                message=message,
                resource=resource,
                properties={"decision": decision, "model": verdict.name, "unmet": ",".join(unmet)},
            )
        return
    # Unlabelled, or naming a model that does not exist: the workload rules, policy by policy.
    policies = selecting_policies(state, workload.namespace)
    if workload.model is None:
        applying = [p for p in policies if p.spec.require_model_label]
        rule = WORKLOAD_MODEL_DECLARED
        finding = f"{what} declares no GPAIModel (no gpai.dev/model label)"
    else:
        applying = list(policies)
        rule = WORKLOAD_MODEL_EXISTS
        finding = f"{what} serves GPAIModel {workload.namespace}/{workload.model}, which does not exist"
    if not applying:
        return
    decision = decide_workload(state, workload, now).decision
    for resource_policy in applying:
        yield _result(
            policy=resource_policy.name,
            rule=rule,
            result="fail",
            actions=resource_policy.spec.validation_actions,
            message=f"{finding}; the gate's decision: {decision}",
            resource=resource,
            properties={"decision": decision, "model": workload.model or "", "unmet": rule},
        )


def _cluster_results(verdict: ModelVerdict, resource: dict[str, str]) -> Iterator[dict[str, Any]]:
    what = f"GPAIModel {verdict.namespace}/{verdict.name} version {verdict.version}"
    for policy in verdict.policies:
        unmet = policy.unmet
        under = f"under policy {_policy(policy.policy)}"
        yield _result(
            policy=policy.policy,
            rule=MODEL_COMPLIANT,
            result="fail" if unmet else "pass",
            actions=policy.actions,
            message=(
                f"{what} is not compliant {under}: {len(unmet)} unmet ({', '.join(unmet)})"
                if unmet
                else f"{what} is compliant {under}"
            ),
            resource=resource,
            properties={
                "model": verdict.name,
                "modelVersion": verdict.version,
                "unmet": ",".join(unmet),
                "report": f"{verdict.namespace}/{NAME}",
            },
        )
