"""Kubernetes Events on GPAIModels when they become compliant or non-compliant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gpai_operator.api.base import API_VERSION
from gpai_operator.controller.status import rfc3339

COMPONENT = "gpai-operator"
MESSAGE_MAX = 1024  # the API server truncates longer Event messages anyway


@dataclass(frozen=True)
class Transition:
    """A change of a model's `Compliant` condition worth telling its owners about."""

    namespace: str
    name: str
    uid: str
    compliant: bool
    previous: str | None  # the condition's status before: "True", "False", or None (first evaluation)
    unmet: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "BecameCompliant" if self.compliant else "BecameNonCompliant"

    @property
    def message(self) -> str:
        if self.compliant:
            return "every obligation is met"
        count = f"{len(self.unmet)} obligation{'s' if len(self.unmet) != 1 else ''}"
        text = f"{count} unmet: {', '.join(self.unmet)}"
        return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def transition(
    namespace: str, name: str, uid: str, previous: str | None, compliant: bool, unmet: tuple[str, ...]
) -> Transition | None:
    """The transition from the `previous` condition status to `compliant`, None when it did not change."""
    if previous == ("True" if compliant else "False"):
        return None
    return Transition(namespace, name, uid, compliant, previous, unmet)


def event_body(change: Transition, now: dt.datetime, instance: str) -> dict[str, Any]:
    """A core/v1 Event about the model (what `kubectl describe gpai` and `kubectl events` show)."""
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{change.name}.", "namespace": change.namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": "GPAIModel",
            "namespace": change.namespace,
            "name": change.name,
            "uid": change.uid,
        },
        "reason": change.reason,
        "message": change.message,
        "type": "Normal" if change.compliant else "Warning",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "action": "Evaluate",
        "source": {"component": COMPONENT},
        "reportingComponent": f"gpai.dev/{COMPONENT}",
        "reportingInstance": instance[:128],
    }
