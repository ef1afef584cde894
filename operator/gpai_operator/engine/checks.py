"""The checks behind the obligations: each reads the evidence and returns a Finding.

Checks know only the evidence and the policy's terms. Applicability, the legacy grace period and
policy exceptions are status rules applied around them (engine/status_rules.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel

from gpai_operator.api.evaluation import SPECIFIED_RISKS, RiskEvaluationSpec
from gpai_operator.engine.days import ONE_DAY, last_current_day
from gpai_operator.engine.evidence import Check, Evidence, Finding, FindingStatus, Terms
from gpai_operator.engine.fields import FieldGaps, check_fields, value_at
from gpai_operator.engine.state import Resource
from gpai_operator.engine.verdicts import SEVERITY, ObjectRef

Evaluation = Resource[RiskEvaluationSpec]


# ---- wording shared by the checks ---------------------------------------------------------------
def _ref(resource: Resource[BaseModel]) -> str:
    return f"{resource.namespace}/{resource.name}"


def _object(kind: str, resource: Resource[BaseModel]) -> ObjectRef:
    return ObjectRef(kind, resource.namespace, resource.name)


def _refs(resources: Iterable[Resource[BaseModel]]) -> str:
    return ", ".join(_ref(r) for r in resources)


def _listing(items: Iterable[str]) -> str:
    return ", ".join(items)


def _elsewhere(evidence: Evidence, kind: str) -> str:
    versions = evidence.other_versions.get(kind, ())
    if not versions:
        return ""
    return f" (only for version {_listing(versions)}, which does not count for {evidence.version})"


def _gaps_text(gaps: FieldGaps, prefix: str = "") -> str:
    parts = []
    if gaps.false:
        parts.append(f"{_listing(prefix + p for p in gaps.false)} set to false where the duty needs true")
    if gaps.missing:
        parts.append(f"missing {_listing(prefix + p for p in gaps.missing)}")
    if gaps.unknown:
        parts.append(
            f"the policy requires {_listing(gaps.unknown)}, which the kind does not have (fix the policy)"
        )
    return "; ".join(parts)


def _gaps_status(gaps: FieldGaps) -> FindingStatus:
    # OBLIGATIONS.md: explicitly false where the duty needs true is Failed; absent is Incomplete.
    return "Failed" if gaps.false else "Incomplete"


def _worst(statuses: Iterable[FindingStatus]) -> FindingStatus:
    return min(statuses, key=SEVERITY.index)


def _future(today: dt.date, *days: dt.date | None) -> tuple[dt.date, ...]:
    return tuple(sorted({d for d in days if d is not None and d > today}))


# ---- documentation (transparency) ---------------------------------------------------------------
def documentation(part: str) -> Check:
    """The model's ModelDocumentation for its current version carries every required field."""

    def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
        doc = evidence.documentation
        if doc is None:
            return Finding(
                "Missing",
                f"no ModelDocumentation for version {evidence.version}"
                + _elsewhere(evidence, "ModelDocumentation"),
                fix_args={"fields": _listing(fields)},
            )
        where = f"ModelDocumentation {_ref(doc)} (lastUpdated {doc.spec.last_updated})"
        subject = _object("ModelDocumentation", doc)
        gaps = check_fields(doc.spec, fields)
        if not gaps:
            return Finding("Met", f"{where} has every {part} field", subject=subject)
        return Finding(
            _gaps_status(gaps),
            f"{where} is {_gaps_text(gaps)}",
            fix=f"set {_listing(gaps.false + gaps.missing)} in ModelDocumentation {_ref(doc)}"
            if gaps.false or gaps.missing
            else "fix the policy's additionalRequiredFields",
            subject=subject,
        )

    return check


# ---- evidence the GPAIModel carries itself ------------------------------------------------------
def model_field(anchor: str, dated: str | None = None, max_age: str | None = None) -> Check:
    """Evidence at `spec.<anchor>` of the GPAIModel; required fields are relative to it.

    `dated` names the date field that must not be older than the parameter `max_age` (in days).
    """

    def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
        spec = evidence.model.spec
        model = f"GPAIModel {evidence.namespace}/{evidence.name}"
        where = f"spec.{anchor}"
        value = value_at(spec, anchor)
        if value is None:
            return Finding("Missing", f"{where} is not set")
        if isinstance(value, BaseModel):
            gaps = check_fields(value, fields)
            if gaps:
                return Finding(
                    _gaps_status(gaps),
                    f"{where} is {_gaps_text(gaps, f'{where}.')}",
                    fix=f"set {_listing(f'{where}.{p}' for p in gaps.false + gaps.missing)} on {model}",
                )
        if dated is None or max_age is None:
            return Finding(
                "Met", f"{where} is set" if isinstance(value, BaseModel) else f"{where} is {value}"
            )
        date: dt.date | None = value_at(value, dated)
        if date is None:
            return Finding("Incomplete", f"{where}.{dated} is not set", fix=f"set {where}.{dated} on {model}")
        days: int = getattr(terms.parameters, max_age)
        limit = last_current_day(date, days)
        if terms.today > limit:
            return Finding(
                "Expired",
                f"{where}.{dated} is {date}, older than {days} days: expired since {limit + ONE_DAY}",
                fix=f"renew the document and set {where}.{dated} on {model} to its date",
            )
        return Finding(
            "Met",
            f"{where}.{dated} is {date}, current through {limit}",
            expires=limit,
            changes=_future(terms.today, limit + ONE_DAY),
        )

    return check


# ---- notification of the Commission -------------------------------------------------------------
# Art. 52(1): "without delay and in any event within two weeks after that requirement is met or it
# becomes known that it will be met".
NOTIFICATION_DAYS = 14


def notification(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """`notified` on time; before the deadline, a missing notification is a duty not yet due."""
    risk = evidence.model.spec.systemic_risk
    notified = risk.notified if risk else None
    threshold_met = risk.threshold_met if risk else None
    model = f"GPAIModel {evidence.namespace}/{evidence.name}"
    if threshold_met is None:
        if notified is not None:
            return Finding("Met", f"the Commission was notified on {notified}")
        return Finding(
            "Missing",
            "spec.systemicRisk.notified is not set (nor spec.systemicRisk.thresholdMet, the day the "
            "two weeks to notify start)",
            fix=f"notify the Commission and set spec.systemicRisk.notified and thresholdMet on {model}",
        )
    deadline = threshold_met + dt.timedelta(days=NOTIFICATION_DAYS)
    window = f"spec.systemicRisk.thresholdMet {threshold_met} + {NOTIFICATION_DAYS} days"
    if notified is not None:
        if notified > deadline:
            late = (notified - deadline).days
            return Finding(
                "Failed",
                f"spec.systemicRisk.notified is {notified}, {late} day{'s' if late != 1 else ''} after "
                f"the deadline {deadline} ({window})",
                fix=(
                    "a late notification cannot be made on time any more; if the AI Office has "
                    "accepted it, record that in a policy exception for this obligation"
                ),
            )
        return Finding(
            "Met", f"the Commission was notified on {notified}, by the deadline {deadline} ({window})"
        )
    if terms.today <= deadline:
        return Finding(
            "Missing",
            f"spec.systemicRisk.notified is not set; the notification is due by {deadline} ({window})",
            due=deadline,
            changes=_future(terms.today, deadline + ONE_DAY),
        )
    return Finding(
        "Missing", f"spec.systemicRisk.notified is not set; the notification was due by {deadline} ({window})"
    )


# ---- the copyright policy -----------------------------------------------------------------------
def copyright_policy(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    ref = evidence.model.spec.copyright_policy_ref
    if ref is None:
        return Finding("Missing", "spec.copyrightPolicyRef names no CopyrightPolicy")
    policy = evidence.copyright_policy
    if policy is None:
        return Finding(
            "Missing",
            f"CopyrightPolicy {evidence.namespace}/{ref.name} (spec.copyrightPolicyRef) does not exist",
            fix=f"create CopyrightPolicy {evidence.namespace}/{ref.name} (or fix spec.copyrightPolicyRef)",
        )
    where = f"CopyrightPolicy {_ref(policy)}"
    subject = _object("CopyrightPolicy", policy)
    review_by = policy.spec.review_by
    changes = _future(terms.today, review_by + ONE_DAY if review_by else None)
    gaps = check_fields(policy.spec, fields)
    expired = review_by is not None and terms.today > review_by
    if not gaps and not expired:
        current = f", current through its reviewBy {review_by}" if review_by else ""
        return Finding(
            "Met",
            f"{where} has every required element{current}",
            expires=review_by,
            changes=changes,
            subject=subject,
        )
    statuses: list[FindingStatus] = []
    problems: list[str] = []
    fixes: list[str] = []
    if gaps:
        statuses.append(_gaps_status(gaps))
        problems.append(_gaps_text(gaps))
        fixes.append(f"set {_listing(gaps.false + gaps.missing)}")
    if expired:
        assert review_by is not None
        statuses.append("Expired")
        problems.append(f"past its reviewBy {review_by}: expired since {review_by + ONE_DAY}")
        fixes.append("review it and move reviewBy forward")
    return Finding(
        _worst(statuses),
        f"{where} is {'; '.join(problems)}",
        fix=f"{' and '.join(fixes)} in {where}",
        changes=changes,
        subject=subject,
    )


# ---- risk evaluations ---------------------------------------------------------------------------
def _valid(evaluation: Evaluation, today: dt.date) -> bool:
    return evaluation.spec.completed <= today <= evaluation.spec.valid_until


def _lapsed(evaluation: Evaluation, today: dt.date) -> bool:
    return evaluation.spec.valid_until < today


def _evaluation_changes(evaluations: Iterable[Evaluation], today: dt.date) -> tuple[dt.date, ...]:
    days: list[dt.date] = []
    for e in evaluations:
        days += [e.spec.completed, e.spec.valid_until + ONE_DAY]
    return _future(today, *days)


def _until(evaluation: Evaluation) -> str:
    until = evaluation.spec.valid_until
    return f"RiskEvaluation {_ref(evaluation)} was valid until {until}, expired since {until + ONE_DAY}"


def _latest(evaluations: Iterable[Evaluation]) -> Evaluation | None:
    return max(evaluations, key=lambda e: (e.spec.valid_until, e.name), default=None)


def _no_evaluation(evidence: Evidence, kind: str = "RiskEvaluation") -> str:
    return f"no {kind} for version {evidence.version}" + _elsewhere(evidence, "RiskEvaluation")


def evaluation_coverage(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """Valid evaluations (of any type) together cover every specified systemic risk."""
    today = terms.today
    evaluations = evidence.evaluations
    if not evaluations:
        return Finding("Missing", _no_evaluation(evidence))
    changes = _evaluation_changes(evaluations, today)
    valid = [e for e in evaluations if _valid(e, today)]
    covered_until: dict[str, dt.date] = {}
    for e in valid:
        for risk in e.spec.risks:
            covered_until[risk] = max(covered_until.get(risk, e.spec.valid_until), e.spec.valid_until)
    uncovered = [r for r in SPECIFIED_RISKS if r not in covered_until]
    if not uncovered:
        until = min(covered_until[r] for r in SPECIFIED_RISKS)
        return Finding(
            "Met",
            f"valid RiskEvaluations {_refs(valid)} cover {_listing(SPECIFIED_RISKS)} through {until}",
            expires=until,
            changes=changes,
        )
    problems: list[str] = []
    lapsed: list[str] = []
    never: list[str] = []
    subject: ObjectRef | None = None  # the first lapsed evaluation named
    for risk in uncovered:
        last = _latest(e for e in evaluations if _lapsed(e, today) and risk in e.spec.risks)
        if last is not None:
            lapsed.append(risk)
            problems.append(f"{risk} is no longer covered ({_until(last)})")
            subject = subject or _object("RiskEvaluation", last)
        else:
            never.append(risk)
    if never:
        problems.append(f"no valid RiskEvaluation covers {_listing(never)}")
        pending = [e for e in evaluations if e.spec.completed > today and set(e.spec.risks) & set(never)]
        problems += [f"RiskEvaluation {_ref(e)} counts only from {e.spec.completed}" for e in pending]
    return Finding(
        "Expired" if lapsed else "Incomplete",
        "; ".join(problems),
        fix_args={"risks": _listing(uncovered)},
        changes=changes,
        subject=subject,
    )


def adversarial_testing(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """At least one valid red-team run; it need not cover every specified risk."""
    today = terms.today
    runs = [e for e in evidence.evaluations if e.spec.type == "AdversarialTesting"]
    if not runs:
        return Finding("Missing", _no_evaluation(evidence, "AdversarialTesting RiskEvaluation"))
    changes = _evaluation_changes(runs, today)
    valid = [e for e in runs if _valid(e, today)]
    if valid:
        until = max(e.spec.valid_until for e in valid)
        return Finding(
            "Met", f"adversarial testing {_refs(valid)} valid through {until}", expires=until, changes=changes
        )
    last = _latest(e for e in runs if _lapsed(e, today))
    if last is not None:
        return Finding(
            "Expired",
            f"no valid adversarial test: {_until(last)}",
            changes=changes,
            subject=_object("RiskEvaluation", last),
        )
    pending = "; ".join(f"RiskEvaluation {_ref(e)} counts only from {e.spec.completed}" for e in runs)
    return Finding("Missing", f"no valid adversarial test yet: {pending}", changes=changes)


def risk_acceptance(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """No valid evaluation of the current version records an Unacceptable outcome."""
    today = terms.today
    evaluations = evidence.evaluations
    changes = _evaluation_changes(evaluations, today)
    valid = [e for e in evaluations if _valid(e, today)]
    unacceptable = [e for e in valid if e.spec.outcome == "Unacceptable"]
    if unacceptable:
        found = "; ".join(
            f"RiskEvaluation {_ref(e)} ({_listing(e.spec.risks)}, completed {e.spec.completed}) "
            f"records outcome Unacceptable and counts through {e.spec.valid_until}"
            for e in unacceptable
        )
        return Finding(
            "Failed",
            found,
            fix=(
                f"do not place version {evidence.version} on the market: mitigate the risks found, then "
                "release the mitigated model as a new version with Acceptable evaluations"
            ),
            changes=changes,
        )
    if not valid:
        last = _latest(e for e in evaluations if _lapsed(e, today))
        detail = _no_evaluation(evidence, "valid RiskEvaluation")
        return Finding("Missing", f"{detail}; {_until(last)}" if last else detail, changes=changes)
    until = max(e.spec.valid_until for e in valid)
    return Finding(
        "Met",
        f"valid RiskEvaluations {_refs(valid)} all record outcome Acceptable",
        expires=until,
        changes=changes,
    )
