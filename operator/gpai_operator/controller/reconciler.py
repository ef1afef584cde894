"""The single reconcile worker: queued models and workloads in, status, Events and annotations out.

One loop, so evaluations never race each other: it takes everything queued, has the `Planner`
re-evaluate exactly those models (and the workloads that name them) and work out what differs from
what the watches last saw, then hands the differences to `Writes`, at most `concurrency` requests in
flight. A pass does not wait for its writes: the next pass plans what arrived meanwhile while they
are out, so the API server always has writes to take (a pass that waited for its slowest write
would leave it idle, and queue whatever arrived behind the whole pass). As in client-go's work
queue, an object is never written twice at once: one queued again while its write is in flight is
planned again once that write has answered (what it wrote is then what was observed).
When nothing is queued it sleeps until the earliest `nextReview` of any verdict (the clock alone
changes a verdict then: an evaluation expiring, a grace period ending), or until something is queued.
A pass that evaluated models, or follows a change of the state, also works out the objects the
operator derives wholly from the state (controller/derived.py: the AdmissionVerdicts of the native
gate) and writes their differences.

Every replica evaluates (its verdicts answer admission reviews and fill the metrics); only the
leading one writes (leadership.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gpai_operator.controller.bookkeeping import Desired, Observed
from gpai_operator.controller.derived import DerivedPlan, DerivedSource
from gpai_operator.controller.kube import Fenced
from gpai_operator.controller.metrics import RECONCILES, Tallies
from gpai_operator.controller.planner import ModelPlans, Planner
from gpai_operator.controller.plans import IncidentStatusPlan, MarksPlan, ModelStatusPlan
from gpai_operator.controller.writer import Writer
from gpai_operator.controller.writes import Result, Writes
from gpai_operator.engine import ModelKey, ObjectKey, WorkloadKey
from gpai_operator.runtime import Runtime, audit, audit_exception

logger = logging.getLogger("gpai_operator.reconciler")

YIELD_EVERY = 25  # evaluations between yields to the event loop (admission answers stay fast)

Write = Callable[[Writes], Awaitable[Result]]


# What a write is for, so the object can be planned again once it has answered: a model (its status,
# Event and incidents), a workload (its annotations) or a derived kind (all its objects).
Owner = tuple[str, Any]


@dataclass(frozen=True)
class _Write:
    owner: Owner
    result_key: tuple[str, ...]
    send: Callable[[], Awaitable[Result]]


@dataclass
class _Pass:
    """The writes one reconcile pass decided on, and how each object ended that needs none."""

    writes: list[_Write] = field(default_factory=list)
    results: dict[tuple[str, ...], str] = field(default_factory=dict)  # object -> unchanged|standby|error

    def plan(
        self, owner: Owner, result_key: tuple[str, ...], differs: bool, writes: Writes | None, write: Write
    ) -> None:
        """`write` when something differs and this replica writes (`writes`); the result otherwise."""
        if not differs:
            self.results[result_key] = "unchanged"
        elif writes is None:
            self.results[result_key] = "standby"
        else:
            self.writes.append(_Write(owner, result_key, lambda: write(writes)))


class Reconciler:
    def __init__(
        self,
        runtime: Runtime,
        observed: Observed,
        desired: Desired,
        writer: Writer | None,
        *,
        leading: Callable[[], bool] = lambda: True,
        instance: str = "gpai-operator",
        concurrency: int = 32,
        retry_delay: float = 5.0,
        derived: Sequence[DerivedSource] = (),
    ) -> None:
        self.runtime = runtime
        self.observed = observed
        self.planner = Planner(runtime, observed, desired, derived)
        self.writes = (
            Writes(
                runtime,
                observed,
                writer,
                self,
                instance=instance,
                retry_delay=retry_delay,
                leading=leading,
            )
            if writer is not None
            else None
        )
        self.leading = leading
        self.concurrency = concurrency
        self.pending_models: set[ModelKey] = set()
        self.pending_workloads: set[WorkloadKey] = set()
        self.pending_derived: set[DerivedSource] = set()  # to work out again
        self.passes = 0
        self._wake = asyncio.Event()
        self._synced = asyncio.Event()
        self._slots: asyncio.Semaphore | None = None  # made on the loop that runs the writes
        self._writing: dict[Owner, int] = {}  # writes in flight, per owner
        self._asked_again: set[Owner] = set()  # queued again while being written
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def tallies(self) -> Tallies:
        return self.planner.tallies

    # The WorkQueue the sync uses, and what the leadership and the clock ask for.
    def enqueue_models(self, keys: Iterable[ModelKey]) -> None:
        before = len(self.pending_models)
        self.pending_models.update(keys)
        if len(self.pending_models) != before:
            self._wake.set()

    def enqueue_workloads(self, keys: Iterable[WorkloadKey]) -> None:
        before = len(self.pending_workloads)
        self.pending_workloads.update(keys)
        if len(self.pending_workloads) != before:
            self._wake.set()

    def enqueue_derived(self, *, workloads: bool = False) -> None:
        sources = {s for s in self.planner.derived_sources if s.workloads or not workloads}
        if not sources <= self.pending_derived:
            self.pending_derived |= sources
            self._wake.set()

    def enqueue_all(self) -> None:
        """Everything: after the first sync, and when this replica starts leading."""
        self.enqueue_derived()
        state = self.runtime.state
        self.enqueue_models({*state.models, *self.observed.invalid_models, *self.observed.model_status})
        self.enqueue_workloads(state.workloads)
        self.enqueue_workloads(k for k, marks in self.observed.marks.items() if marks)

    def synced(self) -> None:
        """The watches have listed everything: start reconciling, everything first."""
        self.enqueue_all()
        self._synced.set()

    def forget_workload(self, key: WorkloadKey) -> None:
        self.planner.forget_workload(key)

    def forget_incident(self, key: ObjectKey) -> None:
        self.planner.forget_incident(key)

    def leadership_changed(self, leading: bool) -> None:
        if leading:
            self.planner.forget_announcements()
            if self.runtime.synced:
                self.enqueue_all()

    @property
    def idle(self) -> bool:
        """Nothing queued and no write in flight."""
        return not self._in_flight and self._nothing_queued

    @property
    def _nothing_queued(self) -> bool:
        return not (self.pending_models or self.pending_workloads or self.pending_derived)

    async def written(self) -> None:
        """Until every write handed out so far has answered."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def next_review(self) -> dt.datetime | None:
        return self.planner.next_review()

    async def run(self) -> None:
        await self._synced.wait()  # a partial state would write partial truths
        try:
            while True:
                await self._wait_for_work()
                await self.reconcile_once()
        finally:
            if self.writes is not None:
                self.writes.cancel_retries()
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _wait_for_work(self) -> None:
        clock = self.runtime.clock
        while True:
            self._enqueue_due(clock.now())
            if not self._nothing_queued:
                return
            self._wake.clear()
            tasks: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._wake.wait())}
            due = self.next_review()
            if due is not None:
                tasks.add(asyncio.ensure_future(clock.sleep_until(due)))
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                # Their cancellations come back as values; a cancellation of this task while it
                # waits for them is raised (suppressing CancelledError here would swallow it, and a
                # cancelled reconciler would go on waiting for work: a stop that hangs).
                await asyncio.gather(*tasks, return_exceptions=True)

    def _enqueue_due(self, now: dt.datetime) -> None:
        due = self.planner.due(now)
        if due:
            audit(logger, "next review reached", models=len(due), now=now.isoformat())
            self.enqueue_models(due)

    async def reconcile_once(self) -> None:
        """One pass over everything queued: evaluate, then hand the differences to the writes (when
        leading). Returns once every write is handed out, not answered (`written` waits for that)."""
        if not self.runtime.synced:
            return
        now = self.runtime.clock.now()
        started = time.perf_counter()
        writes = self.writes if self.leading() else None
        models, self.pending_models = sorted(self.pending_models), set()
        workloads, self.pending_workloads = self.pending_workloads, set()
        derive, self.pending_derived = self.pending_derived, set()
        if models:  # their verdicts may have changed
            derive = set(self.planner.derived_sources)
        work = _Pass()
        for index, key in enumerate(models):
            try:
                plans = self.planner.model(key, now)  # the verdict is current even while it is written
            except Exception:  # an engine bug must not stop every other model's reconciliation
                audit_exception(logger, "evaluation failed", namespace=key[0], model=key[1])
                work.results[("GPAIModel", *key)] = "error"
            else:
                workloads.update(plans.workloads)
                if not self._busy(("model", key)):
                    self._plan_model_writes(key, plans, writes, work)
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        for index, wkey in enumerate(sorted(workloads)):
            try:
                marks = self.planner.workload(wkey, now)
            except Exception:
                kind, namespace, name = wkey
                audit_exception(logger, "workload decision failed", kind=kind, namespace=namespace, name=name)
                work.results[("workload", *wkey)] = "error"
            else:
                if marks is not None and not self._busy(("workload", wkey)):
                    self._plan_marks_write(marks, writes, work)
            if index % (YIELD_EVERY * 4) == YIELD_EVERY * 4 - 1:
                await asyncio.sleep(0)
        self._plan_derived({s for s in derive if not self._busy(("derived", s))}, now, writes, work)
        for result in work.results.values():
            RECONCILES.labels(result).inc()
        planned = time.perf_counter()
        await self._hand_out(work.writes)
        self.passes += 1
        audit(
            logger,
            "reconcile pass",
            logging.DEBUG,
            models=len(models),
            workloads=len(workloads),
            writes=len(work.writes),
            in_flight=len(self._in_flight),
            plan_seconds=round(planned - started, 4),
            hand_out_seconds=round(time.perf_counter() - planned, 4),
        )

    def _busy(self, owner: Owner) -> bool:
        """Whether `owner` has a write in flight; if so it is planned again once that has answered."""
        if owner in self._writing:
            self._asked_again.add(owner)
            return True
        return False

    # Each write is a closure over its own plan, so each is made in a method of its own.
    def _plan_model_writes(
        self, key: ModelKey, plans: ModelPlans, writes: Writes | None, work: _Pass
    ) -> None:
        if plans.status is not None:
            self._plan_status_write(plans.status, writes, work)
        for incident in plans.incidents:
            self._plan_incident_write(key, incident, writes, work)

    def _plan_status_write(self, plan: ModelStatusPlan, writes: Writes | None, work: _Pass) -> None:
        work.plan(
            ("model", plan.key),
            plan.result_key,
            not plan.nothing_to_write,
            writes,
            lambda w: self._write_status(w, plan),
        )

    @staticmethod
    def _plan_incident_write(
        model: ModelKey, plan: IncidentStatusPlan, writes: Writes | None, work: _Pass
    ) -> None:
        owner = ("model", model)  # planned with its model, and so planned again with it
        work.plan(owner, plan.result_key, plan.patch is not None, writes, lambda w: w.incident_status(plan))

    @staticmethod
    def _plan_marks_write(plan: MarksPlan, writes: Writes | None, work: _Pass) -> None:
        owner = ("workload", plan.workload.key)
        work.plan(owner, plan.result_key, plan.patch is not None, writes, lambda w: w.marks(plan))

    def _plan_derived(
        self, sources: set[DerivedSource], now: dt.datetime, writes: Writes | None, work: _Pass
    ) -> None:
        for source in self.planner.derived_sources:
            if source not in sources:
                continue
            try:
                plans = self.planner.derived(source, now)
            except Exception:  # a bug must write nothing: deleting every object would open no gate
                audit_exception(logger, "derived objects not worked out", kind=source.kind.kind)
                work.results[(source.kind.kind,)] = "error"
                continue
            for plan in plans:
                self._plan_derived_write(source, plan, writes, work)

    @staticmethod
    def _plan_derived_write(
        source: DerivedSource, plan: DerivedPlan, writes: Writes | None, work: _Pass
    ) -> None:
        work.plan(("derived", source), plan.result_key, True, writes, lambda w: w.derived(plan))

    async def _write_status(self, writes: Writes, plan: ModelStatusPlan) -> Result:
        result = await writes.model_status(plan)
        if result == "changed" and plan.change is not None:
            self.planner.announce(plan.key, plan.change.compliant)
        return result

    async def _hand_out(self, planned: list[_Write]) -> None:
        """Each write into a task of its own once one of the `concurrency` slots is free."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        for write in planned:
            await self._slots.acquire()
            self._writing[write.owner] = self._writing.get(write.owner, 0) + 1
            task = asyncio.create_task(self._send(write, self._slots))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _send(self, write: _Write, slots: asyncio.Semaphore) -> None:
        try:
            # Leadership can lapse during a long pass: a replica that may no longer write stops
            # at once (the new leader re-reconciles everything).
            result: str = await write.send() if self.leading() else "standby"
        except Fenced:  # lost the lease while it waited to be sent
            result = "standby"
        except Exception:  # a bug in one write must not stop the others, nor leave its object busy
            audit_exception(logger, "write failed", object="/".join(write.result_key))
            result = "error"
        finally:
            slots.release()
            self._written(write.owner)
        if result not in ("error", "standby") and self.writes is not None:
            self.writes.succeeded(write.result_key)
        RECONCILES.labels(result).inc()

    def _written(self, owner: Owner) -> None:
        left = self._writing[owner] - 1
        if left:
            self._writing[owner] = left
            return
        del self._writing[owner]
        if owner in self._asked_again:
            self._asked_again.discard(owner)
            self._queue_again(owner)

    def _queue_again(self, owner: Owner) -> None:
        what, key = owner
        if what == "model":
            self.enqueue_models({key})
        elif what == "workload":
            self.enqueue_workloads({key})
        elif what == "derived":
            self.pending_derived.add(key)
            self._wake.set()
