"""One listing of one resource into the state, a page at a time, replacing what the state held of it.

A listing is how the state starts (at start-up, for every watched resource) and how it catches up
when a watch cannot resume (410 Gone: an API server restart, an etcd compaction, a watch cache that
moved on). Either way the listing is the whole truth for its resource: what the state holds of that
kind (in that namespace) and the listing does not mention was deleted while nobody watched, and
leaves the state. That is client-go's `Replace` of an informer's store; without it, deleted evidence
would keep its model compliant, and a deleted model's workloads would stay NonCompliant instead of
UnknownModel, in the status and at admission.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from gpai_operator.controller.kube import ApiError, JsonObject, KubeClient
from gpai_operator.controller.resources import Watched
from gpai_operator.controller.sync import StateSync
from gpai_operator.runtime import audit, audit_exception

logger = logging.getLogger("gpai_operator.listing")

PAGE = 500


def api_version_of(resource: Watched) -> str:
    return f"{resource.group}/{resource.version}" if resource.group else resource.version


def collection_path(resource: Watched, namespace: str | None) -> str:
    api_version = api_version_of(resource)
    root = f"/apis/{api_version}" if resource.group else f"/api/{api_version}"
    scope = f"/namespaces/{namespace}" if namespace and resource.namespaced else ""
    return f"{root}{scope}/{resource.plural}"


@dataclass(frozen=True)
class Listing:
    """What one listing found: the collection's resourceVersion (a watch resumes from it), how many
    objects it listed, how many the state held that it no longer mentions."""

    version: str
    listed: int
    forgotten: int


async def list_into(
    client: KubeClient, sync: StateSync, resource: Watched, namespace: str | None, *, page: int = PAGE
) -> Listing:
    """Lists `resource` (in `namespace`, or everywhere) into the state, `page` objects per request,
    so the memory it takes is one page, not the cluster; then forgets what it did not mention.
    Raises ApiError when a request fails (nothing is forgotten then)."""
    path = collection_path(resource, namespace)
    while True:
        try:
            return await _list(client, sync, resource, namespace, path, page)
        except ApiError as error:
            if error.status != 410:
                raise
            # The continue token expired (the listing took longer than etcd keeps its snapshot):
            # start again; what the first attempt upserted is current anyway.
            audit(logger, "listing expired midway, listing again", path=path)


async def pages(client: KubeClient, path: str, page: int = PAGE) -> AsyncIterator[JsonObject]:
    """Each answer of a listing of `path`, `page` objects a request, following its `continue` token
    to the end. Raises ApiError when a request fails (410 when the token expired)."""
    token = ""
    while True:
        params = {"limit": str(page), **({"continue": token} if token else {})}
        answer = await client.get(path, params=params) or {}
        yield answer
        if not (token := str((answer.get("metadata") or {}).get("continue") or "")):
            return


async def _list(
    client: KubeClient, sync: StateSync, resource: Watched, namespace: str | None, path: str, page: int
) -> Listing:
    api_version = api_version_of(resource)
    mentioned: set[tuple[str, str]] = set()
    version = ""
    async for answer in pages(client, path, page):
        for item in answer.get("items") or []:
            item.setdefault("apiVersion", api_version)  # list items come without them
            item.setdefault("kind", resource.kind)
            metadata = item.get("metadata") or {}
            mentioned.add((str(metadata.get("namespace") or ""), str(metadata.get("name") or "")))
            apply_guarded(sync, item, deleted=False, path=path)
        version = str((answer.get("metadata") or {}).get("resourceVersion") or version)
        await asyncio.sleep(0)  # let the endpoints answer probes meanwhile
    forgotten = forget_unlisted(sync, api_version, resource.kind, namespace, mentioned)
    return Listing(version, len(mentioned), forgotten)


def apply_guarded(sync: StateSync, body: dict[str, Any], *, deleted: bool, path: str) -> None:
    """One listed or watched object into the state; a defect for one object is logged, and must not
    stop the listing or the watch of all the others."""
    try:
        if deleted:
            sync.delete(body)
        else:
            sync.upsert(body)
    except Exception:
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        audit_exception(
            logger,
            "object not applied to the state",
            path=path,
            namespace=metadata.get("namespace", ""),
            name=metadata.get("name", ""),
        )


def forget_unlisted(
    sync: StateSync,
    api_version: str,
    kind: str,
    namespace: str | None,
    mentioned: Iterable[tuple[str, str]],
) -> int:
    """Removes from the state each object of `kind` (in `namespace`, or anywhere) that a complete
    listing did not mention; returns how many. The uid goes with each deletion, so an object that
    has a new incarnation under the same name meanwhile is left alone (StateSync checks it)."""
    listed = set(mentioned)
    gone = [
        (key, uid)
        for key, uid in sync.known(kind).items()
        if key not in listed and (namespace is None or key[0] == namespace)
    ]
    if gone:
        audit(logger, "deleted while unwatched", kind=kind, objects=len(gone))
    for (object_namespace, name), uid in gone:
        metadata = {"name": name, "uid": uid, **({"namespace": object_namespace} if object_namespace else {})}
        audit(logger, "forgetting", logging.DEBUG, kind=kind, namespace=object_namespace, name=name)
        sync.delete({"apiVersion": api_version, "kind": kind, "metadata": metadata})
    return len(gone)
