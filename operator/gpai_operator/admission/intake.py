"""What the webhook takes in, and how much at once: the limits that keep it from being a soft target.

    intake = Intake(Limits())
    async with intake.admit(large=True):   # raises Busy when the bounds are reached
        ... read the body, judge it ...

Two lanes (docs/admission.md, "Limits"):

- small bodies (declared at most `inline_body` bytes) are read and judged on the event loop, as
  fast as a review can be; up to `max_in_flight` requests may be in progress at once;
- large bodies (declared larger, or sent without a Content-Length) go through `large_slots` slots:
  a slot covers reading the body, parsing it in the parser process and judging it (large.py). A
  request that finds every slot taken waits for one, at most `queue_wait` seconds and behind at most
  `large_queue` others; beyond that it is refused with 429 and `Retry-After`, which kube-apiserver's
  client honours by retrying within the webhook's timeout.

So memory is bounded (`large_slots` bodies of at most `max_body` bytes, parsed one at a time), and a
flood of large bodies can delay only other large bodies, never the small ones every ordinary
workload produces, nor the health probes and watches on the same event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

MiB = 1024 * 1024

# kube-apiserver reads at most 3 MiB of a request body (genericapiserver's MaxRequestBodyBytes). An
# AdmissionReview carries at most two objects (UPDATE: `object` and `oldObject`), each JSON that was
# at most that size, and nothing base64-encoded; the rest (uid, kinds, resource, userInfo with its
# groups and extra, options) stays well under 1 MiB. controller-runtime's webhooks use the same
# bound. docs/admission.md ("Limits") has the arithmetic and its one caveat.
MAX_BODY = 7 * MiB


@dataclass(frozen=True)
class Limits:
    max_body: int = MAX_BODY  # larger bodies get 413 before a byte of them is read
    # Bodies up to this size are parsed on the event loop: json.loads of 64 KiB takes at most about
    # a millisecond even for the slowest JSON to parse (bench/admission_flood.py measures it); an
    # AdmissionReview of an ordinary workload is 2 to 20 KiB.
    inline_body: int = 64 * 1024
    max_in_flight: int = 256  # requests being read or judged at once; more get 429
    large_slots: int = 2  # large bodies being read or judged at once (parsed one at a time)
    large_queue: int = 8  # large bodies waiting for a slot; more get 429
    queue_wait: float = 2.0  # seconds a large body may wait for a slot; then 429
    read_timeout: float = 10.0  # seconds for a body to arrive once its turn has come; then 408
    retry_after: int = 1  # seconds, in the Retry-After header of a 429


class Busy(Exception):
    """The webhook is at one of its bounds; the message says which (answered 429)."""


class Intake:
    """Counts requests in progress and hands out the large-body slots."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.in_flight = 0
        self.waiting = 0
        self._slots = asyncio.Semaphore(limits.large_slots)

    @contextlib.asynccontextmanager
    async def admit(self, *, large: bool) -> AsyncIterator[None]:
        """Holds a place (and, for a large body, a slot) for the block; raises Busy if none is free."""
        limits = self.limits
        if self.in_flight >= limits.max_in_flight:
            raise Busy(
                f"{self.in_flight} admission requests are in progress (at most {limits.max_in_flight})"
            )
        self.in_flight += 1
        try:
            if not large:
                yield
                return
            await self._take_slot()
            try:
                yield
            finally:
                self._slots.release()
        finally:
            self.in_flight -= 1

    async def _take_slot(self) -> None:
        limits = self.limits
        if self._slots.locked() and self.waiting >= limits.large_queue:
            raise Busy(
                f"{limits.large_slots} large AdmissionReviews are being judged and {self.waiting} "
                "wait for their turn"
            )
        self.waiting += 1
        try:
            async with asyncio.timeout(limits.queue_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise Busy(
                f"no turn for a large AdmissionReview within {limits.queue_wait:g} s "
                f"({limits.large_slots} are being judged)"
            ) from None
        finally:
            self.waiting -= 1
