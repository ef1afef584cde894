"""What the operator's parts share in one process: the state, the clock and current verdicts.

Watch handlers write `state`; the reconciler writes `verdicts`; the admission webhook only
reads both (no API call in the admission path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict
from gpai_operator.runtime.clock import Clock, SystemClock


@dataclass
class Runtime:
    state: ClusterState = field(default_factory=ClusterState)
    clock: Clock = field(default_factory=SystemClock)
    verdicts: dict[ModelKey, ModelVerdict] = field(default_factory=dict)
    synced: bool = False  # the initial listing of every watched kind is in `state`
    webhook_serving: bool = False
