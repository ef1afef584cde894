"""Which replica writes: an election through a kopf peering object, with kopf's own watches left running.

kopf's peering pauses every watch of a replica that sees a peer of higher priority (and of every
replica when two share a priority). A paused replica's in-memory state goes stale, yet every ready
replica answers admission reviews from that state. So the operator runs kopf standalone (its
watches never pause) and elects the single writer itself, in the same ClusterKopfPeering object
and with the same entry format kopf uses (`status.<identity>: {priority, lifetime, lastseen}`),
plus `since`, this replica's start time:

- each replica patches its own entry every `interval` seconds and reads everyone's from the answer;
- an entry older than its `lifetime` is dead (and removed);
- among the live entries, the highest `priority` leads; among equals, the oldest `since`, then the
  identity: a replica that joins never takes over from one already leading;
- a replica leaving (stopping) removes its entry, so the next one takes over within `interval`.

Writes are idempotent functions of the cluster state (status and annotations are computed, not
accumulated), so the short overlap when two replicas both think they lead converges to the same
values; the election only avoids duplicated work and duplicated Events.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gpai_operator.controller.kube import ApiError, KubeClient
from gpai_operator.controller.logs import audit

logger = logging.getLogger("gpai_operator.leadership")

PEERING_PATH = "/apis/kopf.dev/v1/clusterkopfpeerings/{name}"


def own_identity() -> str:
    """The pod name when the chart sets POD_NAME, else host, process and a random suffix."""
    pod = os.environ.get("POD_NAME") or os.environ.get("POD_ID")
    if pod:
        return pod
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(2)}"


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Peer:
    identity: str
    priority: int
    lifetime: dt.timedelta
    lastseen: dt.datetime
    since: dt.datetime

    def dead(self, now: dt.datetime) -> bool:
        return self.lastseen + self.lifetime <= now

    @property
    def rank(self) -> tuple[int, dt.datetime, str]:
        return (-self.priority, self.since, self.identity)


def parse_peers(status: Mapping[str, Any] | None) -> list[Peer]:
    """The peers recorded in a peering object's status; malformed entries are skipped."""
    peers = []
    for identity, entry in (status or {}).items():
        if not isinstance(entry, Mapping):
            continue
        lastseen = _parse_time(entry.get("lastseen"))
        if lastseen is None:
            continue
        try:
            priority, lifetime = int(entry.get("priority", 0)), int(entry.get("lifetime", 60))
        except (TypeError, ValueError):
            continue
        peers.append(
            Peer(
                identity=str(identity),
                priority=priority,
                lifetime=dt.timedelta(seconds=lifetime),
                lastseen=lastseen,
                since=_parse_time(entry.get("since")) or lastseen,
            )
        )
    return peers


def elect(peers: list[Peer], now: dt.datetime) -> Peer | None:
    """The live peer that should write, or None when none is alive."""
    live = [p for p in peers if not p.dead(now)]
    return min(live, key=lambda p: p.rank) if live else None


class Leadership:
    """This replica's view of the election; `leading` is read by the reconciler before each write."""

    def __init__(
        self,
        client: KubeClient | None,
        name: str | None,
        identity: str,
        *,
        priority: int = 0,
        lifetime: int = 60,
        interval: float = 10.0,
        on_change: Callable[[bool], None] = lambda _leading: None,
    ) -> None:
        """`name` None: standalone, this replica always writes."""
        self.client, self.name, self.identity = client, name, identity
        self.priority, self.lifetime, self.interval = priority, lifetime, interval
        self.on_change = on_change
        self.since = dt.datetime.now(dt.UTC)
        self.leading = name is None
        self.leader: str | None = identity if name is None else None
        self._missing_reported = False

    @property
    def standalone(self) -> bool:
        return self.name is None

    def _entry(self, now: dt.datetime, lifetime: int) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "lifetime": lifetime,
            "lastseen": now.isoformat(),
            "since": self.since.isoformat(),
        }

    async def run(self) -> None:
        if self.standalone:
            self.on_change(True)
            return
        try:
            while True:
                await self.round()
                await asyncio.sleep(self.interval)
        finally:
            self._set(False, None)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._leave())

    async def round(self) -> None:
        """Announce ourselves, read every peer from the answer, and decide who leads."""
        assert self.client is not None
        assert self.name is not None
        now = dt.datetime.now(dt.UTC)
        path = PEERING_PATH.format(name=self.name)
        try:
            answer = await self.client.merge_patch(
                path, {"status": {self.identity: self._entry(now, self.lifetime)}}
            )
        except ApiError as error:
            if error.not_found and not self._missing_reported:
                audit(
                    logger,
                    "peering object missing: create the ClusterKopfPeering (the chart does) or run with "
                    "--standalone; this replica writes nothing until it exists",
                    logging.ERROR,
                    peering=self.name,
                )
                self._missing_reported = True
            elif not error.not_found:
                audit(
                    logger, "peering keep-alive failed", logging.WARNING, peering=self.name, error=str(error)
                )
            self._set(False, None)
            return
        self._missing_reported = False
        peers = parse_peers((answer or {}).get("status"))
        dead = [p.identity for p in peers if p.dead(now) and p.identity != self.identity]
        if dead:
            with contextlib.suppress(ApiError):
                await self.client.merge_patch(path, {"status": dict.fromkeys(dead)})
        leader = elect(peers, now)
        self._set(
            leader is not None and leader.identity == self.identity, leader.identity if leader else None
        )

    async def _leave(self) -> None:
        if self.client is None or self.name is None:
            return
        path = PEERING_PATH.format(name=self.name)
        await self.client.merge_patch(path, {"status": {self.identity: None}})

    def _set(self, leading: bool, leader: str | None) -> None:
        self.leader = leader
        if leading != self.leading:
            self.leading = leading
            audit(
                logger,
                "leadership changed",
                identity=self.identity,
                leading=leading,
                leader=leader,
                peering=self.name,
            )
            self.on_change(leading)
