"""Plain-HTTP endpoints of the operator: `/metrics` on one port, `/healthz` and `/readyz` on another.

They run in the operator's event loop, so `/healthz` fails when the loop hangs. The Prometheus text
is rendered in a worker thread from snapshots, so a large scrape never delays admission answers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp.web
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

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
    def __init__(self, metrics: Listen | None, health: Listen | None, alive: Probe, ready: Probe) -> None:
        self.metrics, self.health = metrics, health
        self.alive, self.ready = alive, ready
        self.ports: dict[str, int] = {}  # "metrics" / "health" -> bound port
        self._runners: list[aiohttp.web.AppRunner] = []

    async def start(self) -> None:
        """Bind every port first, so a port in use fails the start before anything else runs."""
        plans: dict[Listen, list[str]] = {}
        for name, listen in (("metrics", self.metrics), ("health", self.health)):
            if listen is not None:
                plans.setdefault(listen, []).append(name)
        sockets = {listen: _socket(listen) for listen in plans}
        for listen, names in plans.items():
            app = aiohttp.web.Application()
            if "metrics" in names:
                app.router.add_get("/metrics", self._metrics)
            if "health" in names:
                app.router.add_get("/healthz", self._healthz)
                app.router.add_get("/readyz", self._readyz)
            runner = aiohttp.web.AppRunner(app, access_log=None)
            await runner.setup()
            self._runners.append(runner)
            sock = sockets[listen]
            await aiohttp.web.SockSite(runner, sock).start()
            for name in names:
                self.ports[name] = sock.getsockname()[1]

    async def stop(self) -> None:
        while self._runners:
            await self._runners.pop().cleanup()

    async def _metrics(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
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
