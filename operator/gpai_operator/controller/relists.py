"""What a watch's listing no longer mentions leaves the state.

kopf lists a resource whenever it starts a watch: at start-up, and again whenever the watch cannot
resume (410 Gone: an API server restart, an etcd compaction, a watch cache that moved on). It reports
each object that exists as an event of type None and says nothing of what is missing: an object
deleted while the watch was away appears in no listing and in no event. (client-go's informers
replace their store on a relist and report what vanished; kopf does not.) Left alone, deleted
evidence would keep its model compliant and a deleted model's workloads would stay NonCompliant
instead of UnknownModel, in the status and at admission.

So each run of None-typed events for one resource is a listing round (an object listed a second
time starts the next one). Once no such event has come for `quiet` seconds, or the next listing
began, the objects of that kind which the state holds and which neither the round nor any event
since it began mentioned are looked up one by one; those that are gone (404) leave the state.
A lookup that finds the object changes nothing: a slow listing costs lookups, never a deletion of
something that exists. At start-up the same round covers the gap between the operator's own listing
and kopf's (objects deleted in between).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gpai_operator import objects
from gpai_operator.controller.kube import ApiError, KubeClient
from gpai_operator.controller.resources import object_path
from gpai_operator.controller.sync import StateSync
from gpai_operator.runtime import audit

logger = logging.getLogger("gpai_operator.relists")

QUIET = 5.0  # seconds without a listed object after which a listing round is taken as complete


@dataclass
class _Round:
    api_version: str
    kind: str
    plural: str
    last: float
    mentioned: set[tuple[str, str]] = field(default_factory=set)  # (namespace, name), by any event
    listed: set[tuple[str, str]] = field(default_factory=set)  # by this listing


class Relists:
    """Told of every watch event (`seen`); `run` closes the listing rounds and forgets what they missed."""

    def __init__(
        self,
        client: KubeClient,
        sync: StateSync,
        plurals: Mapping[str, str] | None = None,
        *,
        quiet: float = QUIET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.sync = client, sync
        self.plurals = plurals or {}  # kind -> plural, for workload kinds added by configuration
        self.quiet, self.clock = quiet, clock
        self.rounds: dict[str, _Round] = {}  # by kind
        self._completed: list[_Round] = []
        self._opened = asyncio.Event()

    def seen(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        api_version, kind, namespace, name = objects.identity(body)
        key = (namespace, name)
        current = self.rounds.get(kind)
        if event_type is None:  # listed
            if current is not None and key in current.listed:
                # Listed again: a new listing began (the watch expired soon after the last one), so
                # the last one is complete; what it missed must not pass as mentioned by this one.
                self._completed.append(self.rounds.pop(kind))
                current = None
            if current is None:
                current = self.rounds[kind] = _Round(
                    api_version, kind, self.plurals.get(kind, ""), self.clock()
                )
                self._opened.set()
            current.last = self.clock()
            current.listed.add(key)
        if current is not None:
            current.mentioned.add(key)

    async def run(self) -> None:
        while True:
            await self._opened.wait()
            now = self.clock()
            for done in [r for r in self.rounds.values() if r.last + self.quiet <= now]:
                self._completed.append(self.rounds.pop(done.kind))  # later events open a new round
            while self._completed:
                await self._forget_missing(self._completed.pop(0))
            if not self.rounds:
                self._opened.clear()
                continue
            now = self.clock()
            await asyncio.sleep(max(0.0, min(r.last for r in self.rounds.values()) + self.quiet - now))

    async def _forget_missing(self, done: _Round) -> None:
        known = self.sync.known(done.kind)
        missing = {key: uid for key, uid in known.items() if key not in done.mentioned}
        audit(
            logger,
            "listing round closed",
            logging.DEBUG,
            kind=done.kind,
            mentioned=len(done.mentioned),
            known=len(known),
            missing=len(missing),
        )
        if not missing:
            return
        audit(logger, "listing did not mention known objects", kind=done.kind, objects=len(missing))
        for (namespace, name), uid in missing.items():
            path = object_path(done.api_version, done.kind, namespace, name, plural=done.plural)
            try:
                await self.client.get(path)
            except ApiError as error:
                if error.not_found:
                    self._gone(done, namespace, name, uid)
            # found: it exists, and its events keep it current

    def _gone(self, done: _Round, namespace: str, name: str, uid: str) -> None:
        audit(logger, "deleted while unwatched", kind=done.kind, namespace=namespace, name=name)
        metadata = {"name": name, "uid": uid, **({"namespace": namespace} if namespace else {})}
        # With the uid: if the name has a new object meanwhile, the sync ignores this deletion.
        self.sync.delete({"apiVersion": done.api_version, "kind": done.kind, "metadata": metadata})
