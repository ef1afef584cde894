"""What the engine concludes: per obligation, per model, per workload. Plain frozen data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from gpai_operator.api.gpaimodel import CHAPTERS, Chapter
from gpai_operator.api.obligations import ObligationStatus
from gpai_operator.api.status import ReportKind, Role

Action = Literal["Deny", "Warn", "Audit"]
Decision = Literal["Allow", "Warn", "Deny"]
WorkloadCompliance = Literal["Compliant", "NonCompliant", "UnknownModel"]

PASSING: frozenset[str] = frozenset({"Met", "Grace", "Exempt", "NotApplicable", "Waived"})
FAILING: frozenset[str] = frozenset({"Missing", "Incomplete", "Expired", "Failed"})
# Worst first (OBLIGATIONS.md, "Status rules"): the aggregate across policies is the first found.
SEVERITY: tuple[ObligationStatus, ...] = (
    "Failed", "Missing", "Expired", "Incomplete", "Grace", "Waived", "Met", "Exempt", "NotApplicable",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Classification:
    """What a model is, under one policy's parameters (OBLIGATIONS.md, "Classification")."""

    compute_presumption: bool  # Art. 51(2): above the compute threshold, no accepted rebuttal
    designated: bool  # designated by the Commission (Art. 51(1)(b)), whatever its compute
    open_source_exempt: bool
    legacy: bool
    eu_provider: bool
    rebutted: bool = False  # above the threshold, but the Commission accepted the rebuttal
    signed: tuple[Chapter, ...] = ()  # Code of Practice chapters the provider signed, CHAPTERS order
    role: Role = "Provider"  # in the value chain (engine/value_chain.py)
    role_reason: str = ""  # why, for messages: the compute compared and the line it was compared with
    compute: float | None = None  # the training compute compared with the threshold (cumulative if modified)

    @property
    def provider(self) -> bool:
        """The model's owner has the provider's duties (it made the model, or modified it enough)."""
        return self.role != "Downstream"

    @property
    def systemic_risk(self) -> bool:
        return self.compute_presumption or self.designated

    @property
    def signed_short(self) -> str:
        """The signed chapters as printer columns and tables show them: "T,C,S", "S", or "-"."""
        return ",".join(CHAPTER_LETTERS[c] for c in self.signed) or "-"


CHAPTER_LETTERS: dict[Chapter, str] = dict(zip(CHAPTERS, ("T", "C", "S"), strict=True))


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One of our objects, by kind, namespace and name."""

    kind: str
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class ObligationVerdict:
    id: str
    status: ObligationStatus
    message: str  # a person can act on it: what is missing or expired, since when, what to create
    basis: str  # legal basis, e.g. "Art. 55(1)(a)"
    expires: dt.date | None = None  # last day the evidence behind a passing status still counts
    expiring: bool = False  # expires within the policy's expiryWarningDays
    detail: str = ""  # the message without the model it is about: "<id> (<basis>) is <status>: ..."
    # The evidence object the verdict is about when it is not the GPAIModel itself (the
    # ModelDocumentation lacking fields, the expired CopyrightPolicy...); None: the GPAIModel.
    subject: ObjectRef | None = None

    @property
    def passing(self) -> bool:
        return self.status in PASSING


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    """A model evaluated under one policy that selects its namespace."""

    policy: str  # policy name; "" for the built-in default
    actions: tuple[Action, ...]
    obligations: tuple[ObligationVerdict, ...]  # only the policy's obligations, catalogue order
    classification: Classification | None = None  # under this policy's parameters

    @property
    def compliant(self) -> bool:
        return all(o.passing for o in self.obligations)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(sorted(o.id for o in self.obligations if not o.passing))


@dataclass(frozen=True, slots=True)
class IncidentVerdict:
    """Where one SeriousIncident stands with its reports on a day (engine/incidents.py)."""

    namespace: str
    name: str
    model: str
    category: str
    next_report: ReportKind | None  # the report owed next; None once every report is in
    next_deadline: dt.date | None  # its last day on time; in the past when overdue
    missed: tuple[str, ...] = ()  # each deadline missed so far, in words
    overdue: bool = False  # the next report is owed and its deadline has passed
    resolved: bool = False

    @property
    def timely(self) -> bool:
        return not self.missed

    @property
    def closed(self) -> bool:
        return self.next_report is None


@dataclass(frozen=True, slots=True)
class ModelVerdict:
    namespace: str
    name: str
    generation: int
    classification: Classification
    obligations: tuple[ObligationVerdict, ...]  # worst status across policies, catalogue order
    policies: tuple[PolicyVerdict, ...]
    next_review: dt.datetime | None  # earliest instant the clock alone can change this verdict
    version: str = ""  # the model version the evidence had to match
    incidents: tuple[IncidentVerdict, ...] = ()  # its SeriousIncidents, by name

    @property
    def compliant(self) -> bool:
        return all(p.compliant for p in self.policies)

    @property
    def unmet(self) -> tuple[str, ...]:
        return tuple(sorted({o.id for o in self.obligations if not o.passing}))


@dataclass(frozen=True, slots=True)
class WorkloadDecision:
    api_version: str
    kind: str
    namespace: str
    name: str
    model: str | None
    decision: Decision
    unmet: tuple[str, ...]  # ids behind the decision, sorted (for Allow: those only audited)
    compliance: WorkloadCompliance | None  # annotation value; None for an unlabelled workload
    audited: bool  # at least one Audit policy found a violation
    message: str  # deny message or warning text: model, each unmet obligation and its article
    reasons: tuple[str, ...] = ()  # one self-contained sentence per unmet id (e.g. one warning each)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `evaluate_all` concludes, in a stable order."""

    models: tuple[ModelVerdict, ...]  # by (namespace, name)
    workloads: tuple[WorkloadDecision, ...]  # by (namespace, kind, name)

    @property
    def denied(self) -> tuple[WorkloadDecision, ...]:
        return tuple(w for w in self.workloads if w.decision == "Deny")
