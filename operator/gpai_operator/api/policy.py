"""CompliancePolicy: what is required where, and what a violation does at admission."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from gpai_operator.api.base import (
    LIST_MAX,
    NAME_MAX,
    ApiModel,
    Bool,
    CelCheckedModel,
    CelRule,
    Contact,
    Date,
    Name,
    Text,
)
from gpai_operator.api.gpaimodel import Chapter
from gpai_operator.api.obligations import DocumentationObligationId, PolicyObligationId

ValidationAction = Literal["Deny", "Warn", "Audit"]

# The law's values; a policy's `parameters` override them one by one.
LAW_SYSTEMIC_RISK_FLOPS = 1e25
LAW_LEGACY_CUTOFF = dt.date(2025, 8, 2)
LAW_LEGACY_DEADLINE = dt.date(2027, 8, 2)


class LabelSelectorRequirement(ApiModel):
    key: Annotated[str, Field(min_length=1, max_length=317)]
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: Annotated[list[Annotated[str, Field(max_length=63)]], Field(max_length=LIST_MAX)] = []


class LabelSelector(ApiModel):
    """A Kubernetes LabelSelector; an empty selector selects every namespace."""

    match_labels: Annotated[dict[str, Annotated[str, Field(max_length=63)]], Field(max_length=LIST_MAX)] = {}
    match_expressions: Annotated[list[LabelSelectorRequirement], Field(max_length=LIST_MAX)] = []


class Parameters(CelCheckedModel):
    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "!has(self.legacyCutoff) || !has(self.legacyDeadline) || self.legacyDeadline > self.legacyCutoff",
            "legacyDeadline must be after legacyCutoff",
            lambda p: (
                p.legacy_cutoff is None or p.legacy_deadline is None or p.legacy_deadline > p.legacy_cutoff
            ),
            ".legacyDeadline",
        ),
    )

    systemic_risk_flops: Annotated[float, Field(gt=0)] = LAW_SYSTEMIC_RISK_FLOPS
    legacy_cutoff: Date | None = None
    legacy_deadline: Date | None = None
    framework_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 365
    model_report_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 183
    training_summary_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 183
    expiry_warning_days: Annotated[int, Field(ge=0, le=365)] = 30
    # Chapters whose non-signatories fail governance/code-of-practice, alternative means or not.
    require_signatory: Annotated[
        list[Chapter], Field(max_length=3, json_schema_extra={"x-kubernetes-list-type": "set"})
    ] = []

    @field_validator("require_signatory")
    @classmethod
    def _each_chapter_once(cls, chapters: list[Chapter]) -> list[Chapter]:
        # The CRD declares the list a set, so the API server refuses duplicates; so does gpai check.
        duplicates = sorted({c for c in chapters if chapters.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate entries: {', '.join(duplicates)}")
        return chapters

    @property
    def cutoff(self) -> dt.date:
        return self.legacy_cutoff or LAW_LEGACY_CUTOFF

    @property
    def deadline(self) -> dt.date:
        return self.legacy_deadline or LAW_LEGACY_DEADLINE


class PolicyException(ApiModel):
    """Waives the listed obligations (all when none are listed) of one model until `expires`;
    with `version`, only while the model declares that version (compared as a string)."""

    namespace: Annotated[str, Field(min_length=1, max_length=63)]
    model: Name
    version: Contact | None = None
    obligations: Annotated[list[PolicyObligationId], Field(max_length=32)] = []
    reason: Annotated[str, Field(min_length=1, max_length=1024)]
    expires: Date


class AdditionalRequiredFields(ApiModel):
    """Documentation fields a policy requires on top of the catalogue's list, as dotted paths."""

    obligation: DocumentationObligationId
    fields: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=NAME_MAX)]], Field(max_length=LIST_MAX)
    ]


def _valid_actions(actions: list[str]) -> bool:
    return len(set(actions)) == len(actions) and not ("Deny" in actions and "Warn" in actions)


class CompliancePolicySpec(CelCheckedModel):
    validation_actions: Annotated[
        list[ValidationAction],
        Field(
            min_length=1,
            max_length=2,
            json_schema_extra={"x-kubernetes-list-type": "set"},
        ),
    ]
    namespace_selector: LabelSelector | None = None
    obligations: Annotated[list[PolicyObligationId], Field(max_length=32)] = []
    require_model_label: Bool = False
    parameters: Parameters = Parameters()
    exceptions: Annotated[list[PolicyException], Field(max_length=256)] = []
    additional_required_fields: Annotated[list[AdditionalRequiredFields], Field(max_length=2)] = []
    description: Text | None = None

    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "!('Deny' in self.validationActions && 'Warn' in self.validationActions)",
            "Deny and Warn cannot be combined; use [Deny], [Warn], [Audit] or [Warn, Audit]",
            lambda spec: _valid_actions(list(spec.validation_actions)),
            ".validationActions",
        ),
    )
