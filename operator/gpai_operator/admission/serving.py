"""The webhook on a thread and event loop of its own, so that a review never waits behind the
operator's own work: watch events, reconcile passes and the annotation patches they send all run on
the operator's loop, and a review queued behind them on that loop waited for all of it (issue 15;
docs/decisions.md says how the options were measured).

    webhook = WebhookThread(server)
    webhook.start()            # returns once the HTTPS listener is up (the port is then known)
    ...
    webhook.drain()            # about to stop: answers close their connections
    webhook.stop()             # stops accepting, lets reviews in flight finish, then returns

The reviewer it calls reads the operator's state under `Runtime.lock`, which the watch handlers
hold while they change it (runtime/shared.py). kopf's WebhookServer restarts its listener when the
certificate files change; the thread keeps following those restarts until it is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import urllib.parse
from typing import Any

from gpai_operator.admission.server import AdmissionServer

# CPython hands the GIL to a waiting thread after this many seconds (5 ms by default). The webhook's
# thread waits for it whenever the operator's thread is busy evaluating; a shorter interval bounds
# that wait at little cost (measured: docs/decisions.md).
SWITCH_INTERVAL = 0.001


class WebhookThread:
    """Runs an AdmissionServer in a daemon thread with its own event loop."""

    def __init__(self, server: AdmissionServer, name: str = "gpai-webhook") -> None:
        self.server = server
        self.port: int = server.port or 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self, timeout: float = 30.0) -> WebhookThread:
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            self.stop()
            raise RuntimeError(f"the admission webhook did not start: {self._error!r}")
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self._error is None

    def drain(self) -> None:
        """From now on each answer closes its connection (`Connection: close`): clients stop reusing
        connections to this replica before it stops accepting them."""
        self.server.draining = True

    def stop(self, timeout: float = 30.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to start(), or ends the thread quietly once stopped
            if not self._ready.is_set():
                self._error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        with contextlib.suppress(asyncio.CancelledError):
            async with self.server:
                async for client_config in self.server(None):  # once per (re)start of the listener
                    url = client_config.get("url") if isinstance(client_config, dict) else None
                    self.port = urllib.parse.urlsplit(url).port or self.port if url else self.port
                    self._ready.set()
