"""The status rules of OBLIGATIONS.md around a check: applicability, the open-source exemption,
the legacy grace period, policy exceptions and the expiry warning. One obligation, one policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gpai_operator.api.evaluation import SPECIFIED_RISKS
from gpai_operator.api.obligations import ObligationStatus
from gpai_operator.engine.catalogue import Obligation
from gpai_operator.engine.days import ONE_DAY
from gpai_operator.engine.evidence import Evidence, Finding, Terms
from gpai_operator.engine.policies import CompiledPolicy
from gpai_operator.engine.verdicts import FAILING, PASSING, ObjectRef, ObligationVerdict

OPEN_SOURCE_EXEMPTION = (
    "open-source model (free and open-source licence, public weights, not monetised, no systemic risk; "
    "Art. 53(2), 54(6))"
)


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: ObligationVerdict
    changes: tuple[dt.date, ...]  # days from which the clock alone may change this verdict


def judge(
    obligation: Obligation,
    evidence: Evidence,
    terms: Terms,
    policy: CompiledPolicy,
    memo: dict[tuple[object, ...], Judgement] | None = None,
) -> Judgement:
    """The verdict on one obligation under one policy.

    `memo` shares judgements between the policies of one model: what a policy contributes is its
    terms, its field lists and its exceptions for the model, so policies alike in those agree.
    """
    fields = policy.required_fields(obligation, terms.classification.systemic_risk)
    waiving = policy.name if policy.exceptions.get((evidence.namespace, evidence.name)) else None
    key = (obligation.id, policy.parameters_key, terms.classification, fields, waiving)
    found = memo.get(key) if memo is not None else None
    if found is None:
        found = _judge(obligation, evidence, terms, policy, fields)
        if memo is not None:
            memo[key] = found
    return found


def _judge(
    obligation: Obligation, evidence: Evidence, terms: Terms, policy: CompiledPolicy, fields: tuple[str, ...]
) -> Judgement:
    classification = terms.classification
    if not obligation.applies.applies(classification):
        return _settled(obligation, evidence, "NotApplicable", obligation.applies.not_applicable_because)
    if obligation.applies.open_source_exemption and classification.open_source_exempt:
        return _settled(obligation, evidence, "Exempt", OPEN_SOURCE_EXEMPTION)

    finding = obligation.check(evidence, terms, fields)
    today = terms.today
    changes = list(finding.changes)
    status: ObligationStatus = finding.status
    expires = finding.expires
    explanation = _explain(obligation, evidence, finding)

    if status in FAILING:
        deadline = terms.parameters.deadline
        exceptions = [
            e for e in policy.exceptions_for((evidence.namespace, evidence.name), obligation.id)
            if today <= e.expires
        ]  # fmt: skip
        if classification.legacy and today < deadline:
            status, expires = "Grace", deadline - ONE_DAY
            changes.append(deadline)
            explanation = (
                f"a legacy model (on the EU market since {evidence.model.spec.eu_market_date}, before "
                f"{terms.parameters.cutoff}) must comply by {deadline}; until then it may be "
                f"{finding.status}: {explanation}"
            )
        elif exceptions:
            waiver = max(exceptions, key=lambda e: e.expires)
            status, expires = "Waived", waiver.expires
            changes.append(waiver.expires + ONE_DAY)
            explanation = (
                f"an exception of {policy.label} waives it through {waiver.expires} ({waiver.reason}); "
                f"without it, it would be {finding.status}: {explanation}"
            )

    expiring = False
    if status in PASSING and expires is not None:
        warn_from = expires - dt.timedelta(days=terms.parameters.expiry_warning_days)
        expiring = today >= warn_from
        if warn_from > today:
            changes.append(warn_from)
        if expiring:
            explanation += f" Expiring: it counts only through {expires}."
    return Judgement(
        _verdict(obligation, evidence, status, explanation, expires, expiring, finding.subject),
        tuple(sorted({d for d in changes if d > today})),
    )


def _verdict(
    obligation: Obligation,
    evidence: Evidence,
    status: ObligationStatus,
    explanation: str,
    expires: dt.date | None = None,
    expiring: bool = False,
    subject: ObjectRef | None = None,
) -> ObligationVerdict:
    detail = f"{obligation.id} ({obligation.basis}) is {status}: {explanation}"
    return ObligationVerdict(
        id=obligation.id,
        status=status,
        message=f"{evidence.subject}: {detail}",
        basis=obligation.basis,
        expires=expires,
        expiring=expiring,
        detail=detail,
        subject=subject,
    )


def _explain(obligation: Obligation, evidence: Evidence, finding: Finding) -> str:
    """The finding in words, with what to do when it is not met."""
    text = f"{finding.detail}."
    if finding.status == "Met":
        return text
    fix = finding.fix or obligation.fix.format_map(
        {
            "namespace": evidence.namespace,
            "model": evidence.name,
            "version": evidence.version,
            "risks": ", ".join(SPECIFIED_RISKS),
            **finding.fix_args,
        }
    )
    return f"{text} To fix: {fix}."


def _settled(obligation: Obligation, evidence: Evidence, status: ObligationStatus, because: str) -> Judgement:
    return Judgement(_verdict(obligation, evidence, status, f"{because}."), ())
