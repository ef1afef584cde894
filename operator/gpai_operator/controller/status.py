"""GPAIModel (and SeriousIncident) status from a verdict: pure functions, so what is written is easy to test.

Conditions follow metav1.Condition: `lastTransitionTime` moves only when a condition's status
changes, so rewriting an unchanged verdict yields the identical status and no patch is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from gpai_operator.api.status import (
    Classification,
    Condition,
    ConditionStatus,
    GPAIModelStatus,
    ObligationResult,
    SeriousIncidentStatus,
)
from gpai_operator.controller.versions import version_history
from gpai_operator.engine import IncidentVerdict, ModelVerdict, ObligationVerdict

COMPLIANT = "Compliant"
READY = "Ready"
TIMELY = "Timely"  # a SeriousIncident's reports, each by its deadline
TEXT_MAX = 4096  # ObligationResult.message bound in the CRD schema
CONDITION_MESSAGE_MAX = 32768


def rfc3339(when: dt.datetime) -> str:
    """UTC, whole seconds, `Z` suffix: what Kubernetes writes for metav1.Time."""
    return when.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _policy_names(verdict: ModelVerdict) -> str:
    names = [p.policy for p in verdict.policies if p.policy]
    if not names:
        return "the built-in default policy"
    return ("policy " if len(names) == 1 else "policies ") + ", ".join(names)


def _unmet_text(obligations: Sequence[ObligationVerdict]) -> str:
    failing = [o for o in obligations if not o.passing]
    listed = ", ".join(f"{o.id} ({o.status})" for o in failing)
    return f"{len(failing)} obligation{'s' if len(failing) != 1 else ''} unmet: {listed}"


def _condition(
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    generation: int,
    observed: Mapping[str, Mapping[str, Any]],
    now: dt.datetime,
) -> Condition:
    previous = observed.get(type_)
    unchanged = (
        previous is not None and previous.get("status") == status and previous.get("lastTransitionTime")
    )
    return Condition(
        type=type_,
        status=status,
        reason=reason,
        message=_clip(message, CONDITION_MESSAGE_MAX),
        last_transition_time=str(previous["lastTransitionTime"]) if unchanged and previous else rfc3339(now),
        observed_generation=generation,
    )


def observed_conditions(status: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    conditions = (status or {}).get("conditions") or []
    return {c["type"]: c for c in conditions if isinstance(c, Mapping) and "type" in c}


def compliant_status(status: Mapping[str, Any] | None) -> str | None:
    """The `Compliant` condition's status ("True", "False", "Unknown"), None when there is none."""
    condition = observed_conditions(status).get(COMPLIANT)
    return str(condition.get("status")) if condition else None


def _obligation(o: ObligationVerdict) -> ObligationResult:
    return ObligationResult(id=o.id, status=o.status, message=_clip(o.message, TEXT_MAX), expires=o.expires)


def model_status(
    verdict: ModelVerdict,
    *,
    workloads: int,
    observed: Mapping[str, Any] | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The status a model should have, in wire form (camelCase, no empty fields)."""
    previous = observed_conditions(observed)
    generation = verdict.generation
    if verdict.compliant:
        compliant = _condition(
            COMPLIANT,
            "True",
            "ObligationsMet",
            f"every obligation is met under {_policy_names(verdict)}",
            generation=generation,
            observed=previous,
            now=now,
        )
    else:
        compliant = _condition(
            COMPLIANT,
            "False",
            "ObligationsUnmet",
            f"{_unmet_text(verdict.obligations)} (under {_policy_names(verdict)})",
            generation=generation,
            observed=previous,
            now=now,
        )
    ready = _condition(
        READY,
        "True",
        "Evaluated",
        f"generation {generation} evaluated under {_policy_names(verdict)}",
        generation=generation,
        observed=previous,
        now=now,
    )
    c = verdict.classification
    status = GPAIModelStatus(
        observed_generation=generation,
        classification=Classification(
            systemic_risk=c.systemic_risk,
            open_source_exempt=c.open_source_exempt,
            legacy=c.legacy,
            eu_provider=c.eu_provider,
            code_of_practice=c.signed_short,
            role=c.role,
        ),
        obligations=[_obligation(o) for o in verdict.obligations],
        conditions=[compliant, ready],
        next_review=rfc3339(verdict.next_review) if verdict.next_review else None,
        workloads=workloads,
        versions=version_history(observed, verdict.version, now),
    )
    return status.wire()


def invalid_status(
    message: str, *, generation: int, observed: Mapping[str, Any] | None, now: dt.datetime
) -> dict[str, Any]:
    """The status of a model the operator cannot evaluate (its spec fails validation)."""
    previous = observed_conditions(observed)
    text = f"the spec cannot be evaluated: {message}"
    status = GPAIModelStatus(
        observed_generation=generation,
        conditions=[
            _condition(
                COMPLIANT, "False", "InvalidSpec", text, generation=generation, observed=previous, now=now
            ),
            _condition(
                READY, "False", "InvalidSpec", text, generation=generation, observed=previous, now=now
            ),
        ],
    ).wire()
    if isinstance((observed or {}).get("versions"), list):
        status["versions"] = (observed or {})["versions"]  # the history outlives a spec it cannot read
    return status


def incident_status(
    verdict: IncidentVerdict, *, generation: int, observed: Mapping[str, Any] | None, now: dt.datetime
) -> dict[str, Any]:
    """The status a SeriousIncident should have: the next report, its deadline, the Timely condition."""
    timely: tuple[ConditionStatus, str, str]
    if verdict.missed:
        timely = ("False", "DeadlineMissed", "; ".join(verdict.missed))
    elif verdict.next_report is None:
        timely = ("True", "ReportsOnTime", "closed: every report made by its deadline")
    else:
        next_report = f"{verdict.next_report.lower()} report due by {verdict.next_deadline}"
        timely = ("True", "ReportsOnTime", f"every report so far made by its deadline; next: {next_report}")
    status = SeriousIncidentStatus(
        observed_generation=generation,
        next_report=verdict.next_report,
        next_deadline=verdict.next_deadline,
        conditions=[
            _condition(
                TIMELY, *timely, generation=generation, observed=observed_conditions(observed), now=now
            )
        ],
    )
    return status.wire()


def status_patch(desired: Mapping[str, Any], observed: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A merge patch for the status subresource, or None when `observed` already is `desired`.

    Fields the desired status no longer has (nextReview once nothing can expire) are nulled.
    """
    current = dict(observed or {})
    if current == desired:
        return None
    body: dict[str, Any] = dict(desired)
    for key in current:
        if key not in desired:
            body[key] = None
    return {"status": body}
