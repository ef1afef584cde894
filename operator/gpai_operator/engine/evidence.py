"""What a check reads (the model's evidence, the policy's terms) and what it returns (a Finding)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from gpai_operator.api.copyright import CopyrightPolicySpec
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.api.evaluation import RiskEvaluationSpec
from gpai_operator.api.gpaimodel import GPAIModelSpec
from gpai_operator.api.incident import SeriousIncidentSpec
from gpai_operator.api.policy import Parameters
from gpai_operator.api.status import VersionSeen
from gpai_operator.engine.state import ClusterState, ModelKey, Resource
from gpai_operator.engine.verdicts import Classification, ObjectRef, ObligationVerdict

# What a check can conclude from the evidence alone; Grace, Waived, Exempt and NotApplicable
# are decided around the check by the status rules.
FindingStatus = Literal["Met", "Missing", "Incomplete", "Expired", "Failed"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the checks may read about one model, gathered once per model."""

    model: Resource[GPAIModelSpec]
    documentation: Resource[ModelDocumentationSpec] | None  # current version, newest lastUpdated
    copyright_policy: Resource[CopyrightPolicySpec] | None  # the referenced one, if it exists
    evaluations: tuple[Resource[RiskEvaluationSpec], ...]  # current version only
    other_versions: Mapping[str, tuple[str, ...]]  # kind -> versions of ignored artifacts
    incidents: tuple[Resource[SeriousIncidentSpec], ...] = ()  # every version's: duties outlive versions
    versions: tuple[VersionSeen, ...] = ()  # the version history (status.versions)
    original: Resource[GPAIModelSpec] | None = None  # the GPAIModel spec.derivedFrom.modelRef names

    @property
    def namespace(self) -> str:
        return self.model.namespace

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def version(self) -> str:
        return self.model.spec.version

    @property
    def subject(self) -> str:
        return f"GPAIModel {self.namespace}/{self.name} version {self.version}"


@dataclass(frozen=True, slots=True)
class Terms:
    """What one policy asks of one model: its parameters, the classification they give, the day."""

    today: dt.date
    parameters: Parameters
    classification: Classification
    # A downstream model's original: its transparency/downstream-information under the same policy.
    upstream: ObligationVerdict | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    status: FindingStatus
    detail: str  # what was found, for a person: names fields, objects and dates
    fix: str | None = None  # replaces the obligation's generic fix where the check knows better
    fix_args: Mapping[str, str] = field(default_factory=dict)  # fills the generic fix's placeholders
    expires: dt.date | None = None  # Met: the last day the evidence still counts
    # A failing finding about a duty not yet due (a notification inside its two weeks): Grace
    # through this day, decided by the status rules as for a legacy model.
    due: dt.date | None = None
    changes: tuple[dt.date, ...] = ()  # days from which the clock alone may change this finding
    subject: ObjectRef | None = None  # the evidence object judged, when not the GPAIModel itself


# A check: (evidence, terms, required field paths) -> Finding. The paths are the obligation's
# own plus what the classification and the policy add; checks that read no fields ignore them.
Check = Callable[[Evidence, Terms, tuple[str, ...]], Finding]


def gather(state: ClusterState, key: ModelKey) -> Evidence:
    """The evidence of one model; artifacts of other versions are only remembered for messages."""
    model = state.models[key]
    version = model.spec.version
    docs = state.documentation_for(key)
    current_docs = [d for d in docs if d.spec.model_version == version]
    documentation = max(current_docs, key=lambda d: (d.spec.last_updated, d.name), default=None)
    evaluations = state.evaluations_for(key)
    original = state.original_of(key)
    return Evidence(
        model=model,
        documentation=documentation,
        copyright_policy=state.copyright_policy_for(key),
        evaluations=tuple(e for e in evaluations if e.spec.model_version == version),
        other_versions={
            "ModelDocumentation": _versions_other_than(version, (d.spec.model_version for d in docs)),
            "RiskEvaluation": _versions_other_than(version, (e.spec.model_version for e in evaluations)),
        },
        incidents=tuple(state.incidents_for(key)),
        versions=state.versions_of(key),
        original=state.models.get(original) if original is not None else None,
    )


def _versions_other_than(version: str, versions: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in versions if v != version}))
