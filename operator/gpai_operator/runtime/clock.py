"""The operator's clock. The engine never reads time itself; the operator passes `now` in.

Tests replace SystemClock with ManualClock to make evaluations expire without waiting days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""

    async def sleep_until(self, when: dt.datetime) -> None:
        """Return at `when` (or at once if it has passed)."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep_until(self, when: dt.datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A clock that only moves when told to; sleepers wake when it passes their time.

    `set` and `advance` may be called from any thread (tests drive an operator running in
    another thread), so waking a sleeper goes through its own event loop.
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()
        self._sleepers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when.astimezone(dt.UTC)
            sleepers = list(self._sleepers)
        for loop, event in sleepers:
            loop.call_soon_threadsafe(event.set)

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self._now + delta)

    async def sleep_until(self, when: dt.datetime) -> None:
        sleeper = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._sleepers.add(sleeper)
        try:
            while self._now < when:
                await sleeper[1].wait()
                sleeper[1].clear()
        finally:
            with self._lock:
                self._sleepers.discard(sleeper)
