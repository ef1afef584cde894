"""The watches: list in pages, watch from the listing's version, resume from the last version seen,
list again on 410 Gone and forget what that listing no longer mentions (the real API server's side
of all this is in tests/integration/faults/)."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import pytest

from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.listing import list_into
from gpai_operator.controller.resources import WORKLOADS
from gpai_operator.controller.watches import Watches
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b

DEPLOYMENTS = next(w for w in WORKLOADS if w.kind == "Deployment")
PATH = "/apis/apps/v1/deployments"
Obj = dict[str, Any]
Step = Obj | ApiError


class FakeApi:
    """One collection served as the API server would: listings in pages (a `continue` token),
    watches answered by the sessions a test queues (each a list of events or errors; a watch waits
    until the test queues one). It starts with a Deployment of each name given."""

    def __init__(self, *deployments: str) -> None:
        self.items: dict[str, Obj] = {}
        self.version = 100
        self.served = True
        self.listings: list[Mapping[str, str]] = []
        self.watches: list[Mapping[str, str]] = []
        self.sessions: asyncio.Queue[list[Step]] = asyncio.Queue()
        self.failures: dict[str, ApiError] = {}  # continue token -> the answer to it, once
        for name in deployments:
            self.put(deployment(name))

    def put(self, obj: Obj) -> Obj:
        self.version += 1
        obj = copy.deepcopy(obj)
        metadata = obj["metadata"]
        metadata.setdefault("uid", f"uid-{metadata['name']}")
        metadata["resourceVersion"] = str(self.version)
        self.items[metadata["name"]] = obj
        return obj

    def remove(self, name: str) -> Obj:
        self.version += 1
        return self.items.pop(name)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Obj:
        if not self.served:
            raise ApiError("GET", path, 404, "NotFound", "the server could not find the requested resource")
        if path == "/apis/apps":  # discovery of the group
            return {"preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}
        assert path.endswith("/deployments"), path
        assert params is not None
        self.listings.append(dict(params))
        if (failure := self.failures.pop(params.get("continue") or "", None)) is not None:
            raise failure
        names = sorted(self.items)
        start, limit = int(params.get("continue") or 0), int(params["limit"])
        page = names[start : start + limit]
        items = [{k: v for k, v in self.items[n].items() if k not in ("apiVersion", "kind")} for n in page]
        more = start + limit < len(names)
        metadata = {
            "resourceVersion": str(self.version),
            **({"continue": str(start + limit)} if more else {}),
        }
        return {"metadata": metadata, "items": items}

    async def watch(
        self, path: str, params: Mapping[str, str], *, timeout: float
    ) -> AsyncGenerator[Obj, None]:
        self.watches.append(dict(params))
        for step in await self.sessions.get():
            if isinstance(step, ApiError):
                raise step
            yield step


def event(kind: str, obj: Obj) -> Obj:
    return {"type": kind, "object": copy.deepcopy(obj)}


def deployment(name: str) -> Obj:
    return b.workload(name=name)


def workloads(cluster: FakeCluster) -> set[str]:
    return {name for (kind, _, name) in cluster.runtime.state.workloads if kind == "Deployment"}


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def watching(api: FakeApi) -> tuple[FakeCluster, Watches]:
    cluster = FakeCluster(b.NOW)
    watches = Watches(api, cluster.sync, [DEPLOYMENTS], backoff=(0.0, 0.0))  # type: ignore[arg-type]
    return cluster, watches


async def running(api: FakeApi) -> tuple[FakeCluster, asyncio.Task[None], int]:
    """The watches over `api` started as the operator starts them: everything listed, then watched;
    returns once the first watch is open, with how many objects were listed."""
    cluster, watches = watching(api)
    listed = await watches.list_all()
    runner = asyncio.create_task(watches.run())
    await until(lambda: len(api.watches) == 1, "a watch")
    return cluster, runner, listed


def test_a_listing_goes_in_pages_and_forgets_what_it_no_longer_mentions():
    async def scenario() -> None:
        api = FakeApi("a", "b", "c", "d", "e")
        cluster, _ = watching(api)
        first = await list_into(api, cluster.sync, DEPLOYMENTS, None, page=2)  # type: ignore[arg-type]
        assert (first.listed, first.forgotten, first.version) == (5, 0, "105")
        assert [p.get("continue") for p in api.listings] == [None, "2", "4"]
        assert workloads(cluster) == {"a", "b", "c", "d", "e"}

        api.remove("b")
        api.remove("d")
        again = await list_into(api, cluster.sync, DEPLOYMENTS, None, page=2)  # type: ignore[arg-type]
        assert (again.listed, again.forgotten) == (3, 2)
        assert workloads(cluster) == {"a", "c", "e"}

    asyncio.run(scenario())


def test_a_listing_whose_continue_token_expired_starts_over_and_one_that_fails_forgets_nothing():
    async def scenario() -> None:
        api = FakeApi("a", "b", "c", "d", "e")
        cluster, _ = watching(api)
        cluster.create(deployment("deleted-meanwhile"))
        api.failures["2"] = ApiError(
            "GET", PATH, 410, "Expired", "The provided continue parameter is too old"
        )
        listing = await list_into(api, cluster.sync, DEPLOYMENTS, None, page=2)  # type: ignore[arg-type]
        assert [p.get("continue") for p in api.listings] == [None, "2", None, "2", "4"]
        assert (listing.listed, listing.forgotten) == (5, 1)

        cluster.create(deployment("kept-while-failing"))
        api.failures["4"] = ApiError("GET", PATH, 0, "", "ClientOSError: connection reset")
        with pytest.raises(ApiError, match="connection reset"):
            await list_into(api, cluster.sync, DEPLOYMENTS, None, page=2)  # type: ignore[arg-type]
        assert workloads(cluster) == {"a", "b", "c", "d", "e", "kept-while-failing"}

    asyncio.run(scenario())


def test_a_listing_of_one_namespace_forgets_nothing_of_another():
    async def scenario() -> None:
        api = FakeApi()
        api.put(deployment("here"))
        cluster, _ = watching(api)
        cluster.create(b.workload(name="there", namespace="elsewhere"))
        listing = await list_into(api, cluster.sync, DEPLOYMENTS, b.NS)  # type: ignore[arg-type]
        assert listing.forgotten == 0
        assert workloads(cluster) == {"here", "there"}

    asyncio.run(scenario())


def test_the_watch_starts_at_the_listing_and_resumes_from_the_last_version_seen():
    async def scenario() -> None:
        api = FakeApi()
        api.put(deployment("a"))
        cluster, runner, listed = await running(api)
        assert listed == 1
        assert api.watches[0]["resourceVersion"] == "101"
        assert api.watches[0]["allowWatchBookmarks"] == "true"
        assert 300 <= int(api.watches[0]["timeoutSeconds"]) <= 600

        added = api.put(deployment("b"))
        gone = api.remove("a")
        bookmark = {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "150"}}}
        api.sessions.put_nowait([event("ADDED", added), event("DELETED", gone), bookmark])
        await until(lambda: len(api.watches) == 2, "the watch resumed")
        assert workloads(cluster) == {"b"}
        assert api.watches[1]["resourceVersion"] == "150"  # the bookmark's, no listing
        assert len(api.listings) == 1

        api.sessions.put_nowait([ApiError("GET", PATH, 0, "", "ClientOSError: connection reset")])
        await until(lambda: len(api.watches) == 3, "the watch after a dropped connection")
        assert api.watches[2]["resourceVersion"] == "150"
        assert len(api.listings) == 1
        runner.cancel()

    asyncio.run(scenario())


@pytest.mark.parametrize("how", ["error event", "error answer"])
def test_410_gone_lists_again_and_forgets_what_was_deleted_while_unwatched(how: str):
    async def scenario() -> None:
        api = FakeApi("kept", "deleted", "changed")
        cluster, runner, _ = await running(api)

        api.remove("deleted")  # while the watch was away: no event will ever say so
        api.put(b.workload(name="changed", model_name="other"))
        api.put(deployment("new"))
        expired = "too old resource version: 101 (180)"
        gone: Step = (
            {
                "type": "ERROR",
                "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": expired},
            }
            if how == "error event"
            else ApiError("GET", PATH, 410, "Gone", expired)
        )
        api.sessions.put_nowait([gone])
        await until(lambda: len(api.watches) == 2, "the watch after listing again")
        assert len(api.listings) == 2
        assert api.watches[1]["resourceVersion"] == str(api.version)
        assert workloads(cluster) == {"kept", "changed", "new"}
        assert cluster.runtime.state.workloads[("Deployment", b.NS, "changed")].model == "other"
        runner.cancel()

    asyncio.run(scenario())


def test_a_kind_not_served_yet_is_listed_and_watched_once_it_is():
    async def scenario() -> None:
        api = FakeApi()
        api.served = False
        api.put(deployment("early"))
        cluster = FakeCluster(b.NOW)
        # As KServe's kind is known: no version until the cluster serves one.
        awaited = dataclasses.replace(DEPLOYMENTS, version="", optional=True)
        watches = Watches(api, cluster.sync, [], awaited=[awaited], backoff=(0.0, 0.0))  # type: ignore[arg-type]
        assert await watches.list_all() == 0  # nothing served to list at start-up
        runner = asyncio.create_task(watches.run())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not api.watches
        assert not workloads(cluster)

        api.served = True  # its CRD installed
        await until(lambda: len(api.watches) == 1, "a watch once served")
        assert workloads(cluster) == {"early"}
        assert watches.streams[0].path == PATH  # at the version served
        runner.cancel()

    asyncio.run(scenario())


def test_an_event_the_state_cannot_take_is_logged_and_the_watch_goes_on(caplog: pytest.LogCaptureFixture):
    async def scenario() -> None:
        api = FakeApi()
        cluster, runner, _ = await running(api)
        broken = {"type": "ADDED", "object": {"metadata": "not an object"}}
        api.sessions.put_nowait([broken, event("ADDED", api.put(deployment("fine")))])
        await until(lambda: len(api.watches) == 2, "the watch resumed")
        assert workloads(cluster) == {"fine"}
        runner.cancel()

    asyncio.run(scenario())
    assert "object not applied to the state" in caplog.text
