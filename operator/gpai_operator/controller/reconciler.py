"""The single reconcile worker: queued models and workloads in, status, Events and annotations out.

One loop, so evaluations never race each other: it takes everything queued, re-evaluates exactly
those models (and the workloads that name them), compares what should be written with what the
watches last saw, and sends only the differences, many requests at a time. When nothing is
queued it sleeps until the earliest `nextReview` of any verdict (the clock alone changes a verdict
then: an evaluation expiring, a grace period ending), or until something is queued.

Every replica evaluates (its verdicts answer admission reviews and fill the metrics); only the
leading one writes (leadership.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gpai_operator.controller import events
from gpai_operator.controller.annotations import Marks, desired_marks, marks_patch, observed_marks
from gpai_operator.controller.bookkeeping import Desired, Observed
from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.metrics import RECONCILES, Tallies
from gpai_operator.controller.plans import (
    IncidentStatusPlan,
    MarksPlan,
    ModelStatusPlan,
    plan_incident_statuses,
    plan_model_status,
)
from gpai_operator.controller.status import (
    COMPLIANT,
    compliant_status,
    invalid_status,
    model_status,
)
from gpai_operator.controller.writer import Writer
from gpai_operator.engine import ModelKey, ObjectKey, WorkloadKey, decide_workload, evaluate_model
from gpai_operator.runtime import Runtime, audit, audit_exception

logger = logging.getLogger("gpai_operator.reconciler")

YIELD_EVERY = 25  # evaluations between yields to the event loop (admission answers stay fast)


@dataclass
class _Pass:
    """The writes one reconcile pass decided on, and how each object ended."""

    writes: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    results: dict[tuple[str, ...], str] = field(default_factory=dict)  # object -> changed|unchanged|...

    def plan(
        self, result_key: tuple[str, ...], differs: bool, writing: bool, write: Callable[[], Awaitable[None]]
    ) -> None:
        """`write` when something differs and this replica writes; the object's result either way."""
        if not differs:
            self.results[result_key] = "unchanged"
        elif not writing:
            self.results[result_key] = "standby"
        else:
            self.results[result_key] = "changed"
            self.writes.append(write)


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
    ) -> None:
        self.runtime = runtime
        self.observed = observed
        self.desired = desired
        self.writer = writer
        self.leading = leading
        self.instance = instance
        self.concurrency = concurrency
        self.retry_delay = retry_delay
        self.pending_models: set[ModelKey] = set()
        self.pending_workloads: set[WorkloadKey] = set()
        self.tallies = Tallies()  # for the metrics
        self.reviews: dict[ModelKey, dt.datetime] = {}  # nextReview of each verdict, when in the future
        self.announced: dict[ModelKey, str] = {}  # Compliant status last written (Events on change)
        self.passes = 0
        self._wake = asyncio.Event()
        self._synced = asyncio.Event()
        self._retry_handles: set[asyncio.TimerHandle] = set()

    # ---- queueing (from the watches, the leadership, the clock) -------------------------------
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

    def enqueue_all(self) -> None:
        """Everything: after the first sync, and when this replica starts leading."""
        state = self.runtime.state
        self.enqueue_models({*state.models, *self.observed.invalid_models, *self.observed.model_status})
        self.enqueue_workloads(state.workloads)
        self.enqueue_workloads(k for k, marks in self.observed.marks.items() if marks)

    def synced(self) -> None:
        """The watches have listed everything: start reconciling, everything first."""
        self.enqueue_all()
        self._synced.set()

    def forget_workload(self, key: WorkloadKey) -> None:
        self.desired.marks.pop(key, None)
        self.tallies.compliance.pop(key, None)

    def forget_incident(self, key: ObjectKey) -> None:
        self.desired.incident_status.pop(key, None)

    def leadership_changed(self, leading: bool) -> None:
        if leading:
            self.announced.clear()  # what the previous leader wrote is in the observed status
            if self.runtime.synced:
                self.enqueue_all()

    @property
    def idle(self) -> bool:
        return not (self.pending_models or self.pending_workloads)

    def next_review(self) -> dt.datetime | None:
        return min(self.reviews.values(), default=None)

    # ---- the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        await self._synced.wait()  # a partial state would write partial truths
        try:
            while True:
                await self._wait_for_work()
                await self.reconcile_once()
        finally:
            for handle in self._retry_handles:
                handle.cancel()

    async def _wait_for_work(self) -> None:
        clock = self.runtime.clock
        while True:
            self._enqueue_due(clock.now())
            if not self.idle:
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
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    def _enqueue_due(self, now: dt.datetime) -> None:
        due = [key for key, when in self.reviews.items() if when <= now]
        for key in due:
            del self.reviews[key]
        if due:
            audit(logger, "next review reached", models=len(due), now=now.isoformat())
            self.enqueue_models(due)

    async def reconcile_once(self) -> None:
        """One pass over everything queued: evaluate, then write the differences (when leading)."""
        if not self.runtime.synced:
            return
        now = self.runtime.clock.now()
        writing = self.leading() and self.writer is not None
        models, self.pending_models = sorted(self.pending_models), set()
        workloads, self.pending_workloads = self.pending_workloads, set()
        work = _Pass()
        for index, key in enumerate(models):
            try:
                workloads.update(self._plan_model(key, now, writing, work))
            except Exception:  # an engine bug must not stop every other model's reconciliation
                audit_exception(logger, "evaluation failed", namespace=key[0], model=key[1])
                work.results[("GPAIModel", *key)] = "error"
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        for index, wkey in enumerate(sorted(workloads)):
            try:
                self._plan_workload(wkey, now, writing, work)
            except Exception:
                kind, namespace, name = wkey
                audit_exception(logger, "workload decision failed", kind=kind, namespace=namespace, name=name)
                work.results[("workload", *wkey)] = "error"
            if index % (YIELD_EVERY * 4) == YIELD_EVERY * 4 - 1:
                await asyncio.sleep(0)
        await self._run_writes(work.writes)
        for result in work.results.values():
            RECONCILES.labels(result).inc()
        self.passes += 1

    async def _run_writes(self, writes: list[Callable[[], Awaitable[None]]]) -> None:
        if not writes:
            return
        limit = asyncio.Semaphore(self.concurrency)

        async def bounded(write: Callable[[], Awaitable[None]]) -> None:
            async with limit:
                # Leadership can lapse during a long pass: a replica that may no longer write stops
                # at once (the new leader re-reconciles everything).
                if self.leading():
                    await write()

        await asyncio.gather(*(bounded(w) for w in writes))

    # ---- models -------------------------------------------------------------------------------
    def _plan_model(self, key: ModelKey, now: dt.datetime, writing: bool, work: _Pass) -> set[WorkloadKey]:
        """Evaluate one model; plan its status patch and Event. Returns the workloads naming it."""
        state = self.runtime.state
        namespace, name = key
        named = {w.key for w in state.workloads_for(key) if not state.gated_through_controller(w)}
        resource = state.models.get(key)
        observed = self.observed.model_status.get(key)
        if resource is None:
            self.runtime.verdicts.pop(key, None)
            self.reviews.pop(key, None)
            self.tallies.model_workloads.pop(key, None)
            invalid = self.observed.invalid_models.get(key)
            if invalid is None:
                self.desired.model_status.pop(key, None)
                self.announced.pop(key, None)
                return named
            desired = invalid_status(
                invalid.message, generation=invalid.generation, observed=observed, now=now
            )
            self.desired.model_status[key] = desired
            self._plan_status(plan_model_status(key, desired, observed, None), writing, work)
            return named

        verdict = evaluate_model(state, key, now)
        self.runtime.verdicts[key] = verdict
        if verdict.next_review is not None and verdict.next_review > now:
            self.reviews[key] = verdict.next_review
        else:
            self.reviews.pop(key, None)
        self.tallies.model_workloads[key] = len(named)
        desired = model_status(verdict, workloads=len(named), observed=observed, now=now)
        self.desired.model_status[key] = desired
        previous = self.announced.get(key, compliant_status(observed))
        change = events.transition(namespace, name, resource.uid, previous, verdict.compliant, verdict.unmet)
        self._plan_status(plan_model_status(key, desired, observed, change), writing, work)
        for plan in plan_incident_statuses(verdict, state, self.observed.incident_status, now):
            self._plan_incident_status(plan, writing, work)
        return named

    def _plan_incident_status(self, plan: IncidentStatusPlan, writing: bool, work: _Pass) -> None:
        self.desired.incident_status[plan.key] = plan.desired
        work.plan(
            plan.result_key, plan.patch is not None, writing, lambda: self._write_incident_status(plan, work)
        )

    async def _write_incident_status(self, plan: IncidentStatusPlan, work: _Pass) -> None:
        assert self.writer is not None
        assert plan.patch is not None
        namespace, name = plan.key
        try:
            answer = await self.writer.patch_incident_status(namespace, name, plan.patch)
        except ApiError as error:
            model = self._model_of_incident(plan.key)
            self._failed(
                work, plan.result_key, error, lambda: self.enqueue_models({model} if model else set())
            )
            return
        if answer is not None and isinstance(answer.get("status"), Mapping):
            self.observed.incident_status[plan.key] = dict(answer["status"])
        timely: Mapping[str, Any] = next(
            (c for c in plan.desired.get("conditions", ()) if c.get("type") == "Timely"), {}
        )
        audit(
            logger,
            "incident status updated",
            namespace=namespace,
            incident=name,
            next_report=plan.desired.get("nextReport"),
            next_deadline=plan.desired.get("nextDeadline"),
            timely=timely.get("status"),
        )

    def _model_of_incident(self, key: ObjectKey) -> ModelKey | None:
        incident = self.runtime.state.incidents.get(key)
        return (key[0], incident.spec.model_ref.name) if incident is not None else None

    def _plan_status(self, plan: ModelStatusPlan, writing: bool, work: _Pass) -> None:
        work.plan(plan.result_key, not plan.nothing_to_write, writing, lambda: self._write_status(plan, work))

    async def _write_status(self, plan: ModelStatusPlan, work: _Pass) -> None:
        assert self.writer is not None
        key, desired, change = plan.key, plan.desired, plan.change
        namespace, name = key
        if plan.patch is not None:
            try:
                answer = await self.writer.patch_status(namespace, name, plan.patch)
            except ApiError as error:
                self._failed(work, plan.result_key, error, lambda: self.enqueue_models({key}))
                return
            if answer is not None and isinstance(answer.get("status"), Mapping):
                self.observed.model_status[key] = dict(answer["status"])
            compliant = next((c for c in desired.get("conditions", ()) if c.get("type") == COMPLIANT), None)
            audit(
                logger,
                "model status updated",
                namespace=namespace,
                model=name,
                compliant=compliant.get("status") if compliant else None,
                reason=compliant.get("reason") if compliant else None,
                generation=desired.get("observedGeneration"),
                next_review=desired.get("nextReview"),
                workloads=desired.get("workloads"),
            )
        if change is not None:
            body = events.event_body(change, self.runtime.clock.now(), self.instance)
            try:
                await self.writer.post_event(namespace, body)
            except ApiError as error:
                audit(
                    logger,
                    "event not posted",
                    logging.WARNING,
                    namespace=namespace,
                    model=name,
                    error=str(error),
                )
            self.announced[key] = "True" if change.compliant else "False"
            audit(
                logger,
                "model became compliant" if change.compliant else "model became non-compliant",
                namespace=namespace,
                model=name,
                previous=change.previous,
                unmet=change.unmet,
            )

    # ---- workloads ----------------------------------------------------------------------------
    def _plan_workload(self, key: WorkloadKey, now: dt.datetime, writing: bool, work: _Pass) -> None:
        state = self.runtime.state
        workload = state.workloads.get(key)
        if workload is None or state.gated_through_controller(workload):
            # Gone, or made by a workload the gate judged, which carries the verdict: left alone
            # (the Deployment controller copies a Deployment's annotations onto its ReplicaSets;
            # taking them off would only start a tug of war).
            self.forget_workload(key)
            return
        observed = self.observed.marks.get(key, {})
        if workload.model is None:
            desired: Marks = {}
            self.tallies.compliance.pop(key, None)
        else:
            model_key = workload.model_key
            verdict = self.runtime.verdicts.get(model_key) if model_key else None
            decision = decide_workload(state, workload, now, verdict)
            desired = desired_marks(decision.compliance, decision.unmet, observed, now)
            if decision.compliance is not None:
                self.tallies.compliance[key] = (workload.namespace, decision.compliance)
        self.desired.marks[key] = desired
        plan = MarksPlan(workload, desired, marks_patch(desired, observed))
        work.plan(plan.result_key, plan.patch is not None, writing, lambda: self._write_marks(plan, work))

    async def _write_marks(self, plan: MarksPlan, work: _Pass) -> None:
        workload, desired = plan.workload, plan.desired
        assert plan.patch is not None
        assert self.writer is not None
        try:
            answer = await self.writer.patch_workload(workload, plan.patch)
        except ApiError as error:
            self._failed(work, plan.result_key, error, lambda: self.enqueue_workloads({workload.key}))
            return
        if answer is not None:
            metadata = answer.get("metadata") or {}
            self.observed.marks[workload.key] = observed_marks(metadata.get("annotations"))
        if desired:
            audit(
                logger,
                "workload annotated",
                namespace=workload.namespace,
                kind=workload.kind,
                name=workload.name,
                model=workload.model,
                compliance=desired.get("gpai.dev/compliance"),
                unmet=desired.get("gpai.dev/unmet"),
            )
        else:
            audit(
                logger,
                "workload annotations removed",
                namespace=workload.namespace,
                kind=workload.kind,
                name=workload.name,
            )

    def _failed(
        self, work: _Pass, result_key: tuple[str, ...], error: ApiError, requeue: Callable[[], None]
    ) -> None:
        if error.not_found:  # deleted meanwhile: its deletion event cleans up
            work.results[result_key] = "unchanged"
            return
        work.results[result_key] = "error"
        delay = self.retry_delay if error.retryable else self.retry_delay * 6
        audit(
            logger,
            "write failed; retrying",
            logging.WARNING,
            object="/".join(result_key),
            status=error.status,
            error=error.message,
            retry_in=delay,
        )
        handles = self._retry_handles

        def fire() -> None:
            handles.discard(handle)
            requeue()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        handles.add(handle)
