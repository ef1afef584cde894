"""Installing CustomResourceDefinitions and waiting until the API server serves them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient, ApiextensionsV1Api
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.rest import request_json

FIELD_MANAGER = "gpai-tests"
APPLY_PATCH = "application/apply-patch+yaml"


class CrdInstallError(RuntimeError):
    """A CustomResourceDefinition was refused or not Established in time; the message says why."""


def load_crds(paths: Iterable[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Every CustomResourceDefinition document in the given YAML files, with the file it came from."""
    return [
        (path, document)
        for path in paths
        for document in yaml.safe_load_all(path.read_text())
        if document and document.get("kind") == "CustomResourceDefinition"
    ]


def install_crds(api_client: ApiClient, paths: Iterable[Path], timeout: float = 30.0) -> list[str]:
    """Applies (server-side) the CRDs in `paths`, waits until each is Established; returns their names.

    Applying rather than creating makes this idempotent, also against a cluster that has them.
    """
    api = ApiextensionsV1Api(api_client)
    names = []
    for path, crd in load_crds(paths):
        name = crd["metadata"]["name"]
        try:
            # Through the raw client: the typed one validates the body itself and hides the server's answer.
            request_json(
                api_client,
                "PATCH",
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
                query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
                body=crd,
                content_type=APPLY_PATCH,
            )
        except ApiException as error:
            raise CrdInstallError(f"the API server refused {name} from {path}: {_message(error)}") from error
        names.append(name)
    deadline = time.monotonic() + timeout
    for name in names:
        wait_until_established(api, name, deadline)
    return names


def wait_until_established(api: ApiextensionsV1Api, name: str, deadline: float) -> None:
    while True:
        status = api.read_custom_resource_definition(name).status
        conditions = {c.type: c for c in (status.conditions if status is not None else None) or []}
        if (established := conditions.get("Established")) and established.status == "True":
            return
        names_accepted = conditions.get("NamesAccepted")
        if (names_accepted and names_accepted.status == "False") or time.monotonic() > deadline:
            summary = "; ".join(f"{c.type}={c.status} ({c.reason}: {c.message})" for c in conditions.values())
            raise CrdInstallError(
                f"CustomResourceDefinition {name} is not Established: {summary or 'no conditions'}"
            )
        time.sleep(0.05)


def _message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "")["message"])
    except (TypeError, ValueError, KeyError):
        return f"HTTP {error.status} {error.reason}"
