"""Which replica writes: leader election on a `coordination.k8s.io/v1` Lease, as client-go does it.

Every replica watches, evaluates and answers admission reviews; only the leader writes status,
annotations and Events. The Lease (`kubectl get lease -n <namespace>`) names the holder, and the
rules are client-go's `leaderelection` package's:

- every `retry_period` a replica reads the Lease; a holder other than itself blocks it until the
  Lease has gone `lease_duration` without changing, timed from when *this* replica saw it change
  (its own monotonic clock: other replicas' clocks are never compared with ours);
- an expired or empty Lease is taken by an update carrying the resourceVersion read, so of two
  replicas trying at once exactly one succeeds (the other gets a 409 Conflict);
- the holder renews every `retry_period`; a holder that has not renewed for `renew_deadline` (shorter
  than `lease_duration`) stops leading at once, so it has stopped writing before anyone else may
  take the Lease: `leading` is computed from the last successful renewal each time it is read, even
  if the renewing task is starved;
- on shutdown the holder releases the Lease (empty holder, duration 1 s) so the next replica takes
  over within a retry period instead of a lease duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gpai_operator.controller.kube import ApiError, KubeClient
from gpai_operator.runtime import audit

logger = logging.getLogger("gpai_operator.leadership")

LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
JITTER = 0.2  # retry periods are stretched by up to this fraction, as client-go's wait.JitterUntil


def own_identity() -> str:
    """The pod name when the chart sets POD_NAME, else host, process and a random suffix."""
    pod = os.environ.get("POD_NAME") or os.environ.get("POD_ID")
    if pod:
        return pod
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(2)}"


@dataclass(frozen=True)
class LeaseSettings:
    name: str
    namespace: str
    lease_duration: float = 15.0  # seconds a Lease not seen to change stays another's
    renew_deadline: float = 10.0  # seconds the holder keeps leading without a successful renewal
    retry_period: float = 2.0  # seconds between attempts to acquire or renew

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "leader election needs retry period < renew deadline < lease duration, got "
                f"{self.retry_period} < {self.renew_deadline} < {self.lease_duration}"
            )


@dataclass(frozen=True)
class LeaseRecord:
    """What a Lease's spec says, as compared between two reads (client-go's LeaderElectionRecord)."""

    holder: str
    duration: int
    acquire_time: str
    renew_time: str
    transitions: int

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=str(spec.get("acquireTime") or ""),
            renew_time=str(spec.get("renewTime") or ""),
            transitions=int(spec.get("leaseTransitions") or 0),
        )


def _micro_time(when: dt.datetime) -> str:
    """A metav1.MicroTime: RFC 3339 with microseconds, UTC."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Leadership:
    """This replica's view of the election; `leading` is read by the reconciler before each write.

    Without settings (standalone) this replica always leads.
    """

    def __init__(
        self,
        client: KubeClient | None,
        settings: LeaseSettings | None,
        identity: str,
        *,
        on_change: Callable[[bool], None] = lambda _leading: None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client, self.settings, self.identity = client, settings, identity
        self.on_change = on_change
        self._monotonic, self._wall_clock = monotonic, wall_clock
        self._held = settings is None  # we hold the Lease as of our last read or write
        self._renewed_at = -float("inf")  # monotonic time of our last successful acquire or renew
        self._observed: LeaseRecord | None = None
        self._observed_at = -float("inf")  # monotonic time we saw the record change
        self.leader: str | None = identity if settings is None else None
        self._announced = self._held
        self._missing_reported = False

    @property
    def standalone(self) -> bool:
        return self.settings is None

    @property
    def leading(self) -> bool:
        """Holding the Lease and renewed within the renew deadline: safe to write right now."""
        if self.settings is None:
            return True
        return self._held and self._monotonic() - self._renewed_at < self.settings.renew_deadline

    async def run(self) -> None:
        if self.settings is None:
            self.on_change(True)
            return
        try:
            while True:
                await self.attempt()
                await asyncio.sleep(self.settings.retry_period * (1 + random.uniform(0, JITTER)))
        finally:
            self._announce(False)
            if self._held:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release())

    async def attempt(self) -> bool:
        """One round of client-go's tryAcquireOrRenew; True when this replica holds the Lease after it."""
        assert self.client is not None
        assert self.settings is not None
        try:
            held = await self._try_acquire_or_renew()
        except ApiError as error:
            held = False
            if error.status != 409:  # a Conflict is another replica winning the race: not worth a line
                audit(
                    logger,
                    "leader election attempt failed",
                    logging.WARNING,
                    lease=f"{self.settings.namespace}/{self.settings.name}",
                    status=error.status,
                    error=error.message,
                )
        self._held = held
        self._announce(self.leading)
        return held

    async def _try_acquire_or_renew(self) -> bool:
        assert self.client is not None
        assert self.settings is not None
        settings = self.settings
        collection = LEASES_PATH.format(namespace=settings.namespace)
        path = f"{collection}/{settings.name}"
        now = self._wall_clock()
        # The renewal counts from before it was sent, as client-go's renew deadline does: an answer
        # read late (a process paused while it was in flight) must not extend the leadership.
        started = self._monotonic()
        try:
            lease = await self.client.get(path)
        except ApiError as error:
            if not error.not_found:
                raise
            created = await self.client.create(collection, self._lease_body(now, None))
            self._took(created, started)
            return True
        record = LeaseRecord.of(lease or {})
        if record != self._observed:
            self._observed, self._observed_at = record, self._monotonic()
        self.leader = record.holder or None
        mine = record.holder == self.identity
        if record.holder and not mine and self._observed_at + max(record.duration, 1) > self._monotonic():
            return False  # another replica holds it and we have seen it renewed recently
        body = self._lease_body(now, lease)
        replaced = await self.client.replace(path, body)
        self._took(replaced, started)
        return True

    def _lease_body(self, now: dt.datetime, current: Mapping[str, Any] | None) -> dict[str, Any]:
        assert self.settings is not None
        record = LeaseRecord.of(current) if current is not None else None
        renewing = record is not None and record.holder == self.identity
        acquired = record.acquire_time if record is not None and renewing else ""
        transitions = 0 if record is None else record.transitions + (0 if renewing else 1)
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": round(self.settings.lease_duration),
            "acquireTime": acquired or _micro_time(now),
            "renewTime": _micro_time(now),
            "leaseTransitions": transitions,
        }
        metadata: dict[str, Any] = {"name": self.settings.name, "namespace": self.settings.namespace}
        if current is not None:
            metadata["resourceVersion"] = str((current.get("metadata") or {}).get("resourceVersion") or "")
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}

    def _took(self, lease: Mapping[str, Any] | None, started: float) -> None:
        self._renewed_at = started
        self.leader = self.identity
        if lease is not None:
            self._observed, self._observed_at = LeaseRecord.of(lease), self._renewed_at

    async def _release(self) -> None:
        """Hand the Lease back (client-go's ReleaseOnCancel): the next replica need not wait it out."""
        assert self.client is not None
        assert self.settings is not None
        path = LEASES_PATH.format(namespace=self.settings.namespace) + f"/{self.settings.name}"
        lease = await self.client.get(path)
        if LeaseRecord.of(lease or {}).holder != self.identity:
            return
        now = self._wall_clock()
        body = self._lease_body(now, lease)
        body["spec"].update(holderIdentity="", leaseDurationSeconds=1)
        await self.client.replace(path, body)
        self._held = False
        audit(logger, "leader lease released", identity=self.identity, lease=self.settings.name)

    def _announce(self, leading: bool) -> None:
        if leading == self._announced:
            return
        self._announced = leading
        audit(
            logger,
            "leadership changed",
            identity=self.identity,
            leading=leading,
            leader=self.leader,
            lease=f"{self.settings.namespace}/{self.settings.name}" if self.settings else None,
        )
        self.on_change(leading)
