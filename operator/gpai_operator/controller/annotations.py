"""The `gpai.dev/*` annotations on workloads (SPEC section 3): what they should say, and the patch.

Only metadata is ever patched (a JSON merge patch of `metadata.annotations`), never the pod
template, so writing them never starts a rollout. `gpai.dev/evaluated` moves only when the other
two change, so re-evaluating an unchanged verdict writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gpai_operator.controller.status import rfc3339

COMPLIANCE = "gpai.dev/compliance"
UNMET = "gpai.dev/unmet"
EVALUATED = "gpai.dev/evaluated"
OURS: tuple[str, ...] = (COMPLIANCE, UNMET, EVALUATED)

Marks = dict[str, str]  # our annotations only, key -> value


def observed_marks(annotations: Mapping[str, Any] | None) -> Marks:
    """Our annotations among a workload's annotations."""
    if not annotations:
        return {}
    return {key: str(annotations[key]) for key in OURS if key in annotations}


def desired_marks(
    compliance: str | None, unmet: Iterable[str], observed: Mapping[str, str], now: dt.datetime
) -> Marks:
    """What the annotations should be; empty when the workload should carry none (unlabelled)."""
    if compliance is None:
        return {}
    marks = {COMPLIANCE: compliance, UNMET: ",".join(sorted(set(unmet)))}
    unchanged = all(observed.get(key) == value for key, value in marks.items())
    previous = observed.get(EVALUATED)
    marks[EVALUATED] = previous if unchanged and previous else rfc3339(now)
    return marks


def marks_patch(desired: Mapping[str, str], observed: Mapping[str, str]) -> dict[str, Any] | None:
    """A merge patch touching only our annotations, or None when nothing differs."""
    if dict(desired) == dict(observed):
        return None
    changes: dict[str, str | None] = {key: None for key in observed if key not in desired}
    changes.update({key: value for key, value in desired.items() if observed.get(key) != value})
    return {"metadata": {"annotations": changes}}
