"""Namespaces for one test each, and their removal even where no namespace controller runs.

Deleting a namespace only marks it Terminating; the controller manager's namespace controller then
deletes its contents and finalizes it (5 s later at the earliest: it waits that long before it
starts). Where no controller manager runs (`ControlPlane(controllers=False)`),
`delete_namespace(purge=True)` does that work itself: otherwise every object a test created would
stay in etcd and in the watches of the next test's operator.
"""

from __future__ import annotations

import re
import secrets

from kubernetes.client import ApiClient, CoreV1Api, V1Namespace, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.rest import request_json

TEST_LABEL = "gpai.dev/test"
DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
MERGE_PATCH = "application/merge-patch+json"


def namespace_name(hint: str) -> str:
    """A fresh namespace name (a DNS label) that starts with a readable `hint`, e.g. the test's name."""
    base = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:50].rstrip("-") or "test"
    return f"{base}-{secrets.token_hex(3)}"


def create_namespace(api_client: ApiClient, hint: str, labels: dict[str, str] | None = None) -> str:
    """Creates a fresh namespace labelled as a test namespace; returns its name."""
    name = namespace_name(hint)
    metadata = V1ObjectMeta(name=name, labels={TEST_LABEL: "true", **(labels or {})})
    CoreV1Api(api_client).create_namespace(V1Namespace(metadata=metadata))
    return name


def delete_namespace(api_client: ApiClient, name: str, *, purge: bool) -> None:
    """Deletes a namespace; with `purge`, also deletes everything in it and waits for nothing.

    Purging drops finalizers of the objects in it: the namespace is going away with whatever
    those finalizers protected.
    """
    core = CoreV1Api(api_client)
    if purge:
        for collection in namespaced_collections(api_client):
            _delete_collection(api_client, collection.format(namespace=name))
    try:
        core.delete_namespace(name)
        if purge:
            namespace = core.read_namespace(name)
            assert namespace.spec is not None  # a Namespace read back always has one
            namespace.spec.finalizers = []
            core.replace_namespace_finalize(name, namespace)
    except ApiException as error:
        if error.status != 404:
            raise


def namespaced_collections(api_client: ApiClient) -> list[str]:
    """The path, with a `{namespace}` placeholder, of every namespaced resource that can be bulk-deleted.

    One aggregated-discovery request per root; the first (preferred) version of each group.
    """
    paths = []
    for root in ("/api", "/apis"):
        for group in request_json(api_client, "GET", root, accept=DISCOVERY)["items"]:
            group_name, version = group["metadata"].get("name", ""), group["versions"][0]
            prefix = (
                f"/apis/{group_name}/{version['version']}" if group_name else f"/api/{version['version']}"
            )
            paths += [
                f"{prefix}/namespaces/{{namespace}}/{resource['resource']}"
                for resource in version.get("resources", [])
                if resource.get("scope") == "Namespaced" and "deletecollection" in resource.get("verbs", [])
            ]
    return paths


def _delete_collection(api_client: ApiClient, path: str) -> None:
    query = [("gracePeriodSeconds", "0"), ("propagationPolicy", "Background")]
    try:
        deleted = request_json(api_client, "DELETE", path, query=query) or {}
    except ApiException as error:
        if error.status in (404, 405):
            return
        raise
    for item in deleted.get("items") or []:
        if item["metadata"].get("finalizers"):
            _drop_finalizers(api_client, f"{path}/{item['metadata']['name']}")


def _drop_finalizers(api_client: ApiClient, path: str) -> None:
    try:
        request_json(
            api_client, "PATCH", path, body={"metadata": {"finalizers": None}}, content_type=MERGE_PATCH
        )
    except ApiException as error:
        if error.status != 404:
            raise
