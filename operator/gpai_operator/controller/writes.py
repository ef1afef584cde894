"""The write side of a reconcile pass: each plan sent through the `Writer`, its answer recorded.

What the API server answers becomes what was observed (so the write's own watch event queues
nothing), each write is one audit line, and a failed write queues its object again: after
`retry_delay` when the error is retryable, six times that when it is not (a person must act). A 404
means the object is being deleted; its deletion event cleans up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from gpai_operator.controller import events
from gpai_operator.controller.annotations import observed_marks
from gpai_operator.controller.bookkeeping import Observed, Packed, WorkQueue, one_copy
from gpai_operator.controller.derived import DerivedPlan, observed_form
from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.plans import IncidentStatusPlan, MarksPlan, ModelStatusPlan
from gpai_operator.controller.status import COMPLIANT
from gpai_operator.controller.writer import Writer
from gpai_operator.engine import ModelKey, ObjectKey
from gpai_operator.runtime import Runtime, audit

logger = logging.getLogger("gpai_operator.reconciler")

Result = Literal["changed", "unchanged", "error"]
MAX_RETRY_DELAY = 300.0  # seconds: the longest wait between two attempts at one object
# How the API server refuses new objects in a namespace being deleted (NamespaceLifecycle).
TERMINATING = "because it is being terminated"


class Writes:
    def __init__(
        self,
        runtime: Runtime,
        observed: Observed,
        writer: Writer,
        queue: WorkQueue,
        *,
        instance: str = "gpai-operator",
        retry_delay: float = 5.0,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.runtime = runtime
        self.observed = observed
        self.writer = writer
        self.queue = queue
        self.instance = instance
        self.retry_delay = retry_delay
        # Asked again before each request after the first of a write: a replica paused while its
        # status patch was in flight must not post the Event once another replica leads.
        self.leading = leading
        self._retry_handles: set[asyncio.TimerHandle] = set()
        self._failures: dict[tuple[str, ...], int] = {}  # failures in a row, per object

    async def model_status(self, plan: ModelStatusPlan) -> Result:
        """The status patch, then the Event of the change, if any ("changed": the Event is out or was
        tried, and is not to be posted again)."""
        key, desired, change = plan.key, plan.desired, plan.change
        namespace, name = key
        if plan.patch is not None:
            try:
                answer = await self.writer.patch_status(namespace, name, plan.patch)
            except ApiError as error:
                return self._failed(plan.result_key, error, lambda: self.queue.enqueue_models({key}))
            if answer is not None and isinstance(answer.get("status"), Mapping):
                self.observed.model_status[key] = one_copy(Packed(answer["status"]), plan.held)
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
        if change is not None and not self.leading():
            audit(logger, "event not posted: no longer leading", namespace=namespace, model=name)
        elif change is not None:
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
            audit(
                logger,
                "model became compliant" if change.compliant else "model became non-compliant",
                namespace=namespace,
                model=name,
                previous=change.previous,
                unmet=change.unmet,
            )
        return "changed"

    async def incident_status(self, plan: IncidentStatusPlan) -> Result:
        assert plan.patch is not None
        namespace, name = plan.key
        try:
            answer = await self.writer.patch_incident_status(namespace, name, plan.patch)
        except ApiError as error:
            model = self._model_of_incident(plan.key)
            return self._failed(
                plan.result_key, error, lambda: self.queue.enqueue_models({model} if model else set())
            )
        if answer is not None and isinstance(answer.get("status"), Mapping):
            self.observed.incident_status[plan.key] = one_copy(dict(answer["status"]), plan.desired)
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
        return "changed"

    async def marks(self, plan: MarksPlan) -> Result:
        workload, desired = plan.workload, plan.desired
        assert plan.patch is not None
        try:
            answer = await self.writer.patch_workload(workload, plan.patch)
        except ApiError as error:
            return self._failed(plan.result_key, error, lambda: self.queue.enqueue_workloads({workload.key}))
        if answer is not None:
            metadata = answer.get("metadata") or {}
            self.observed.marks[workload.key] = one_copy(observed_marks(metadata.get("annotations")), desired)
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
        return "changed"

    async def derived(self, plan: DerivedPlan) -> Result:
        """A derived object applied whole and then its status, or deleted; leadership asked again
        before the second request."""
        kind, (namespace, name) = plan.kind, plan.key
        try:
            if plan.action == "delete":
                await self.writer.delete_derived(kind, namespace, name, plan.uid)
                self.observed.derived.get(kind.key, {}).pop(plan.key, None)
            else:
                if plan.manifest is not None:
                    self._derived_seen(plan, await self.writer.apply_derived(kind, plan.manifest))
                if plan.status is not None and (plan.manifest is None or self.leading()):
                    self._derived_seen(plan, await self.writer.apply_derived_status(kind, plan.status))
        except ApiError as error:
            if error.status == 403 and TERMINATING in error.message:
                return "unchanged"  # its namespace is going away, and the object with it
            return self._failed(plan.result_key, error, lambda: self.queue.enqueue_derived())
        status = (plan.status or {}).get("status") or {}
        audit(
            logger,
            "derived object deleted" if plan.action == "delete" else "derived object written",
            kind=kind.kind,
            namespace=namespace or None,
            name=name,
            action=plan.action,
            **{key: value for key, value in status.items() if isinstance(value, (int, str))},
        )
        return "changed"

    def _derived_seen(self, plan: DerivedPlan, answer: Mapping[str, Any] | None) -> None:
        """The object as a write left it is what is observed; the watch event of the write is then no
        news, and neither, when it arrives late, is that of an earlier write."""
        if answer is None:
            return
        form = observed_form(answer)
        self.observed.derived.setdefault(plan.kind.key, {})[plan.key] = form
        written = (plan.kind.key, plan.key)
        version = str(form["metadata"].get("resourceVersion") or "")
        self.observed.derived_written[written] = (
            *self.observed.derived_written.get(written, ())[-3:],
            version,
        )

    def succeeded(self, result_key: tuple[str, ...]) -> None:
        self._failures.pop(result_key, None)

    def cancel_retries(self) -> None:
        for handle in self._retry_handles:
            handle.cancel()

    def _model_of_incident(self, key: ObjectKey) -> ModelKey | None:
        incident = self.runtime.state.incidents.get(key)
        return (key[0], incident.spec.model_ref.name) if incident is not None else None

    def _failed(self, result_key: tuple[str, ...], error: ApiError, requeue: Callable[[], None]) -> Result:
        if error.not_found:  # deleted meanwhile: its deletion event cleans up
            return "unchanged"
        # Per object, the delay doubles with each failure in a row (as client-go's rate-limited work
        # queue does), so a throttling (429) or struggling API server is not hammered; a success
        # starts it over (`succeeded`).
        failures = self._failures[result_key] = self._failures.get(result_key, 0) + 1
        base = self.retry_delay if error.retryable else self.retry_delay * 6
        delay = min(base * 2 ** (failures - 1), MAX_RETRY_DELAY)
        audit(
            logger,
            "write failed; retrying",
            logging.WARNING,
            object="/".join(result_key),
            status=error.status,
            error=error.message,
            retry_in=delay,
            failures=failures,
        )
        handles = self._retry_handles

        def fire() -> None:
            handles.discard(handle)
            requeue()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        handles.add(handle)
        return "error"
