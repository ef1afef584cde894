"""The operator's watches at start-up, against the real API server (docs/operator.md, "Watches"):
each resource is listed once and then watched from the listing's version, and a kind installed
after the start (KServe) is listed and watched once it is served, without a restart. This module's
control plane starts without the KServe CRD, which the other fault modules never install."""

from __future__ import annotations

import urllib.parse
from collections import Counter
from typing import Any

from gpai_operator.admission.testing import install_kserve_crd
from gpai_operator.controller.resources import PLURALS
from gpai_operator.testing.rest import request_json
from tests.integration.faults.conftest import Faults
from tests.integration.operator.helpers import wait_for
from tests.unit.engine import builders as b

INFERENCE_SERVICES = "/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices"


def create(faults: Faults, obj: dict[str, Any], namespace: str) -> None:
    api_version, kind = obj["apiVersion"], obj["kind"]
    root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    request_json(faults.api, "POST", f"{root}/namespaces/{namespace}/{PLURALS[kind]}", body=obj)


def test_inference_services_are_watched_once_kserve_is_installed_after_the_start(faults: Faults):
    namespace = faults.namespaces[0]
    operator = faults.operator("a")
    for obj in b.frontier(namespace=namespace):
        create(faults, obj, namespace)

    assert install_kserve_crd(faults.api), "the KServe CRD existed already: the test proves nothing"
    service = b.workload(kind="InferenceService", name="chat", namespace=namespace)
    create(faults, service, namespace)

    path = f"{INFERENCE_SERVICES.format(namespace=namespace)}/chat"

    def annotated() -> dict[str, str] | None:
        annotations = request_json(faults.api, "GET", path)["metadata"].get("annotations") or {}
        return annotations if "gpai.dev/compliance" in annotations else None

    # The kind is asked for after each back-off, at most every 30 s (with jitter: 45 s).
    annotations = wait_for(annotated, "the InferenceService annotated", timeout=90)
    assert annotations["gpai.dev/compliance"] == "Compliant"
    assert "now served: watching it" in operator.log_path.read_text()
    faults.converge()


def test_each_resource_is_listed_once_then_watched_from_the_listings_version(faults: Faults):
    namespace = faults.namespaces[1]
    faults.operator("b")
    for obj in b.frontier(namespace=namespace):
        create(faults, obj, namespace)
    faults.converge()

    requests = faults.requests("b")
    lists = Counter(r.resource for r in requests if r.verb == "list")
    watches = [r for r in requests if r.verb == "watch"]
    assert lists, "no listing in the audit log"
    assert set(lists.values()) == {1}, f"a resource listed more than once: {dict(lists)}"
    assert {r.resource for r in watches} == set(lists)
    for watch in watches:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(watch.uri).query)
        assert query.get("resourceVersion", [""])[0], f"a watch not from a listing's version: {watch.uri}"
        assert query.get("allowWatchBookmarks") == ["true"], watch.uri
