"""A fenced request is not sent once its fence says no, however long it waited for a connection (a
paused leader's writes must not reach the API server after another replica took over)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp.web
import pytest
from kubernetes.client import Configuration

from gpai_operator.controller.kube import Credentials, Fenced, KubeClient
from tests.unit.controller.local_http import serve_locally


async def _serve(received: list[str], release: asyncio.Event) -> tuple[aiohttp.web.AppRunner, int]:
    async def handle(request: aiohttp.web.Request) -> aiohttp.web.Response:
        received.append(request.path)
        if request.path == "/slow":
            await release.wait()
        return aiohttp.web.json_response({})

    app = aiohttp.web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return await serve_locally(app)


def test_a_request_waiting_for_a_connection_is_not_sent_once_its_fence_says_no():
    received: list[str] = []
    leading = [True]

    async def scenario() -> None:
        release = asyncio.Event()
        runner, port = await _serve(received, release)
        credentials = Credentials(f"http://127.0.0.1:{port}", Configuration(), "test")
        async with KubeClient(credentials, concurrency=1) as client:
            assert await client.merge_patch("/first", {}, lambda: leading[0]) == {}
            busy = asyncio.create_task(client.get("/slow"))  # holds the only connection
            await asyncio.sleep(0.1)
            waiting = asyncio.create_task(client.merge_patch("/late", {}, lambda: leading[0]))
            await asyncio.sleep(0.1)
            leading[0] = False  # the lease is lost while the write waits for its connection
            release.set()
            await busy
            with pytest.raises(Fenced):
                await waiting
            assert await client.get("/read") == {}  # unfenced requests go on; the connection is back
        await runner.cleanup()

    asyncio.run(scenario())
    assert received == ["/first", "/slow", "/read"]


def test_a_request_whose_fence_says_no_after_it_has_its_connection_is_not_sent(monkeypatch):
    """The lease is lost after the write has its connection and before its bytes go out (a process
    paused there, or an event loop busy with other work): the fence is read as the bytes are written,
    so nothing is sent."""
    received: list[str] = []
    leading = [True]
    connect = aiohttp.TCPConnector.connect

    async def connect_then_lose_the_lease(self: aiohttp.TCPConnector, *args: Any, **kwargs: Any) -> Any:
        connection = await connect(self, *args, **kwargs)
        leading[0] = False
        return connection

    async def scenario() -> None:
        runner, port = await _serve(received, asyncio.Event())
        credentials = Credentials(f"http://127.0.0.1:{port}", Configuration(), "test")
        async with KubeClient(credentials, concurrency=1) as client:
            monkeypatch.setattr(aiohttp.TCPConnector, "connect", connect_then_lose_the_lease)
            with pytest.raises(Fenced):
                await client.create("/late", {"kind": "Event"}, lambda: leading[0])
            monkeypatch.setattr(aiohttp.TCPConnector, "connect", connect)
            assert await client.get("/read") == {}  # the one connection serves the next request
        await runner.cleanup()

    asyncio.run(scenario())
    assert received == ["/read"]


def test_a_fenced_request_without_a_body_is_refused_before_anything_is_sent():
    async def scenario() -> None:
        credentials = Credentials("http://127.0.0.1:9", Configuration(), "test")
        async with KubeClient(credentials) as client:
            with pytest.raises(ValueError, match="DELETE /x: a fenced request needs a body"):
                await client.delete("/x", None, lambda: True)

    asyncio.run(scenario())
