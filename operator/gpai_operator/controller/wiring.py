"""One wiring of the watches' side (StateSync) to the reconciler, for the operator and its test fakes.

    loop = build_loop(runtime, writer, leading=lambda: leadership.leading)
    loop.sync.upsert(body)           # what the listings and watches call
    await loop.reconciler.run()      # the one worker

The two sides share plain records (`Observed`, `Desired`) and the sync queues work through the
`WorkQueue` protocol; neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gpai_operator.controller.bookkeeping import Desired, Observed
from gpai_operator.controller.derived import DerivedSource
from gpai_operator.controller.reconciler import Reconciler
from gpai_operator.controller.sync import StateSync
from gpai_operator.controller.writer import Writer
from gpai_operator.runtime import Runtime


@dataclass(frozen=True)
class Loop:
    """The operator's reconcile loop: events in through `sync`, writes out through `reconciler`."""

    sync: StateSync
    reconciler: Reconciler
    observed: Observed
    desired: Desired


def build_loop(
    runtime: Runtime,
    writer: Writer | None,
    *,
    leading: Callable[[], bool] = lambda: True,
    instance: str = "gpai-operator",
    concurrency: int = 32,
    retry_delay: float = 5.0,
    derived: Sequence[DerivedSource] = (),
) -> Loop:
    """The sync and the reconciler over one runtime, sharing what was observed and what is desired;
    `derived`: the kinds the operator derives wholly from the state (controller/derived.py)."""
    observed, desired = Observed(), Desired()
    reconciler = Reconciler(
        runtime,
        observed,
        desired,
        writer,
        leading=leading,
        instance=instance,
        concurrency=concurrency,
        retry_delay=retry_delay,
        derived=derived,
    )
    sync = StateSync(runtime, observed, desired, reconciler, derived)
    return Loop(sync, reconciler, observed, desired)
