"""AdmissionVerdicts: the operator's verdicts per namespace, as the native admission gate reads them.

One object per namespace, always named `gpai-verdicts`, written only by the operator and read by the
ValidatingAdmissionPolicies of admission/native.py as their parameter (`params`). It is never input to
the engine: `objects.apply` and `gpai check` ignore it.

The API server converts the parameter for every request it judges, so it holds what the policies need
and nothing more: every GPAIModel of the namespace with its version (to tell a known model from an
unknown one, and to name the version), and per admission action what the engine decides:

- `deny`: the workloads the engine denies (a Deny policy finds a violation);
- `warn`: the workloads it allows with a warning (a Warn policy does, and no Deny policy);
- `audit`: the workloads an Audit policy finds in violation (whatever the decision).

Each action lists the models behind it (the policies and the unmet obligation ids), and the policies
under which an unlabelled workload (`requireModelLabel`) or a label naming a model that does not exist
gets that action. Every field is required, so the policies' CEL needs no `has()` tests.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gpai_operator.api.base import LIST_MAX, NAME_MAX, ApiModel, Contact
from gpai_operator.api.status import DateTime

NAME = "gpai-verdicts"
# Bounds: a namespace's models, and what one finding can hold (the catalogue has 16 ids).
MODELS_MAX = 5000

# Written whole by one writer: server-side apply replaces a map rather than merging it, so a model
# that left a section is gone (a granular map applied empty would become null, which the schema refuses).
ATOMIC = {"x-kubernetes-map-type": "atomic"}

PolicyName = Annotated[str, Field(max_length=NAME_MAX)]  # "" is the built-in default policy
ObligationId = Annotated[str, Field(min_length=1, max_length=64)]
PolicyNames = Annotated[list[PolicyName], Field(max_length=LIST_MAX)]


class Finding(ApiModel):
    """Why a model's workloads get an action: the policies behind it and the obligations unmet."""

    policies: Annotated[list[PolicyName], Field(min_length=1, max_length=LIST_MAX)]
    unmet: Annotated[list[ObligationId], Field(min_length=1, max_length=LIST_MAX)]


class ActionVerdicts(ApiModel):
    """Which workloads get one action (Deny, Warn or Audit), and by which policies."""

    models: Annotated[
        dict[str, Finding], Field(max_length=MODELS_MAX, json_schema_extra=ATOMIC)
    ]  # name -> finding
    unlabelled: PolicyNames  # policies with requireModelLabel: workload/model-declared
    unknown_model: PolicyNames  # every selecting policy: workload/model-exists


class AdmissionVerdictsSpec(ApiModel):
    # every model of the namespace -> its version
    models: Annotated[dict[str, Contact], Field(max_length=MODELS_MAX, json_schema_extra=ATOMIC)]
    deny: ActionVerdicts
    warn: ActionVerdicts
    audit: ActionVerdicts


class AdmissionVerdictsStatus(ApiModel):
    """When the verdicts were computed, until when the clock alone cannot change them, and counts."""

    evaluated: DateTime | None = None
    next_review: DateTime | None = None  # after it, verdicts not rewritten since may be stale
    models: Annotated[int, Field(ge=0)] | None = None
    denied: Annotated[int, Field(ge=0)] | None = None  # models whose workloads are denied
    warned: Annotated[int, Field(ge=0)] | None = None


__all__ = [
    "NAME",
    "ActionVerdicts",
    "AdmissionVerdictsSpec",
    "AdmissionVerdictsStatus",
    "Finding",
]
