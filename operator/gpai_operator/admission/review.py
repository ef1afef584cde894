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
from gpai_operator.admission.envelope import Malformed, Request, Unanswerable, decode, envelope, parse
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.operations import pass_reason
from gpai_operator.admission.outcome import AdmissionDecision, Answer, Outcome
from gpai_operator.controller.runtime import Runtime
from gpai_operator.engine.evaluate import decide_workload
from gpai_operator.engine.state import Workload
from gpai_operator.engine.verdicts import WorkloadDecision
from gpai_operator.engine.workloads import decide
from gpai_operator.objects import WORKLOAD_KINDS, workload_from

logger = logging.getLogger("gpai_operator.admission")

WORKLOAD_KIND_NAMES = frozenset(kind for _, kind in WORKLOAD_KINDS)
# (group, plural) -> kind, to name the parent of a subresource request (deployments/scale...).
RESOURCE_KINDS: dict[tuple[str, str], str] = {
    (group, f"{kind.lower()}s"): kind for group, kind in WORKLOAD_KINDS
}
NOT_READY = (
    "gpai-operator has not finished loading the cluster's models and policies yet; retry in a few seconds"
)
# The engine reads dicts that watch handlers may change meanwhile if they run in other threads;
# a read that trips over a change is simply repeated.
_ATTEMPTS = 3


def review(
    body: bytes | str | Mapping[str, Any],
    runtime: Runtime,
    now: dt.datetime,
    memo: VerdictMemo | None = None,
) -> Answer:
    """The answer to one AdmissionReview; never raises. `memo` spares re-evaluating unchanged models."""
    try:
        api_version, uid, raw = envelope(decode(body))
    except Unanswerable as error:
        return _unanswerable(str(error))
    try:
        request = parse(api_version, uid, raw)
    except Malformed as error:
        operation = raw.get("operation")
        if operation in ("DELETE", "CONNECT"):  # never blocked, however they arrive
            return _answer(api_version, uid, _outcome_of(raw, "Allow"), {"allowed": True})
        return _refuse(
            api_version,
            uid,
            _outcome_of(raw, "Error"),
            400,
            "BadRequest",
            f"malformed AdmissionReview: {error}",
        )
    try:
        return _judge(request, runtime, now, memo)
    except Exception as error:  # a bug must not take the webhook down: refuse, as failurePolicy Fail would
        logger.exception("admission review failed uid=%s kind=%s", uid, request.kind)
        return _refuse(
            api_version,
            uid,
            _outcome(request, "Error"),
            500,
            "InternalError",
            f"gpai-operator could not review {request.kind} {request.namespace}/{request.name}: "
            f"{type(error).__name__}; see the operator's log",
        )


def _judge(request: Request, runtime: Runtime, now: dt.datetime, memo: VerdictMemo | None) -> Answer:
    if _target(request) is None:  # not a workload kind: not ours to judge
        return _allow(request, "Allow")
    reason = pass_reason(request)
    if reason is not None:
        return _pass(request, reason, runtime, now, memo)
    workload = _workload(request, runtime)
    if workload is None or workload.controlled:  # a controlled object's controller was judged
        return _allow(request, "Allow")
    if not runtime.synced:
        return _refuse(
            request.api_version, request.uid, _outcome(request, "Error"), 503, "ServiceUnavailable", NOT_READY
        )
    decision = _decide(runtime, workload, now, memo)
    if decision.decision == "Deny":
        return _refuse(
            request.api_version,
            request.uid,
            _outcome(request, "Deny"),
            403,
            "Forbidden",
            messages.deny_message(decision),
            decision,
            request,
        )
    if decision.decision == "Warn":
        return _allow(request, "Warn", decision, messages.warnings_for(decision))
    return _allow(request, "Audit" if decision.audited else "Allow", decision)


def _pass(
    request: Request, reason: str, runtime: Runtime, now: dt.datetime, memo: VerdictMemo | None
) -> Answer:
    """Always allowed; with a warning when the workload's model is not compliant, if that can be told."""
    try:
        workload = _workload(request, runtime)
        if workload is None or workload.controlled or not runtime.synced:
            return _allow(request, "Allow")
        decision = _decide(runtime, workload, now, memo)
    except Exception:  # a warning is not worth refusing what must always be allowed
        logger.exception("admission warning failed uid=%s kind=%s", request.uid, request.kind)
        return _allow(request, "Allow")
    if decision.decision == "Allow":
        return _allow(request, "Audit" if decision.audited else "Allow", decision)
    return _allow(request, "Warn", decision, messages.pass_warning(decision, reason))


def _target(request: Request) -> tuple[str, str] | None:
    """(group, kind) of the workload acted on; for a subresource (scale, status), its parent's."""
    if request.subresource:
        kind = RESOURCE_KINDS.get((request.resource_group, request.resource))
        return (request.resource_group, kind) if kind else None
    target = (request.group, request.kind)
    return target if target in WORKLOAD_KINDS else None


def _workload(request: Request, runtime: Runtime) -> Workload | None:
    """The workload as the engine sees it: from the object under review, else as the watches last saw it
    (a Scale object carries no labels; a DELETE may come without oldObject)."""
    target = _target(request)
    assert target is not None
    obj = request.object if request.object is not None else request.old_object
    if request.subresource == "scale" or obj is None:
        return runtime.state.workloads.get((target[1], request.namespace, request.name))
    workload = workload_from(obj, default_namespace=request.namespace)
    if not workload.name and request.name:
        workload = dataclasses.replace(workload, name=request.name)
    return workload


def _decide(
    runtime: Runtime, workload: Workload, now: dt.datetime, memo: VerdictMemo | None
) -> WorkloadDecision:
    state = runtime.state
    for attempt in range(_ATTEMPTS):
        try:
            key = workload.model_key
            verdict = memo.verdict(state, key, now) if memo is not None and key is not None else None
            if verdict is not None and not workload.controlled:
                # What decide_workload does with a verdict, minus compiling every selecting policy,
                # which it does up front although a labelled workload's decision only reads the verdict
                # (two thirds of a review's time; tests/unit/admission/test_memo.py holds them equal).
                return decide(workload, (), verdict)
            return decide_workload(state, workload, now, verdict)
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# ---- answers --------------------------------------------------------------------------------------
def _allow(
    request: Request,
    label: AdmissionDecision,
    decision: WorkloadDecision | None = None,
    warnings: list[str] | None = None,
) -> Answer:
    response: dict[str, Any] = {"allowed": True}
    if warnings:
        response["warnings"] = warnings
    if decision is not None and label in ("Warn", "Audit"):
        response["auditAnnotations"] = {"decision": label, **messages.audit_annotations(decision)}
    log = _log_fields(request, label, decision) if label in ("Warn", "Audit") else {}
    return _answer(request.api_version, request.uid, _outcome(request, label), response, log)


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
        _log_fields(request, outcome.decision, decision)
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
def _outcome(request: Request, decision: AdmissionDecision) -> Outcome:
    target = _target(request)
    return Outcome(target[1] if target else "Other", request.operation, decision)


def _outcome_of(raw: Mapping[str, Any], decision: AdmissionDecision) -> Outcome:
    kind = raw.get("kind")
    name = kind.get("kind") if isinstance(kind, Mapping) else None
    operation = raw.get("operation")
    return Outcome(
        name if isinstance(name, str) and name in WORKLOAD_KIND_NAMES else "Other",
        operation if operation in ("CREATE", "UPDATE", "DELETE", "CONNECT") else "Other",
        decision,
    )


def _log_fields(request: Request, label: str, decision: WorkloadDecision | None) -> dict[str, str]:
    fields = {
        "decision": label,
        "operation": request.operation,
        "kind": _outcome(request, "Allow").kind,
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
