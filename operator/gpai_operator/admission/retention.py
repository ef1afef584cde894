"""The advice on deleting a ModelDocumentation: allowed always, with a warning while it is evidence
that must be kept (Art. 53(1)(a), 54(3)(b); CoP Transparency M1.1: ten years).

It must be kept while its version is the model's current one, or was on the market within the last
ten years (the model's status.versions, engine/retention.py). No warning when the model does not
exist, the version was never seen on the market, or the model owes no documentation (open-source
exempt, or a downstream modification): the model's verdict says which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from gpai_operator import objects
from gpai_operator.admission.envelope import Request
from gpai_operator.api.base import GROUP
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.engine import (
    RETENTION_YEARS,
    ClusterState,
    Duty,
    ModelKey,
    ModelVerdict,
    documentation_duty,
    utc_day,
)

RETENTION = "transparency/documentation-retention"
TECHNICAL_DOCUMENTATION = "transparency/technical-documentation"
KIND = "ModelDocumentation"
NOT_OWED = frozenset({"Exempt", "NotApplicable"})
_UNLESS = "unless another ModelDocumentation of that version exists"


def deleting_documentation(request: Request) -> bool:
    return request.operation == "DELETE" and request.group == GROUP and request.kind == KIND


def _deleted(request: Request, state: ClusterState) -> ModelDocumentationSpec | None:
    """The ModelDocumentation being deleted: as the request carries it, else as the watches saw it."""
    old: Mapping[str, Any] | None = request.old_object
    if old is not None:
        try:
            _, resource = objects.resource_from(old, default_namespace=request.namespace)
        except objects.InvalidObject:
            resource = None
        if resource is not None and isinstance(resource.spec, ModelDocumentationSpec):
            return resource.spec
    known = state.documentation.get((request.namespace, request.name))
    return known.spec if known is not None else None


def retention_warning(
    request: Request,
    state: ClusterState,
    now: dt.datetime,
    verdict_of: Callable[[ModelKey], ModelVerdict | None],
) -> str | None:
    """The warning for deleting this ModelDocumentation, or None when nothing asks to keep it."""
    doc = _deleted(request, state)
    if doc is None:
        return None
    duty = documentation_duty(state, request.namespace, doc, utc_day(now))
    if duty is None:
        return None
    key = (request.namespace, doc.model_ref.name)
    verdict = verdict_of(key)
    owed = {o.id: o for o in verdict.obligations} if verdict is not None else {}
    obligation = owed.get(TECHNICAL_DOCUMENTATION if duty.current else RETENTION)
    if obligation is not None and obligation.status in NOT_OWED:
        return None
    basis = obligation.basis if obligation is not None else "Art. 53(1)(a), 54(3)(b)"
    return _words(request, key, duty, basis)


def _words(request: Request, key: ModelKey, duty: Duty, basis: str) -> str:
    what = (
        f"ModelDocumentation {request.namespace}/{request.name} documents version {duty.version} of "
        f"GPAIModel {key[0]}/{key[1]}"
    )
    if duty.current:
        why = (
            f"{what}, its current version: the documentation must be kept while the version is on the "
            f"market and {RETENTION_YEARS} years after ({RETENTION}, {basis})"
        )
        then = f"{TECHNICAL_DOCUMENTATION} becomes Missing {_UNLESS}"
    else:
        until = f"on the market until {duty.on_market_until}" if duty.on_market_until else "no longer current"
        through = f"through {duty.kept_through}" if duty.kept_through else f"for {RETENTION_YEARS} years"
        why = f"{what}, {until}: {RETENTION} ({basis}) asks that it be kept {through}"
        then = f"{RETENTION} becomes Missing {_UNLESS}"
    return f"{why}. Deleting it is allowed; {then}."
