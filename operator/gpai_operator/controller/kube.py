"""The operator's own connection to the API server: its credentials, and a small async client.

Everything the operator reads and writes goes through `KubeClient`, a thin aiohttp wrapper over the
REST paths it needs: the listings and watches (controller/watches.py), GPAIModel status, workload
annotations, Events, the leader Lease and the start-up checks. The credentials are loaded once by
`load_credentials` from a kubeconfig or the in-cluster service account.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from kubernetes.client import Configuration

JsonObject = dict[str, Any]  # what the API server answers: always a JSON object
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply (JSON is YAML)
JSON = "application/json"
# No answer at all, too many requests, and the server errors a retry can get past.
RETRYABLE = frozenset({0, 429, 500, 502, 503, 504})


class ConfigurationError(Exception):
    """No usable credentials: neither the in-cluster service account nor a kubeconfig."""


class ApiError(Exception):
    """An error answer from the API server (or none at all: status 0), with its Status message."""

    def __init__(self, method: str, path: str, status: int, reason: str, message: str) -> None:
        self.method, self.path, self.status, self.reason, self.message = method, path, status, reason, message
        where = f"{method} {path}"
        super().__init__(f"{where}: HTTP {status} {reason}: {message}" if status else f"{where}: {message}")

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def unreachable(self) -> bool:
        return self.status == 0

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed soon (else it waits for a change, or a person)."""
        return self.status in RETRYABLE


@dataclass(frozen=True)
class Credentials:
    """Where the API server is and how to prove who we are; a plain copy of the client's Configuration."""

    server: str
    configuration: Configuration
    source: str  # "in-cluster" or the kubeconfig path, for messages

    def authorization(self) -> str | None:
        # kubernetes>=36 stores the token under BearerToken, earlier versions under authorization; the
        # getter also runs the refresh hook that re-reads a rotated service-account token.
        cfg = self.configuration
        return cfg.get_api_key_with_prefix("BearerToken") or cfg.get_api_key_with_prefix("authorization")

    def ssl_context(self) -> ssl.SSLContext | bool:
        cfg = self.configuration
        if not self.server.startswith("https://"):
            return False
        if not cfg.verify_ssl:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            cadata = getattr(cfg, "ca_cert_data", None)
            context = ssl.create_default_context(
                cafile=cfg.ssl_ca_cert or None,
                cadata=cadata.decode() if isinstance(cadata, bytes) else cadata,
            )
        if cfg.cert_file and cfg.key_file:
            context.load_cert_chain(cfg.cert_file, cfg.key_file)
        return context


def load_credentials(kubeconfig: str | None = None, context: str | None = None) -> Credentials:
    """The in-cluster service account when running in a pod and no kubeconfig is named, else a kubeconfig.

    A kubeconfig is `kubeconfig`, else $KUBECONFIG, else ~/.kube/config (the client's own rules).
    """
    from kubernetes import config

    cfg = Configuration()
    if kubeconfig is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config(client_configuration=cfg)
            return Credentials(server=cfg.host, configuration=cfg, source="in-cluster service account")
        except config.ConfigException as error:
            raise ConfigurationError(f"in-cluster configuration failed: {error}") from error
    try:
        config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False
        )
    except (config.ConfigException, OSError, TypeError) as error:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise ConfigurationError(f"cannot load the kubeconfig {where}: {error}") from error
    return Credentials(server=cfg.host, configuration=cfg, source=kubeconfig or "kubeconfig")


Fence = Callable[[], bool]


class Fenced(Exception):
    """A fenced request was not sent: its fence said no at the moment its bytes were to go out."""


class _FencedBody(aiohttp.BytesPayload):
    """A request body that asks its fence as it is written. aiohttp holds a request's headers back and
    writes them with the first bytes of the body, in the same step as this check, so a request that
    waited (for a connection, a TLS handshake, its turn on the event loop, or a process that was
    paused) goes out only if the fence still allows it. Checked any earlier (once the connection is
    had, say), a pause between the check and the write lets a deposed leader write."""

    def __init__(self, value: bytes, content_type: str, fence: Fence) -> None:
        super().__init__(value, content_type=content_type)
        self.fence = fence
        self.refused = False

    def _check(self) -> None:
        if not self.fence():
            self.refused = True
            raise Fenced("not sent: the fence no longer allows it")

    async def write(self, writer: AbstractStreamWriter) -> None:
        self._check()
        await super().write(writer)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        self._check()
        await super().write_with_length(writer, content_length)


class KubeClient:
    """Async requests to API paths, JSON in and out; raises ApiError on any failure, `Fenced` when a
    request given a `fence` was not sent because the fence said no at the moment of sending."""

    def __init__(self, credentials: Credentials, *, concurrency: int = 32, timeout: float = 30.0) -> None:
        self.credentials = credentials
        self._concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self.credentials.ssl_context(), limit=self._concurrency, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                base_url=self.credentials.server.rstrip("/") + "/",
                connector=connector,
                timeout=self._timeout,
            )
        return self._session

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": JSON}
        if (authorization := self.credentials.authorization()) is not None:
            headers["Authorization"] = authorization  # read per request: a rotated token is picked up
        return headers

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = JSON,
        params: Mapping[str, str] | None = None,
        fence: Fence | None = None,
    ) -> JsonObject | None:
        """The answer's JSON object (None for an empty answer). With `fence` (and a body), the request
        is sent only if the fence still answers True as its first bytes are written (else `Fenced`)."""
        headers = self._headers()
        data: str | _FencedBody | None = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body, separators=(",", ":"), default=_iso)
            if fence is not None:
                data = _FencedBody(data.encode(), content_type, fence)
        elif fence is not None:
            raise ValueError(f"{method} {path}: a fenced request needs a body to check its fence on")
        session = self._open()
        try:
            async with session.request(
                method, path.lstrip("/"), data=data, headers=headers, params=params
            ) as response:
                text = await response.text()
                if response.status >= 300:
                    raise _error(method, path, response.status, response.reason or "", text)
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as error:
            if isinstance(data, _FencedBody) and data.refused:
                raise Fenced(f"{method} {path} not sent: the fence no longer allows it") from error
            raise ApiError(method, path, 0, "", f"{type(error).__name__}: {error}") from error
        answer = json.loads(text) if text else None
        if answer is not None and not isinstance(answer, dict):
            raise ApiError(method, path, response.status, "", "the answer is not a JSON object")
        return answer

    async def watch(
        self, path: str, params: Mapping[str, str], *, timeout: float
    ) -> AsyncGenerator[JsonObject, None]:
        """The events of a watch (`params` with watch=true), one JSON object each, until the server
        ends the stream or `timeout` seconds pass; raises ApiError as `request` does. Use it inside
        `contextlib.aclosing` so that leaving early closes the stream."""
        headers = self._headers()
        session = self._open()
        try:
            async with session.get(
                path.lstrip("/"), params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                if response.status >= 300:
                    raise _error("GET", path, response.status, response.reason or "", await response.text())
                pending = bytearray()
                # Lines by hand: aiohttp's readline refuses lines over 128 KiB, and a report can be 1 MB.
                async for chunk in response.content.iter_any():
                    pending += chunk
                    start = 0
                    while (end := pending.find(b"\n", start)) >= 0:
                        line, start = bytes(pending[start:end]), end + 1
                        if line.strip():
                            yield _event(path, line)
                    del pending[:start]
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as error:
            raise ApiError("GET", path, 0, "", f"{type(error).__name__}: {error}") from error

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JsonObject | None:
        return await self.request("GET", path, params=params)

    async def merge_patch(
        self, path: str, body: Mapping[str, Any], fence: Fence | None = None
    ) -> JsonObject | None:
        return await self.request("PATCH", path, body=body, content_type=MERGE_PATCH, fence=fence)

    async def create(
        self, path: str, body: Mapping[str, Any], fence: Fence | None = None
    ) -> JsonObject | None:
        return await self.request("POST", path, body=body, fence=fence)

    async def replace(self, path: str, body: Mapping[str, Any]) -> JsonObject | None:
        """PUT: with metadata.resourceVersion set, refused with 409 if the object changed since."""
        return await self.request("PUT", path, body=body)

    async def apply(
        self, path: str, body: Mapping[str, Any], field_manager: str, fence: Fence | None = None
    ) -> JsonObject | None:
        """Server-side apply, forced: creates the object or makes the fields `field_manager` owns
        exactly `body`'s (what it owned before and `body` lacks is removed)."""
        params = {"fieldManager": field_manager, "force": "true"}
        return await self.request(
            "PATCH", path, body=body, content_type=APPLY_PATCH, params=params, fence=fence
        )

    async def delete(
        self, path: str, body: Mapping[str, Any] | None = None, fence: Fence | None = None
    ) -> JsonObject | None:
        """DELETE, with `body` a DeleteOptions (e.g. a uid precondition)."""
        return await self.request("DELETE", path, body=body, fence=fence)


def _event(path: str, line: bytes) -> JsonObject:
    try:
        event = json.loads(line)
    except ValueError as error:
        raise ApiError("GET", path, 0, "", f"a watch event is not JSON: {error}") from error
    if not isinstance(event, dict):
        raise ApiError("GET", path, 0, "", "a watch event is not a JSON object")
    return event


def _iso(value: Any) -> str:
    """Dates and times as Kubernetes writes them (manifests read from YAML carry them as objects)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _error(method: str, path: str, status: int, reason: str, text: str) -> ApiError:
    message = text.strip()
    try:
        decoded = json.loads(text)
        if isinstance(decoded, dict):
            message = str(decoded.get("message") or message)
            reason = str(decoded.get("reason") or reason)
    except ValueError:
        pass
    return ApiError(method, path, status, reason, message[:1000])
