"""Requests to any API path, for what the typed client does not cover (tables, core-group collections)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kubernetes.client import ApiClient

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def request_json(
    api_client: ApiClient,
    method: str,
    path: str,
    *,
    query: Iterable[tuple[str, str]] = (),
    body: Any = None,
    content_type: str = JSON,
    accept: str = JSON,
    timeout: float | None = None,
) -> Any:
    """Sends one request and returns the decoded JSON answer; raises ApiException on an error status.
    `timeout` bounds the whole request in seconds (default: none)."""
    method, url, headers, body, _ = api_client.param_serialize(
        method.upper(),
        path,
        query_params=list(query),
        header_params={"Accept": accept, "Content-Type": content_type},
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, headers, body, _request_timeout=timeout)
    response.read()
    if not 200 <= response.status <= 299:
        api_client.response_deserialize(response, {})  # raises ApiException carrying the server's Status
    return json.loads(response.data) if response.data else None
