"""RiskEvaluation: one evaluation or red-team run of a model version (Art. 55(1)(a))."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from gpai_operator.api.base import (
    LIST_MAX,
    ApiModel,
    Bool,
    CelCheckedModel,
    CelRule,
    Contact,
    Date,
    DocumentRef,
    LocalRef,
    Short,
    Text,
)

Risk = Literal["Cbrn", "LossOfControl", "CyberOffence", "HarmfulManipulation", "Other"]
SPECIFIED_RISKS: tuple[Risk, ...] = ("Cbrn", "LossOfControl", "CyberOffence", "HarmfulManipulation")


class PerformedBy(ApiModel):
    organisation: Short | None = None
    independent: Bool | None = None


class RiskEvaluationSpec(CelCheckedModel):
    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "self.validUntil >= self.completed",
            "validUntil must not be before completed",
            lambda spec: spec.valid_until >= spec.completed,
            ".validUntil",
        ),
    )

    model_ref: LocalRef
    model_version: Contact
    type: Literal["Evaluation", "AdversarialTesting"]
    risks: Annotated[list[Risk], Field(min_length=1, max_length=5)]
    performed_by: PerformedBy | None = None
    completed: Date
    valid_until: Date
    outcome: Literal["Acceptable", "Unacceptable"]
    report: DocumentRef | None = None
    mitigations: Annotated[list[Text], Field(max_length=LIST_MAX)] = []
