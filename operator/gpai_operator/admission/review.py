"""The admission decision as a pure function: an AdmissionReview in, the answer out.

    answer = review(body, runtime, now)

`body` is what kube-apiserver POSTed (bytes, possibly malformed) or an already decoded mapping.
Nothing here calls the API server or reads a clock: the verdict comes from `runtime.state`, kept
current by the operator's watches, evaluated by the engine at `now`. Semantics: SPEC section 4 and
docs/admission.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from gpai_operator.admission import messages
from gpai_operator.admission.envelope import (
    OPERATIONS,
    Malformed,
    Request,
    Unanswerable,
    decode,
    envelope,
    parse,
)
from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.operations import pass_reason
from gpai_operator.admission.outcome import AdmissionDecision, Answer, Outcome
from gpai_operator.admission.retention import deleting_documentation, retention_warning
from gpai_operator.engine import (
    ModelVerdict,
    Workload,
    WorkloadDecision,
    WorkloadKind,
    WorkloadKinds,
    decide_from_verdict,
    decide_workload,
    evaluate_model,
)
from gpai_operator.objects import workload_from
from gpai_operator.runtime import Runtime, audit_exception

logger = logging.getLogger("gpai_operator.admission")

NOT_READY = (
    "gpai-operator has not finished loading the cluster's models and policies yet; retry in a few seconds"
)


def review(
    body: bytes | str | Mapping[str, Any],
    runtime: Runtime,
    now: dt.datetime,
    memo: VerdictMemo | None = None,
    trusted: TrustedControllers = DEFAULT_TRUST,
) -> Answer:
    """The answer to one AdmissionReview; never raises. `memo` spares re-evaluating unchanged models;
    `trusted` are the controller identities whose controlled objects are not judged themselves."""
    try:
        api_version, uid, raw = envelope(decode(body))
    except Unanswerable as error:
        return _unanswerable(str(error))
    try:
        request = parse(api_version, uid, raw)
    except Malformed as error:
        operation = raw.get("operation")
        if operation in ("DELETE", "CONNECT"):  # never blocked, however they arrive
            return _answer(api_version, uid, _outcome_of(raw, runtime, "Allow"), {"allowed": True})
        return _refuse(
            api_version,
            uid,
            _outcome_of(raw, runtime, "Error"),
            400,
            "BadRequest",
            f"malformed AdmissionReview: {error}",
        )
    try:
        with runtime.lock:  # the watches change the state on another thread: judge between changes
            return _judge(request, runtime, now, memo, trusted)
    except Exception as error:  # a bug must not take the webhook down: refuse, as failurePolicy Fail would
        audit_exception(logger, "admission review failed", uid=uid, kind=request.kind)
        return _refuse(
            api_version,
            uid,
            _outcome(request, runtime, "Error"),
            500,
            "InternalError",
            f"gpai-operator could not review {request.kind} {request.namespace}/{request.name}: "
            f"{type(error).__name__}; see the operator's log",
        )


def _judge(
    request: Request,
    runtime: Runtime,
    now: dt.datetime,
    memo: VerdictMemo | None,
    trusted: TrustedControllers,
) -> Answer:
    if deleting_documentation(request):
        return _documentation_deleted(request, runtime, now, memo)
    kind = _target(request, runtime.state.kinds)
    if kind is None:  # not a workload kind: not ours to judge
        return _allow(request, runtime, "Allow")
    workload = _workload(request, runtime, kind)
    if workload is not None and workload.controlled and trusted.trusts(request.username):
        # A trusted controller making or changing its own object (a ReplicaSet's Pod): made from an
        # object the gate judged. Anyone else's controlled object is judged like any other.
        return _allow(request, runtime, "Allow")
    reason = pass_reason(request, kind)
    if reason is not None:
        if trusted.is_controller(request.username):  # a warning is for a person
            return _allow(request, runtime, "Allow")
        return _pass(request, reason, runtime, now, memo, workload)
    if workload is None:  # a judged request always carries its object; nothing to judge without one
        return _allow(request, runtime, "Allow")
    if not runtime.synced:
        return _refuse(
            request.api_version,
            request.uid,
            _outcome(request, runtime, "Error"),
            503,
            "ServiceUnavailable",
            NOT_READY,
        )
    decision = _decide(runtime, workload, now, memo)
    if decision.decision == "Deny":
        return _refuse(
            request.api_version,
            request.uid,
            _outcome(request, runtime, "Deny"),
            403,
            "Forbidden",
            messages.deny_message(decision),
            decision,
            request,
        )
    if decision.decision == "Warn":
        return _allow(request, runtime, "Warn", decision, messages.warnings_for(decision))
    return _allow(request, runtime, "Audit" if decision.audited else "Allow", decision)


def _pass(
    request: Request,
    reason: str,
    runtime: Runtime,
    now: dt.datetime,
    memo: VerdictMemo | None,
    workload: Workload | None,
) -> Answer:
    """Always allowed; with a warning when the workload's model is not compliant, if that can be told."""
    try:
        if workload is None or not runtime.synced:
            return _allow(request, runtime, "Allow")
        decision = _decide(runtime, workload, now, memo)
    except Exception:  # a warning is not worth refusing what must always be allowed
        audit_exception(logger, "admission warning failed", uid=request.uid, kind=request.kind)
        return _allow(request, runtime, "Allow")
    if decision.decision == "Allow":
        return _allow(request, runtime, "Audit" if decision.audited else "Allow", decision)
    return _allow(request, runtime, "Warn", decision, messages.pass_warning(decision, reason))


def _documentation_deleted(
    request: Request, runtime: Runtime, now: dt.datetime, memo: VerdictMemo | None
) -> Answer:
    """Always allowed; with a warning while the documentation is evidence that must be kept."""
    state = runtime.state

    def verdict_of(key: tuple[str, str]) -> ModelVerdict | None:
        if memo is not None:
            return memo.verdict(state, key, now)
        return evaluate_model(state, key, now) if key in state.models else None

    try:
        warning = retention_warning(request, state, now, verdict_of) if runtime.synced else None
    except Exception:  # a warning is not worth refusing what must always be allowed
        audit_exception(logger, "retention warning failed", uid=request.uid)
        warning = None
    outcome = Outcome("ModelDocumentation", request.operation, "Warn" if warning else "Allow")
    if warning is None:
        return _answer(request.api_version, request.uid, outcome, {"allowed": True})
    log = {**_log_fields(request, outcome, None), "detail": warning}
    return _answer(
        request.api_version, request.uid, outcome, {"allowed": True, "warnings": messages.fit([warning])}, log
    )


def _target(request: Request, kinds: WorkloadKinds) -> WorkloadKind | None:
    """The workload kind acted on; for a subresource (scale, status, ephemeralcontainers), its parent's."""
    if request.subresource:
        return kinds.by_resource(request.resource_group, request.resource)
    return kinds.get(request.group, request.kind)


def _workload(request: Request, runtime: Runtime, kind: WorkloadKind) -> Workload | None:
    """The workload as the engine sees it: from the object under review, else as the watches last saw it
    (a Scale object carries no labels; a DELETE may come without oldObject)."""
    obj = request.object if request.object is not None else request.old_object
    if request.subresource == "scale" or obj is None:
        return runtime.state.workloads.get((kind.kind, request.namespace, request.name))
    workload = workload_from(obj, default_namespace=request.namespace)
    if not workload.name and request.name:
        workload = dataclasses.replace(workload, name=request.name)
    return workload


def _decide(
    runtime: Runtime, workload: Workload, now: dt.datetime, memo: VerdictMemo | None
) -> WorkloadDecision:
    key = workload.model_key
    verdict = memo.verdict(runtime.state, key, now) if memo is not None and key is not None else None
    if verdict is not None:
        # What decide_workload does with a verdict, without its per-call caches
        # (tests/unit/admission/test_memo.py holds them equal).
        return decide_from_verdict(workload, verdict)
    return decide_workload(runtime.state, workload, now, verdict)


# ---- answers --------------------------------------------------------------------------------------
def _allow(
    request: Request,
    runtime: Runtime,
    label: AdmissionDecision,
    decision: WorkloadDecision | None = None,
    warnings: list[str] | None = None,
) -> Answer:
    response: dict[str, Any] = {"allowed": True}
    if warnings:
        response["warnings"] = warnings
    if decision is not None and label in ("Warn", "Audit"):
        response["auditAnnotations"] = {"decision": label, **messages.audit_annotations(decision)}
    outcome = _outcome(request, runtime, label)
    log = _log_fields(request, outcome, decision) if label in ("Warn", "Audit") else {}
    return _answer(request.api_version, request.uid, outcome, response, log)


def _refuse(
    api_version: str,
    uid: str,
    outcome: Outcome,
    code: int,
    reason: str,
    message: str,
    decision: WorkloadDecision | None = None,
    request: Request | None = None,
) -> Answer:
    status = {"status": "Failure", "code": code, "reason": reason, "message": message}
    response: dict[str, Any] = {"allowed": False, "status": status}
    if decision is not None:
        response["auditAnnotations"] = {"decision": outcome.decision, **messages.audit_annotations(decision)}
    log = (
        _log_fields(request, outcome, decision)
        if request is not None
        else {"decision": outcome.decision, "uid": uid, "code": str(code), "detail": message}
    )
    return _answer(api_version, uid, outcome, response, log)


def _answer(
    api_version: str,
    uid: str,
    outcome: Outcome,
    response: dict[str, Any],
    log: Mapping[str, str] | None = None,
) -> Answer:
    body = {"apiVersion": api_version, "kind": "AdmissionReview", "response": {"uid": uid, **response}}
    return Answer(status=200, body=body, outcome=outcome, log=log or {})


def _unanswerable(message: str) -> Answer:
    """HTTP 400 with a metav1.Status body: kube-apiserver reports its message as the call's failure."""
    text = f"not an AdmissionReview request: {message}"
    body = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "code": 400,
        "reason": "BadRequest",
        "message": text,
    }
    return Answer(
        status=400,
        body=body,
        outcome=Outcome("", "Other", "Error"),
        log={"decision": "Error", "detail": text},
    )


# ---- metric labels and log fields -----------------------------------------------------------------
def _outcome(request: Request, runtime: Runtime, decision: AdmissionDecision) -> Outcome:
    kind = _target(request, runtime.state.kinds)
    return Outcome(kind.kind if kind else "Other", request.operation, decision)


def _outcome_of(raw: Mapping[str, Any], runtime: Runtime, decision: AdmissionDecision) -> Outcome:
    """Bounded labels from a request that could not be read: any JSON value may be anywhere."""
    kind = raw.get("kind")
    name = kind.get("kind") if isinstance(kind, Mapping) else None
    operation = raw.get("operation")
    return Outcome(
        name if isinstance(name, str) and name in runtime.state.kinds.names else "Other",
        operation if isinstance(operation, str) and operation in OPERATIONS else "Other",
        decision,
    )


def _log_fields(request: Request, outcome: Outcome, decision: WorkloadDecision | None) -> dict[str, str]:
    fields = {
        "decision": outcome.decision,
        "operation": request.operation,
        "kind": outcome.kind,
        "namespace": request.namespace,
        "name": decision.name if decision is not None else request.name,
        "user": request.username,
        "uid": request.uid,
    }
    if request.subresource:
        fields["subresource"] = request.subresource
    if request.dry_run:
        fields["dryRun"] = "true"
    if decision is not None:
        fields["model"] = decision.model or ""
        fields["unmet"] = ",".join(decision.unmet)
    return fields
