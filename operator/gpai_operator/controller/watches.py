"""The operator's watches: each resource listed once, then watched from the listing's version.

This is client-go's reflector, for every resource the state is made of (per namespace when the
operator is limited to some):

    list (in pages, listing.py) -> watch from its resourceVersion -> the stream ends (the server's
    timeout, a dropped connection) -> watch again from the last version seen -> ... ; 410 Gone (the
    version is older than the API server or etcd keeps) -> list again, replacing the state's objects
    of that resource

Bookmarks keep the version current on quiet resources, so a resumed watch rarely has to list again.
Every event goes to `StateSync` as it arrives; nothing else is kept per object, and a listing holds
one page at a time: the memory of the watches does not grow with the cluster.

Why not kopf's watches (used until 2026-12): kopf keeps a record per object (about 0.75 KiB), and
on every listing queues an event per object with no back-pressure, so a restart at 100,000 objects
held them all at once (1.2 GiB); it also re-lists at start-up after our own listing, and reports no
deletions across a relist (which took a heuristic of its own here). Measured in docs/operator.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gpai_operator.controller.kube import ApiError, JsonObject, KubeClient
from gpai_operator.controller.listing import api_version_of, apply_guarded, collection_path, list_into
from gpai_operator.controller.preflight import served_version
from gpai_operator.controller.resources import Watched
from gpai_operator.controller.sync import StateSync
from gpai_operator.runtime import audit

logger = logging.getLogger("gpai_operator.watches")

# The API server ends a watch after `timeoutSeconds`; a random one in [5, 10) minutes, as client-go
# picks, so the watches of many resources do not all reconnect at once.
WATCH_SECONDS = (300, 600)
# After a failure, wait this long before trying again, doubling up to the cap (client-go: 0.8 -> 30 s).
BACKOFF_FIRST, BACKOFF_CAP = 0.8, 30.0
HEALTHY = 60.0  # seconds a watch ran before failing after which its back-off starts over


class NotServed(Exception):
    """An optional kind's CRD is not installed (yet)."""


@dataclass
class Stream:
    """One watched resource in one namespace (None: all of them) and the last version seen of it
    ("" until listed, and again once a watch said it is too old)."""

    resource: Watched
    namespace: str | None
    version: str = ""
    served: bool = True  # False for an optional kind (KServe) whose CRD is not installed yet

    @property
    def path(self) -> str:
        return collection_path(self.resource, self.namespace)


class Watches:
    """`list_all` fills the state (start-up); `run` keeps it current until cancelled."""

    def __init__(
        self,
        client: KubeClient,
        sync: StateSync,
        resources: Iterable[Watched],
        namespaces: Sequence[str] = (),
        *,
        awaited: Iterable[Watched] = (),
        watch_seconds: tuple[int, int] = WATCH_SECONDS,
        backoff: tuple[float, float] = (BACKOFF_FIRST, BACKOFF_CAP),
    ) -> None:
        self.client, self.sync = client, sync
        self.streams = [
            Stream(resource, namespace, served=served)
            for resources_, served in ((resources, True), (awaited, False))
            for resource in resources_
            for namespace in (namespaces if resource.namespaced and namespaces else [None])
        ]
        self.watch_seconds, self.backoff = watch_seconds, backoff

    async def list_all(self) -> int:
        """Lists every served resource into the state, one after the other (the memory peak is one
        page); returns how many objects were listed. Raises ApiError when a listing fails."""
        listed = 0
        for stream in self.streams:
            if stream.served:
                listed += await self._list(stream)
        return listed

    async def run(self) -> None:
        """Watches every resource, each in a task of its own; returns only if one of them fails
        (a defect: failures of the API server are waited out)."""
        async with asyncio.TaskGroup() as group:
            for stream in self.streams:
                group.create_task(self._follow(stream), name=f"watch {stream.path}")

    async def _list(self, stream: Stream) -> int:
        if not stream.served:
            resource = stream.resource
            version = await served_version(self.client, resource.group, resource.version, resource.plural)
            if not version:
                raise NotServed(f"{resource.plural}.{resource.group} is not served")
            stream.resource = dataclasses.replace(resource, version=version)
        listing = await list_into(self.client, self.sync, stream.resource, stream.namespace)
        if not stream.served:
            audit(logger, "now served: watching it", path=stream.path, objects=listing.listed)
            stream.served = True
        stream.version = listing.version
        return listing.listed

    async def _follow(self, stream: Stream) -> None:
        loop = asyncio.get_running_loop()
        delay = self.backoff[0]
        while True:
            started, listed = loop.time(), not stream.version
            again = False  # whether to go on at once, without the back-off
            try:
                if listed:
                    await self._list(stream)
                    audit(logger, "listed", path=stream.path, version=stream.version)
                await self._watch(stream)
                again = loop.time() - started >= 1.0  # the server's timeout ended it: go on
            except NotServed:
                pass  # its CRD is not installed yet: ask again after the back-off (at most 30 s)
            except ApiError as error:
                if error.status == 410:
                    audit(logger, "watch expired, listing again", path=stream.path, reason=error.message)
                    stream.version = ""
                    again = not listed  # a fresh listing's version refused at once: back off
                else:
                    audit(
                        logger, "watch failed, retrying", logging.WARNING, path=stream.path, error=str(error)
                    )
            if loop.time() - started >= HEALTHY:
                delay = self.backoff[0]  # it worked for a while: the back-off starts over
            if again:
                continue
            await asyncio.sleep(delay * random.uniform(1.0, 1.5))
            delay = min(delay * 2, self.backoff[1])

    async def _watch(self, stream: Stream) -> None:
        """Follows one watch request until the server ends it; raises ApiError as the client does,
        and for an ERROR event (410 Gone when the version is too old)."""
        seconds = random.randint(*self.watch_seconds)
        params = {
            "watch": "true",
            "resourceVersion": stream.version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(seconds),
        }
        events = self.client.watch(stream.path, params, timeout=seconds + 30)
        async with contextlib.aclosing(events):
            async for event in events:
                self._handle(stream, event)

    def _handle(self, stream: Stream, event: JsonObject) -> None:
        kind = event.get("type")
        body = event.get("object")
        body = body if isinstance(body, dict) else {}
        if kind == "ERROR":  # a metav1.Status: 410 when the version is too old
            code = body.get("code")
            reason, message = str(body.get("reason") or ""), str(body.get("message") or "")
            raise ApiError("GET", stream.path, code if isinstance(code, int) else 0, reason, message)
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            body.setdefault("apiVersion", api_version_of(stream.resource))
            body.setdefault("kind", stream.resource.kind)
            apply_guarded(self.sync, body, deleted=kind == "DELETED", path=stream.path)
        if version := str(metadata.get("resourceVersion") or ""):  # a BOOKMARK brings only this
            stream.version = version
