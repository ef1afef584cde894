"""What the session's kube-controller-manager makes of workloads: their children, and CronJob runs now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kubernetes.client import BatchV1Api

from tests.integration.operator.helpers import wait_for


def controlled_by(children: list[Any], owner: Any) -> list[Any]:
    """The children whose controller reference names `owner` (by uid); typed client objects or dicts."""
    return [child for child in children if _controller_uid(child) == _uid(owner)]


def wait_for_children(list_children: Callable[[], Any], owner: Any, what: str, count: int = 1) -> list[Any]:
    """Waits until at least `count` of the listed objects are controlled by `owner`; returns them.
    `list_children` returns a list, a typed client's list or a JSON list."""

    def found() -> list[Any] | None:
        listed = list_children()
        items = listed["items"] if isinstance(listed, dict) else getattr(listed, "items", listed)
        controlled = controlled_by(items, owner)
        return controlled if len(controlled) >= count else None

    return wait_for(found, what)


def run_missed_schedule(batch: BatchV1Api, name: str, namespace: str) -> None:
    """Makes the CronJob controller start a run now rather than at the next scheduled time: its last
    run is said to have been two days ago, so a scheduled time has been missed (any schedule that
    fires daily), and the controller starts the latest missed run at once."""
    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    status = {"status": {"lastScheduleTime": two_days_ago.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    batch.patch_namespaced_cron_job_status(name, namespace, status)


def _uid(obj: Any) -> str:
    return obj["metadata"]["uid"] if isinstance(obj, dict) else obj.metadata.uid


def _controller_uid(obj: Any) -> str | None:
    if isinstance(obj, dict):
        refs = [(r.get("controller"), r.get("uid")) for r in obj["metadata"].get("ownerReferences") or ()]
    else:
        refs = [(r.controller, r.uid) for r in obj.metadata.owner_references or ()]
    return next((uid for controller, uid in refs if controller), None)
