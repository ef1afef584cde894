"""What the operator's end-to-end tests do to the cluster and read back, and waiting without sleeps."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator import objects
from gpai_operator.controller.resources import events_path, object_path
from gpai_operator.testing.rest import request_json

MERGE_PATCH = "application/merge-patch+json"
T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | Literal[False] | None], what: str, timeout: float = 30.0, interval: float = 0.05
) -> T:
    """Polls `probe` until it returns something truthy; fails naming `what` and the last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except (ApiException, AssertionError, KeyError) as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def stays(probe: Callable[[], bool], what: str, seconds: float = 1.5, interval: float = 0.1) -> None:
    """Asserts `probe` holds for the whole period (used to show that nothing more happens)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert probe(), f"no longer true: {what}"
        time.sleep(interval)


class Kube:
    """Create, read, patch and delete any object of the tests through the REST paths."""

    def __init__(self, api_client: ApiClient) -> None:
        self.api = api_client

    @staticmethod
    def path(obj: Mapping[str, Any]) -> str:
        api_version, kind, namespace, name = objects.identity(obj)
        return object_path(
            api_version, kind, "" if kind in ("Namespace", "CompliancePolicy") else namespace, name
        )

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        path = self.path(obj).rpartition("/")[0]
        return request_json(self.api, "POST", path, body=obj)

    def get(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return request_json(self.api, "GET", self.path(obj))

    def patch(self, obj: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        return request_json(self.api, "PATCH", self.path(obj), body=body, content_type=MERGE_PATCH)

    def delete(self, obj: Mapping[str, Any]) -> None:
        try:
            request_json(self.api, "DELETE", self.path(obj), query=[("gracePeriodSeconds", "0")])
        except ApiException as error:
            if error.status != 404:
                raise

    def exists(self, obj: Mapping[str, Any]) -> bool:
        try:
            self.get(obj)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        query = [("fieldSelector", f"involvedObject.name={name}")]
        return request_json(self.api, "GET", events_path(namespace), query=query)["items"]


def conditions(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions", [])}


def compliant(obj: Mapping[str, Any]) -> str | None:
    condition = conditions(obj).get("Compliant")
    return condition["status"] if condition else None


def obligations(obj: Mapping[str, Any]) -> dict[str, str]:
    return {o["id"]: o["status"] for o in (obj.get("status") or {}).get("obligations", [])}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def ours(obj: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in annotations_of(obj).items() if k.startswith("gpai.dev/")}


# What a workload's controller writes as it pleases: its status, and with it these.
CONTROLLER_WRITTEN_METADATA = ("resourceVersion", "managedFields")
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"  # the Deployment controller's annotation


def operator_written(obj: Mapping[str, Any]) -> Any:
    """What of `obj` nobody but the operator changes, to show it wrote nothing: a GPAIModel's
    resourceVersion (no one else writes to one); a workload's metadata (its controller writes the
    status, and so the resourceVersion, whenever it likes)."""
    metadata = obj["metadata"]
    if obj["kind"] == "GPAIModel":
        return metadata["resourceVersion"]
    kept = {k: v for k, v in metadata.items() if k not in CONTROLLER_WRITTEN_METADATA}
    kept["annotations"] = {k: v for k, v in annotations_of(obj).items() if k != DEPLOYMENT_REVISION}
    return kept


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, None when the series is absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{key}="{val}"' in head for key, val in labels.items()):
            return float(value)
    return None
