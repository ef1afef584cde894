"""Which admission requests are judged, and which are always allowed (SPEC section 4).

Judged: CREATE, and an UPDATE that changes the pod template or the `gpai.dev/model` label.
Always allowed (with a warning where the model is not compliant): scaling, any other update
(metadata only, replicas, strategy...), subresources (scale, status...), DELETE and CONNECT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gpai_operator.admission.envelope import Request
from gpai_operator.engine.state import MODEL_LABEL

# Where each workload kind keeps what it runs: the pod template, or for a Pod its spec, or for a
# KServe InferenceService its predictor. Keyed by (API group, kind) as objects.WORKLOAD_KINDS.
TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    ("", "Pod"): ("spec",),
    ("serving.kserve.io", "InferenceService"): ("spec", "predictor"),
}

# Why a request is allowed without judgement, as the end of a warning: "allowed: <reason>".
PassReason = Literal[
    "deleting is never blocked",
    "connecting is never blocked",
    "scaling is never blocked",
    "status updates are never blocked",
    "subresource updates are never blocked",
    "updates that keep the pod template and model label are never blocked",
]


def pass_reason(request: Request) -> PassReason | None:
    """None when the request must be judged; else why it is always allowed."""
    if request.operation == "DELETE":
        return "deleting is never blocked"
    if request.operation == "CONNECT":
        return "connecting is never blocked"
    if request.subresource == "scale":
        return "scaling is never blocked"
    if request.subresource == "status":
        return "status updates are never blocked"
    if request.subresource:
        return "subresource updates are never blocked"
    if request.operation == "UPDATE" and not changes_what_runs(request):
        return "updates that keep the pod template and model label are never blocked"
    return None


def changes_what_runs(request: Request) -> bool:
    """An UPDATE that changes the pod template (or its equivalent) or the model label."""
    old, new = request.old_object or {}, request.object or {}
    if _model_label(old) != _model_label(new):
        return True
    path = TEMPLATE_PATHS.get((request.group, request.kind))
    if path is None:  # not a workload kind: nothing it runs that we know of
        return False
    return _at(old, path) != _at(new, path)


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
