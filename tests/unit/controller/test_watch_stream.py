"""`KubeClient.watch` reads a watch's stream as the API server sends it: one JSON event per line,
lines cut anywhere by the network, some larger than aiohttp's line limit (a policy report can be
1 MB), and an error answer as an ApiError (a local HTTP server; no API server needed for this)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp.web
import pytest
from kubernetes.client import Configuration

from gpai_operator.controller.kube import ApiError, Credentials, KubeClient
from tests.unit.controller.local_http import serve_locally

EVENTS: list[dict[str, Any]] = [
    {"type": "ADDED", "object": {"metadata": {"name": "small", "resourceVersion": "1"}}},
    {
        "type": "MODIFIED",
        "object": {"metadata": {"name": "large", "resourceVersion": "2"}, "data": "x" * 300_000},
    },
    {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "3"}}},
]


async def _serve() -> tuple[aiohttp.web.AppRunner, int]:
    async def watch(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        if request.query.get("resourceVersion") == "gone":
            return aiohttp.web.json_response(
                {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"},
                status=410,
            )
        response = aiohttp.web.StreamResponse()
        await response.prepare(request)
        stream = b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS) + b"\n"
        for start in range(0, len(stream), 7_001):  # cut through lines and inside them
            await response.write(stream[start : start + 7_001])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    app = aiohttp.web.Application()
    app.router.add_get("/apis/x/v1/things", watch)
    return await serve_locally(app)


def test_events_come_whole_however_the_stream_is_cut_and_an_error_answer_raises():
    async def scenario() -> None:
        runner, port = await _serve()
        credentials = Credentials(f"http://127.0.0.1:{port}", Configuration(), "test")
        async with KubeClient(credentials, concurrency=0) as client:
            events = client.watch("/apis/x/v1/things", {"watch": "true", "resourceVersion": "0"}, timeout=10)
            async with contextlib.aclosing(events):
                assert [e async for e in events] == EVENTS
            expired = client.watch(
                "/apis/x/v1/things", {"watch": "true", "resourceVersion": "gone"}, timeout=10
            )
            with pytest.raises(ApiError) as error:
                async with contextlib.aclosing(expired):
                    [e async for e in expired]
            assert (error.value.status, error.value.reason) == (410, "Expired")
        await runner.cleanup()

    asyncio.run(scenario())
