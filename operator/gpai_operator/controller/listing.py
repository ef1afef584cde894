"""The start-up listing: the whole state, read once before kopf's watches start.

The operator lists every watched resource itself (in pages), builds the state, and only then is
synced: it reconciles everything and reports ready. kopf's watches start afterwards, so whatever
they report is newer than the listing and simply overwrites it. An object deleted between our
listing and kopf's own is in neither kopf's listing nor its events: relists.py forgets it, as it
does after every listing kopf makes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from gpai_operator.controller.kube import KubeClient
from gpai_operator.controller.resources import Watched
from gpai_operator.controller.sync import StateSync

logger = logging.getLogger("gpai_operator.listing")

PAGE = 500


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
) -> int:
    """Lists everything into the state, a page at a time (the peak memory is one page, not the
    cluster); returns how many objects were listed."""
    listed = 0
    for resource in resources:
        for namespace in namespaces if resource.namespaced and namespaces else [None]:
            async for items in list_pages(client, resource, namespace):
                for item in items:
                    sync.upsert(item)
                    listed += 1
                await asyncio.sleep(0)  # let the endpoints answer probes meanwhile
    return listed
