"""Which admission requests are judged, and which are always allowed (SPEC section 4).

Judged: CREATE; an UPDATE that changes what runs (the pod template, for a Pod or an InferenceService
its spec), the `gpai.dev/model` label, or the controller reference (one added or pointing elsewhere);
adding ephemeral containers to a Pod (`pods/ephemeralcontainers`).
Always allowed (with a warning where the model is not compliant): scaling, any other update
(metadata only, replicas, strategy, an owner reference removed as orphaning does...), the other
subresources (scale, status...), DELETE and CONNECT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gpai_operator.admission.envelope import Request
from gpai_operator.engine import MODEL_LABEL, WorkloadKind

EPHEMERAL_CONTAINERS = "ephemeralcontainers"

# Why a request is allowed without judgement, as the end of a warning: "allowed: <reason>".
PassReason = Literal[
    "deleting is never blocked",
    "connecting is never blocked",
    "scaling is never blocked",
    "status updates are never blocked",
    "subresource updates are never blocked",
    "updates that keep the pod template, model label and controller are never blocked",
]


def pass_reason(request: Request, kind: WorkloadKind) -> PassReason | None:
    """None when the request must be judged; else why it is always allowed."""
    if request.operation == "DELETE":
        return "deleting is never blocked"
    if request.operation == "CONNECT":
        return "connecting is never blocked"
    if request.subresource == "scale":
        return "scaling is never blocked"
    if request.subresource == "status":
        return "status updates are never blocked"
    if request.subresource == EPHEMERAL_CONTAINERS and kind.key == ("", "Pod"):
        return None  # `kubectl debug`: another container runs beside the model
    if request.subresource:
        return "subresource updates are never blocked"
    if request.operation == "UPDATE" and not changes_what_runs(request, kind):
        return "updates that keep the pod template, model label and controller are never blocked"
    return None


def changes_what_runs(request: Request, kind: WorkloadKind) -> bool:
    """An UPDATE that changes a pod template (or the spec), the model label, or gains a controller."""
    old, new = request.old_object or {}, request.object or {}
    if _model_label(old) != _model_label(new):
        return True
    if any(_at(old, path) != _at(new, path) for path in kind.templates):
        return True
    return controller_uid(new) not in ("", controller_uid(old))


def controller_uid(obj: Mapping[str, Any]) -> str:
    """The uid its controller reference names ("" without one): a new one means a new claim."""
    owners = _at(obj, ("metadata", "ownerReferences"))
    if not isinstance(owners, list):
        return ""
    for owner in owners:
        if isinstance(owner, Mapping) and owner.get("controller") is True:
            return str(owner.get("uid") or "") or "(no uid)"
    return ""


def _model_label(obj: Mapping[str, Any]) -> Any:
    labels = _at(obj, ("metadata", "labels"))
    return labels.get(MODEL_LABEL) if isinstance(labels, Mapping) else None


def _at(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
