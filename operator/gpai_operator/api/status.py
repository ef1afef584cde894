"""Status written by the operator: conditions, per-obligation results, classification."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field

from gpai_operator.api.base import LIST_MAX, ApiModel, Bool, Contact, Date, Short, Text
from gpai_operator.api.obligations import ObligationStatus

DateTime = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"})]


def instant(value: str) -> dt.datetime:
    """An RFC 3339 date-time as the API server accepts it (any case, `Z` or an offset), in UTC."""
    parsed = dt.datetime.fromisoformat(value.strip().upper())
    if parsed.tzinfo is None:
        raise ValueError("must carry a time zone (Z or an offset)")
    return parsed.astimezone(dt.UTC)


def _rfc3339(value: str) -> str:
    try:
        instant(value)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-11-28T12:30:00Z") from None
    return value


# A date-time the engine reads (DateTime is only written by the operator and shown).
Instant = Annotated[DateTime, AfterValidator(_rfc3339)]


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """A metav1.Condition."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    status: ConditionStatus
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


# Who the model's owner is in the value chain (Commission guidelines of 18 July 2025): the provider
# of a model it made; the provider of a modification that used more than a third of the original's
# training compute; or a downstream user of someone else's model (a lighter modification).
Role = Literal["Provider", "ModifierProvider", "Downstream"]
ROLES: tuple[Role, ...] = get_args(Role)


class Classification(ApiModel):
    systemic_risk: Bool
    open_source_exempt: Bool
    legacy: Bool
    eu_provider: Bool
    code_of_practice: SignedChapters | None = None
    role: Role | None = None


class VersionSeen(ApiModel):
    """One version the model has declared, as the operator saw it: the documentation of each must be
    kept ten years after it was last on the market (Art. 54(3)(b); CoP Transparency M1.1)."""

    version: Contact
    first_seen: Instant  # when the operator first saw the model declare it
    superseded: Instant | None = None  # when the model moved to another version; absent: current


# Versions in the history: enough for a release a month for ten years (docs/operator.md says what
# happens beyond).
VERSIONS_MAX = 128


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
    versions: Annotated[list[VersionSeen], Field(max_length=VERSIONS_MAX)] = []


ReportKind = Literal["Initial", "Intermediate", "Final"]


class SeriousIncidentStatus(ApiModel):
    """Written by the operator: the next report owed and its deadline, and whether every deadline so
    far was kept (the `Timely` condition)."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    next_report: ReportKind | None = None
    next_deadline: Date | None = None  # the last day the next report is on time; absent: closed
    conditions: Conditions = []


class ArtifactStatus(ApiModel):
    """Status of the evidence kinds and of CompliancePolicy: conditions only."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    conditions: Conditions = []


__all__ = [
    "ROLES",
    "ArtifactStatus",
    "Classification",
    "Condition",
    "GPAIModelStatus",
    "ObligationResult",
    "ReportKind",
    "Role",
    "SeriousIncidentStatus",
    "VersionSeen",
]
