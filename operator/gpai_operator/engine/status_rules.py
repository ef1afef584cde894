"""The status rules of OBLIGATIONS.md around a check: applicability, the open-source exemption,
Grace for a duty not yet due (a legacy model's deadline, a finding's own `due` day), policy
exceptions and the expiry warning; and what the verdict cites. One obligation, one policy.
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
from gpai_operator.engine.value_chain import not_owed_because
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
    key = (obligation.id, policy.parameters_key, terms.classification, fields, waiving, terms.upstream)
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
    cited = obligation.citation(classification.signed)
    if classification.role not in obligation.applies.roles:
        return _settled(obligation, evidence, cited, "NotApplicable", not_owed_because(classification))
    if not obligation.applies.applies(classification):
        because = obligation.applies.not_applicable_because(classification)
        return _settled(obligation, evidence, cited, "NotApplicable", because)
    if obligation.applies.open_source_exemption and classification.open_source_exempt:
        return _settled(obligation, evidence, cited, "Exempt", OPEN_SOURCE_EXEMPTION)

    finding = obligation.check(evidence, terms, fields)
    today = terms.today
    changes = list(finding.changes)
    status: ObligationStatus = finding.status
    expires = finding.expires
    explanation = _explain(obligation, evidence, finding)

    if status in FAILING:
        naming = [
            e for e in policy.exceptions_for((evidence.namespace, evidence.name), obligation.id)
            if today <= e.expires
        ]  # fmt: skip
        # A pinned exception waives only the version it names: it does not follow the name.
        exceptions = [e for e in naming if e.version is None or e.version == evidence.version]
        pinned_elsewhere = sorted({e.version for e in naming if e not in exceptions and e.version})
        grace = _grace(evidence, terms, finding)
        if grace is not None:
            status, expires = "Grace", grace.last_day
            changes.append(grace.last_day + ONE_DAY)
            explanation = f"{grace.because}; until then it may be {finding.status}: {explanation}"
        elif exceptions:
            waiver = max(exceptions, key=lambda e: e.expires)
            status, expires = "Waived", waiver.expires
            changes.append(waiver.expires + ONE_DAY)
            scope = f" for version {waiver.version}" if waiver.version else " (for any version: pin one)"
            explanation = (
                f"an exception of {policy.label}{scope} waives it through {waiver.expires} "
                f"({waiver.reason}); without it, it would be {finding.status}: {explanation}"
            )
        elif pinned_elsewhere:
            explanation += (
                f" An exception of {policy.label} waives version {', '.join(pinned_elsewhere)} only, "
                f"not version {evidence.version}."
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
        _verdict(obligation, evidence, cited, status, explanation, expires, expiring, finding.subject),
        tuple(sorted({d for d in changes if d > today})),
    )


@dataclass(frozen=True, slots=True)
class _Grace:
    last_day: dt.date
    because: str


def _grace(evidence: Evidence, terms: Terms, finding: Finding) -> _Grace | None:
    """Grace: a duty not yet due. A legacy model before its deadline, or a finding about a duty
    whose own deadline is still ahead (the notification's two weeks); the later of the two wins."""
    today = terms.today
    found: list[_Grace] = []
    deadline = terms.parameters.deadline
    if terms.classification.legacy and today < deadline:
        found.append(
            _Grace(
                deadline - ONE_DAY,
                f"a legacy model (on the EU market since {evidence.model.spec.eu_market_date}, before "
                f"{terms.parameters.cutoff}) must comply by {deadline}",
            )
        )
    if finding.due is not None and today <= finding.due:
        found.append(_Grace(finding.due, f"not due yet: it must be met by {finding.due}"))
    return max(found, key=lambda g: g.last_day, default=None)


def _verdict(
    obligation: Obligation,
    evidence: Evidence,
    cited: str,
    status: ObligationStatus,
    explanation: str,
    expires: dt.date | None = None,
    expiring: bool = False,
    subject: ObjectRef | None = None,
) -> ObligationVerdict:
    detail = f"{obligation.id} ({cited}) is {status}: {explanation}"
    return ObligationVerdict(
        id=obligation.id,
        status=status,
        message=f"{evidence.subject}: {detail}",
        basis=cited,
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


def _settled(
    obligation: Obligation, evidence: Evidence, cited: str, status: ObligationStatus, because: str
) -> Judgement:
    return Judgement(_verdict(obligation, evidence, cited, status, f"{because}."), ())
