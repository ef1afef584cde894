"""What the operator's parts share in one process: the state, the clock and current verdicts.

Watch handlers write `state`; the reconciler writes `verdicts`; the admission webhook only
reads both (no API call in the admission path). The webhook answers on a thread of its own (so a
review never waits behind reconciliation), so `lock` is held by the watch handlers while they change
the state and by the webhook while it judges from it: a review sees the state between two changes,
never in the middle of one. Both hold it for microseconds to a millisecond.
"""

from __future__ import annotations

import threading
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
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
