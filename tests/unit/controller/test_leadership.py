"""Leader election on a Lease, with client-go's rules, against an in-memory API that checks
resourceVersions the way the API server does (a stale update gets 409 Conflict)."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from typing import Any

import pytest

from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.leadership import LEASES_PATH, Leadership, LeaseSettings

SETTINGS = LeaseSettings("gpai-operator", "gpai-system", lease_duration=15, renew_deadline=10, retry_period=2)
PATH = LEASES_PATH.format(namespace="gpai-system") + "/gpai-operator"
WALL = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


class LeaseApi:
    """GET, POST and PUT of Leases, one object per path, resourceVersion checked on PUT."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.race: Any = None  # called before a PUT is applied: another writer getting there first

    async def get(self, path: str) -> dict[str, Any]:
        if path not in self.objects:
            raise ApiError("GET", path, 404, "NotFound", "not found")
        return copy.deepcopy(self.objects[path])

    async def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"{collection}/{body['metadata']['name']}"
        if path in self.objects:
            raise ApiError("POST", path, 409, "AlreadyExists", "exists")
        return self._store(path, body)

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.race is not None:
            race, self.race = self.race, None
            await race()
        if body["metadata"].get("resourceVersion") != self.objects[path]["metadata"]["resourceVersion"]:
            raise ApiError("PUT", path, 409, "Conflict", "the object has been modified")
        return self._store(path, body)

    def _store(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[path] = stored
        return copy.deepcopy(stored)

    @property
    def spec(self) -> dict[str, Any]:
        return self.objects[PATH]["spec"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def replica(api: LeaseApi, identity: str, clock: Clock, wall: dt.datetime = WALL) -> Leadership:
    changes: list[bool] = []
    leadership = Leadership(
        api,  # type: ignore[arg-type]
        SETTINGS,
        identity,
        on_change=changes.append,
        monotonic=clock,
        wall_clock=lambda: wall + dt.timedelta(seconds=clock.now - 1000.0),
    )
    leadership.changes = changes  # type: ignore[attr-defined]
    return leadership


def attempt(leadership: Leadership) -> bool:
    return asyncio.run(leadership.attempt())


def test_the_first_replica_creates_the_lease_and_leads() -> None:
    api, clock = LeaseApi(), Clock()
    a = replica(api, "a", clock)

    assert attempt(a) is True
    assert a.leading
    assert a.changes == [True]  # type: ignore[attr-defined]
    assert api.spec["holderIdentity"] == "a"
    assert api.spec["leaseDurationSeconds"] == 15
    assert api.spec["leaseTransitions"] == 0
    assert api.spec["renewTime"] == "2026-12-07T09:00:00.000000Z"


def test_a_standby_takes_over_only_after_the_lease_went_unrenewed_for_its_duration() -> None:
    api, clock = LeaseApi(), Clock()
    a, b = replica(api, "a", clock), replica(api, "b", clock)
    attempt(a)

    assert attempt(b) is False
    assert b.leader == "a"
    clock.now += 14.9  # a stopped renewing; b has seen no change for just under the duration
    assert attempt(b) is False
    clock.now += 0.2
    assert attempt(b) is True
    assert api.spec["holderIdentity"] == "b"
    assert api.spec["leaseTransitions"] == 1
    assert not a.leading  # a's last renewal is 15.1 s old: past its 10 s deadline


def test_renewals_keep_the_standby_waiting_and_keep_the_acquire_time() -> None:
    api, clock = LeaseApi(), Clock()
    a, b = replica(api, "a", clock), replica(api, "b", clock)
    attempt(a)
    acquired = api.spec["acquireTime"]
    attempt(b)
    for _ in range(20):  # 40 s of renewals every 2 s
        clock.now += 2
        assert attempt(a) is True
        assert attempt(b) is False
    assert api.spec["acquireTime"] == acquired
    assert api.spec["leaseTransitions"] == 0


def test_expiry_is_timed_by_the_standbys_own_clock_not_the_leases_renew_time() -> None:
    """A leader whose wall clock is an hour behind must not look expired to the others."""
    api, clock = LeaseApi(), Clock()
    a = replica(api, "a", clock, wall=WALL - dt.timedelta(hours=1))
    b = replica(api, "b", clock, wall=WALL)
    attempt(a)

    assert attempt(b) is False
    clock.now += 5
    assert attempt(b) is False


def test_a_leader_that_cannot_renew_stops_leading_before_anyone_may_take_over() -> None:
    api, clock = LeaseApi(), Clock()
    a = replica(api, "a", clock)
    attempt(a)
    clock.now += SETTINGS.renew_deadline - 0.01
    assert a.leading
    clock.now += 0.02
    assert not a.leading  # without any attempt: the reconciler reads this before each write
    assert SETTINGS.renew_deadline < SETTINGS.lease_duration


def test_a_renewal_whose_answer_is_read_after_a_pause_does_not_extend_the_leadership() -> None:
    api, clock = LeaseApi(), Clock()
    a = replica(api, "a", clock)
    attempt(a)
    clock.now += SETTINGS.retry_period

    async def paused_while_in_flight() -> None:  # the server applied it; the answer is read much later
        clock.now += SETTINGS.renew_deadline

    api.race = paused_while_in_flight
    assert attempt(a) is True  # the renewal went through...
    assert not a.leading  # ...but it was sent a renew deadline ago: writing now is not safe


def test_of_two_replicas_taking_an_expired_lease_at_once_one_wins() -> None:
    api, clock = LeaseApi(), Clock()
    a, b, c = replica(api, "a", clock), replica(api, "b", clock), replica(api, "c", clock)
    attempt(a)
    attempt(b)
    attempt(c)
    clock.now += 16

    async def c_first() -> None:  # c's update lands between b's read and b's update
        assert await c.attempt() is True

    api.race = c_first
    assert attempt(b) is False  # 409: b read a resourceVersion that c's update made stale
    assert api.spec["holderIdentity"] == "c"
    assert not b.leading


def test_a_leader_that_stops_releases_the_lease_and_the_next_takes_it_at_once() -> None:
    api, clock = LeaseApi(), Clock()
    a, b = replica(api, "a", clock), replica(api, "b", clock)
    attempt(a)
    attempt(b)

    async def stop_a() -> None:
        task = asyncio.create_task(a.run())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(stop_a())

    assert api.spec["holderIdentity"] == ""
    assert a.changes[-1] is False  # type: ignore[attr-defined]
    assert attempt(b) is True  # no need to wait out the lease duration
    assert api.spec["holderIdentity"] == "b"


def test_a_restarted_replica_with_the_same_identity_renews_its_own_lease() -> None:
    api, clock = LeaseApi(), Clock()
    attempt(replica(api, "pod-0", clock))
    again = replica(api, "pod-0", clock)

    assert attempt(again) is True
    assert api.spec["leaseTransitions"] == 0


def test_timing_must_leave_the_renew_deadline_inside_the_lease_duration() -> None:
    with pytest.raises(ValueError, match="retry period < renew deadline < lease duration"):
        LeaseSettings("x", "y", lease_duration=10, renew_deadline=10, retry_period=2)


def test_standalone_always_leads() -> None:
    alone = Leadership(None, None, "solo")
    assert alone.leading
    assert alone.standalone
