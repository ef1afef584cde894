"""Status written by the operator: conditions, per-obligation results, classification."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gpai_operator.api.base import LIST_MAX, ApiModel, Bool, Date, Short, Text
from gpai_operator.api.obligations import ObligationStatus

DateTime = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"})]


class Condition(ApiModel):
    """A metav1.Condition."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[
        str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    ]
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: DateTime
    observed_generation: Annotated[int, Field(ge=0)] | None = None


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=8,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


# The Code of Practice chapters a provider signed, short: T(ransparency), C(opyright),
# S(afety and Security), in that order and comma-separated ("T,C,S", "S"); "-" for none.
SignedChapters = Annotated[str, Field(max_length=8, pattern=r"^(-|[TCS](,[TCS]){0,2})$")]


class Classification(ApiModel):
    systemic_risk: Bool
    open_source_exempt: Bool
    legacy: Bool
    eu_provider: Bool
    code_of_practice: SignedChapters | None = None


class ObligationResult(ApiModel):
    id: Short
    status: ObligationStatus
    message: Text = ""
    expires: Date | None = None


class GPAIModelStatus(ApiModel):
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    classification: Classification | None = None
    obligations: Annotated[list[ObligationResult], Field(max_length=LIST_MAX)] = []
    conditions: Conditions = []
    next_review: DateTime | None = None
    workloads: Annotated[int, Field(ge=0)] | None = None


class ArtifactStatus(ApiModel):
    """Status of the evidence kinds and of CompliancePolicy: conditions only."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    conditions: Conditions = []


__all__ = ["ArtifactStatus", "Classification", "Condition", "GPAIModelStatus", "ObligationResult"]
