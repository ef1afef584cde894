"""An aiohttp application served on a free loopback port, for tests of the client's HTTP side."""

from __future__ import annotations

import aiohttp.web


async def serve_locally(app: aiohttp.web.Application) -> tuple[aiohttp.web.AppRunner, int]:
    """Starts `app` on 127.0.0.1 and returns its runner (`cleanup()` stops it) and its port."""
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])
