"""The start-up listing: the whole state, read once before kopf's watches start.

The operator lists every watched resource itself (in pages), builds the state, and only then is
synced: it reconciles everything and reports ready. kopf's watches start afterwards, so whatever
they report is newer than the listing and simply overwrites it. One gap remains: an object deleted
between our listing and kopf's own. kopf never reports it (it was not in its listing), so the
objects of our listing that kopf has not mentioned after a while are looked up one by one, and
those that are gone leave the state (`Sweeper`); so are the objects the operator created itself
meanwhile (derived objects: controller/derived.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from gpai_operator import objects
from gpai_operator.controller.kube import ApiError, KubeClient
from gpai_operator.controller.resources import Watched, object_path
from gpai_operator.controller.sync import StateSync
from gpai_operator.runtime import audit

logger = logging.getLogger("gpai_operator.listing")

PAGE = 500
SWEEP_AFTER = (15.0, 60.0, 300.0)  # seconds after kopf starts

ObjectId = tuple[str, str, str, str]  # (apiVersion, kind, namespace, name)


def collection_path(resource: Watched, namespace: str | None) -> str:
    api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
    root = f"/apis/{api_version}" if resource.group else f"/api/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace and resource.namespaced else ""
    return f"{root}{scope}/{resource.plural}"


async def list_pages(
    client: KubeClient, resource: Watched, namespace: str | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every object of one resource, a page at a time; list items get their apiVersion and kind back."""
    api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
    path = collection_path(resource, namespace)
    token = ""
    while True:
        params = {"limit": str(PAGE), **({"continue": token} if token else {})}
        page = await client.get(path, params=params) or {}
        items = page.get("items") or []
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", resource.kind)
        yield items
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return


async def initial_listing(
    client: KubeClient, sync: StateSync, resources: Iterable[Watched], namespaces: Sequence[str]
) -> set[ObjectId]:
    """Lists everything into the state, a page at a time (the peak memory is one page, not the
    cluster); returns what was listed, for the sweeper."""
    listed: set[ObjectId] = set()
    for resource in resources:
        for namespace in namespaces if resource.namespaced and namespaces else [None]:
            async for items in list_pages(client, resource, namespace):
                for item in items:
                    sync.upsert(item)
                    listed.add(objects.identity(item))
                await asyncio.sleep(0)  # let the endpoints answer probes meanwhile
    return listed


class Sweeper:
    """Removes from the state what our listing saw but kopf's watches never mention: deleted since."""

    def __init__(
        self,
        client: KubeClient,
        sync: StateSync,
        listed: set[ObjectId],
        plurals: Mapping[str, str] | None = None,
    ) -> None:
        self.client, self.sync = client, sync
        self.unconfirmed = listed
        self.plurals = plurals or {}  # kind -> plural, for workload kinds added by configuration

    def confirm(self, body: Any) -> None:
        if self.unconfirmed:
            self.unconfirmed.discard(objects.identity(body))

    def expect(self, identity: ObjectId) -> None:
        """An object the operator created itself, perhaps before kopf listed: deleted before kopf's
        watch started, it would never be reported either."""
        self.unconfirmed.add(identity)

    async def run(self, delays: Sequence[float] = SWEEP_AFTER) -> None:
        elapsed = 0.0
        for delay in delays:
            await asyncio.sleep(delay - elapsed)
            elapsed = delay
            if not self.unconfirmed:
                return
            await self.sweep()

    async def sweep(self) -> None:
        for identity in list(self.unconfirmed):
            api_version, kind, namespace, name = identity
            try:
                path = object_path(api_version, kind, namespace, name, plural=self.plurals.get(kind, ""))
                await self.client.get(path)
            except ApiError as error:
                if not error.not_found:
                    continue
                if identity in self.unconfirmed:  # no watch event meanwhile
                    self.unconfirmed.discard(identity)
                    audit(
                        logger,
                        "deleted before the watches started",
                        kind=kind,
                        namespace=namespace,
                        name=name,
                    )
                    self.sync.delete(
                        {"apiVersion": api_version, "kind": kind, "metadata": _meta(namespace, name)}
                    )
            else:
                self.unconfirmed.discard(identity)  # it exists; kopf will report it


def _meta(namespace: str, name: str) -> dict[str, str]:
    return {"namespace": namespace, "name": name} if namespace else {"name": name}
