"""The operator's own endpoints: `/metrics` on one port, `/healthz` and `/readyz` on another.

They run in the operator's event loop, so `/healthz` fails when the loop hangs. The Prometheus text
is rendered in a worker thread from snapshots, so a large scrape never delays admission answers.

`/metrics` is served over HTTPS to callers the API server vouches for (`access`: TokenReview and
SubjectAccessReview, controller/access.py) when `tls` is given, or open over plain HTTP for clusters
that restrict who reaches the port with a NetworkPolicy. The probes are always open (the kubelet
calls them without credentials); they share the metrics listener, and its TLS, when given the same
port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp.web
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

from gpai_operator.controller.access import DelegatedAccess
from gpai_operator.runtime import ReloadingContext

Probe = Callable[[], tuple[bool, str]]  # (passing, explanation)


@dataclass(frozen=True)
class Listen:
    address: str
    port: int  # 0: any free port (tests)


def _socket(listen: Listen) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listen.address, listen.port))
    except OSError as error:
        sock.close()
        raise OSError(
            f"cannot listen on {listen.address}:{listen.port}: {error.strerror or error}"
        ) from error
    sock.setblocking(False)
    return sock


class Endpoints:
    def __init__(
        self,
        metrics: Listen | None,
        health: Listen | None,
        alive: Probe,
        ready: Probe,
        *,
        access: DelegatedAccess | None = None,
        tls: ReloadingContext | None = None,
    ) -> None:
        """`access` and `tls` go together: authenticated metrics over HTTPS, or neither."""
        self.metrics, self.health = metrics, health
        self.alive, self.ready = alive, ready
        self.access, self.tls = access, tls
        self.ports: dict[str, int] = {}  # "metrics" / "health" -> bound port
        self._runners: list[aiohttp.web.AppRunner] = []
        self._watching: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        """Bind every port first, so a port in use fails the start before anything else runs."""
        plans: dict[tuple[Listen, str], list[str]] = {}
        for name, listen in (("metrics", self.metrics), ("health", self.health)):
            if listen is not None:  # one listener for one port; port 0 means a free port of its own
                plans.setdefault((listen, "" if listen.port else name), []).append(name)
        sockets = {key: _socket(key[0]) for key in plans}
        for key, names in plans.items():
            app = aiohttp.web.Application()
            if "metrics" in names:
                app.router.add_get("/metrics", self._metrics)
            if "health" in names:
                app.router.add_get("/healthz", self._healthz)
                app.router.add_get("/readyz", self._readyz)
            runner = aiohttp.web.AppRunner(app, access_log=None)
            await runner.setup()
            self._runners.append(runner)
            sock = sockets[key]
            tls = self.tls.context if self.tls is not None and "metrics" in names else None
            await aiohttp.web.SockSite(runner, sock, ssl_context=tls).start()
            for name in names:
                self.ports[name] = sock.getsockname()[1]
        if self.tls is not None and self.metrics is not None:
            self._watching = asyncio.create_task(self.tls.watch(), name="metrics-certificate")

    async def stop(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
            self._watching = None
        while self._runners:
            await self._runners.pop().cleanup()

    async def _metrics(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        if self.access is not None:
            decision = await self.access.check(request.headers.get("Authorization"))
            if decision.status != 200:
                response = aiohttp.web.Response(status=decision.status, text=decision.message + "\n")
                if decision.status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="gpai-operator"'
                return response
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = await asyncio.get_running_loop().run_in_executor(None, encoder, REGISTRY)
        response = aiohttp.web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    async def _healthz(self, _request: aiohttp.web.Request) -> aiohttp.web.Response:
        return _probe(self.alive())

    async def _readyz(self, _request: aiohttp.web.Request) -> aiohttp.web.Response:
        return _probe(self.ready())


def _probe(result: tuple[bool, str]) -> aiohttp.web.Response:
    passing, text = result
    return aiohttp.web.Response(status=200 if passing else 503, text=text + "\n")
