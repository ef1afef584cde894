"""What a listing no longer mentions leaves the state: objects deleted while no watch was running
(between the start-up listing and kopf's, or during a watch's 410 Gone and kopf's new listing)."""

from __future__ import annotations

import asyncio
from typing import Any

from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.relists import Relists
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b

DEPLOYMENTS = "/apis/apps/v1/namespaces/ml/deployments"


class Lookups:
    """Answers GETs: 404 for the paths in `gone`; records every lookup."""

    def __init__(self, gone: set[str]) -> None:
        self.gone, self.asked = gone, list[str]()

    async def get(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        if path in self.gone:
            raise ApiError("GET", path, 404, "NotFound", "not found")
        return {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def started(*names: str) -> tuple[FakeCluster, dict[str, dict[str, Any]]]:
    cluster = FakeCluster(b.NOW)
    made = {name: cluster.create(b.workload(name=name)) for name in names}
    for obj in b.frontier():
        cluster.create(obj)
    cluster.start()
    return cluster, made


async def close_rounds(relists: Relists, clock: Clock) -> None:
    runner = asyncio.create_task(relists.run())
    clock.now += relists.quiet
    for _ in range(20):
        await asyncio.sleep(0)
    runner.cancel()


def test_what_a_listing_does_not_mention_and_is_gone_leaves_the_state():
    cluster, made = started("kept", "deleted", "recreated")
    lookups, clock = Lookups({f"{DEPLOYMENTS}/deleted"}), Clock()
    relists = Relists(lookups, cluster.sync, clock=clock)  # type: ignore[arg-type]

    async def scenario() -> None:
        relists.seen(None, made["kept"])  # the listing reports what still exists
        relists.seen("MODIFIED", made["recreated"])  # and an event since then counts as a mention
        await close_rounds(relists, clock)

    asyncio.run(scenario())
    assert lookups.asked == [f"{DEPLOYMENTS}/deleted"]
    workloads = cluster.runtime.state.workloads
    assert ("Deployment", "ml", "deleted") not in workloads
    assert ("Deployment", "ml", "kept") in workloads
    assert ("Deployment", "ml", "recreated") in workloads
    assert not relists.rounds


def test_a_known_object_that_still_exists_is_kept_whatever_the_listing_said():
    cluster, made = started("slow", "listed")
    lookups, clock = Lookups(set()), Clock()
    relists = Relists(lookups, cluster.sync, clock=clock)  # type: ignore[arg-type]

    async def scenario() -> None:
        relists.seen(None, made["listed"])
        await close_rounds(relists, clock)

    asyncio.run(scenario())
    assert f"{DEPLOYMENTS}/slow" in lookups.asked
    assert ("Deployment", "ml", "slow") in cluster.runtime.state.workloads


def test_a_round_stays_open_while_objects_keep_being_listed():
    cluster, made = started("a", "b", "gone")
    lookups = Lookups({f"{DEPLOYMENTS}/gone"})
    relists = Relists(lookups, cluster.sync, quiet=0.2)  # type: ignore[arg-type]

    async def scenario() -> None:
        runner = asyncio.create_task(relists.run())
        relists.seen(None, made["a"])
        await asyncio.sleep(0.15)
        relists.seen(None, made["b"])  # a later page of the same listing
        await asyncio.sleep(0.15)
        assert lookups.asked == []  # not quiet for long enough yet
        await asyncio.sleep(0.2)
        runner.cancel()

    asyncio.run(scenario())
    assert lookups.asked == [f"{DEPLOYMENTS}/gone"]
    assert ("Deployment", "ml", "gone") not in cluster.runtime.state.workloads


def test_a_deletion_confirmed_after_the_name_got_a_new_object_is_ignored():
    cluster, _ = started("reused")
    lookups, clock = Lookups({f"{DEPLOYMENTS}/reused"}), Clock()
    relists = Relists(lookups, cluster.sync, clock=clock)  # type: ignore[arg-type]
    original_get = lookups.get

    async def recreated_meanwhile(path: str) -> dict[str, Any]:
        try:
            return await original_get(path)
        finally:  # the name gets a new object (a new uid) while the lookup is on its way
            fresh = b.workload(name="reused")
            fresh["metadata"]["uid"] = "new-uid"
            cluster.sync.upsert(fresh)

    lookups.get = recreated_meanwhile  # type: ignore[method-assign]

    async def scenario() -> None:
        relists.seen(None, b.workload(name="other"))
        await close_rounds(relists, clock)

    asyncio.run(scenario())
    assert ("Deployment", "ml", "reused") in cluster.runtime.state.workloads


def test_a_second_listing_soon_after_the_first_does_not_count_the_firsts_mentions():
    """kopf listed at start-up, the watch expired at once and it listed again: what the first listing
    mentioned and the second does not was deleted in between."""
    cluster, made = started("kept", "deleted-in-between")
    lookups, clock = Lookups({f"{DEPLOYMENTS}/deleted-in-between"}), Clock()
    relists = Relists(lookups, cluster.sync, clock=clock)  # type: ignore[arg-type]

    async def scenario() -> None:
        relists.seen(None, made["kept"])  # the first listing
        relists.seen(None, made["deleted-in-between"])
        clock.now += relists.quiet / 2
        relists.seen(None, made["kept"])  # the second, within the quiet period
        await close_rounds(relists, clock)

    asyncio.run(scenario())
    assert lookups.asked == [f"{DEPLOYMENTS}/deleted-in-between"]
    assert ("Deployment", "ml", "deleted-in-between") not in cluster.runtime.state.workloads
    assert ("Deployment", "ml", "kept") in cluster.runtime.state.workloads
