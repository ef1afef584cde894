"""A TCP proxy on loopback for fault tests: a network partition on demand, and a Service's load
balancing over backends that follow their readiness.

    with TcpProxy([Backend("127.0.0.1", 6443)]) as proxy:      # the operator talks to proxy.port
        proxy.partition()                                       # every connection reset, new ones too
        proxy.heal()

    backends = [Backend("127.0.0.1", port, ready_url=f"http://127.0.0.1:{health}/readyz") ...]
    with TcpProxy(backends, probe_period=0.25) as service:     # a Service in front of replicas
        ...

Bytes are copied as they are (TLS passes through), `latency` seconds late in each direction when
given (a slow network: requests stay in flight that long). Each new connection goes to the next backend in
turn among those whose `ready_url` answered 200 at the last probe (a backend without one is always
ready), as kube-proxy sends new connections only to ready endpoints; an open connection stays with
its backend until either side closes it. A connection that finds no ready backend, or whose
backend refuses it, is reset: kube-proxy does not retry another endpoint either.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

COPY_CHUNK = 65536


@dataclass(frozen=True)
class Backend:
    host: str
    port: int
    ready_url: str | None = None  # probed; None: always ready


def _probe(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200  # type: ignore[no-any-return]
    except OSError:
        return False


class TcpProxy:
    def __init__(
        self, backends: Sequence[Backend], *, probe_period: float = 0.25, port: int = 0, latency: float = 0.0
    ) -> None:
        self.backends = list(backends)
        self.latency = latency
        self.probe_period = probe_period
        self.port = port
        self.counts: Counter[str] = Counter()  # connections: "to <port>", "refused", "reset", "no backend"
        self._ready = {backend: backend.ready_url is None for backend in self.backends}
        self._next = 0
        self._partitioned = False
        self._open: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        started = threading.Event()
        self._probe_all()
        serving = threading.Thread(target=self._serve, args=(started,), name="tcp-proxy", daemon=True)
        prober = threading.Thread(target=self._prober, name="tcp-proxy-probes", daemon=True)
        self._threads = [serving, prober]
        for thread in self._threads:
            thread.start()
        if not started.wait(10) or self._server is None:
            raise RuntimeError("the TCP proxy did not start")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(10)

    # ---- faults -------------------------------------------------------------------------------
    def partition(self) -> None:
        """Resets every open connection and every new one until `heal()`."""
        self._partitioned = True
        self._call(self._reset_all)

    def heal(self) -> None:
        self._partitioned = False

    def ready(self, backend: Backend) -> bool:
        """Whether `backend` passed its last probe."""
        return self._ready[backend]

    # ---- internals ----------------------------------------------------------------------------
    def _call(self, fn: object) -> None:
        assert self._loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                fn()  # type: ignore[operator]
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(10)

    def _reset_all(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    def _probe_all(self) -> None:
        for backend in self.backends:
            if backend.ready_url is not None:
                self._ready[backend] = _probe(backend.ready_url)

    def _prober(self) -> None:
        while not self._stopping.wait(self.probe_period):
            self._probe_all()

    def _choose(self) -> Backend | None:
        ready = [b for b in self.backends if self._ready[b]]
        if not ready:
            return None
        self._next += 1
        return ready[self._next % len(ready)]

    def _serve(self, started: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            listener = socket.create_server(("127.0.0.1", self.port))
            self._server = loop.run_until_complete(asyncio.start_server(self._accept, sock=listener))
            self.port = listener.getsockname()[1]
            started.set()
            loop.run_forever()
            self._server.close()
            self._reset_all()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
        finally:
            started.set()
            loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = None if self._partitioned else self._choose()
        if backend is None:
            self.counts["reset" if self._partitioned else "no backend"] += 1
            _reset(writer)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(backend.host, backend.port)
        except OSError:
            self.counts["refused"] += 1
            _reset(writer)
            return
        self.counts[f"to {backend.port}"] += 1
        self._open.update((writer, upstream))
        try:
            await asyncio.gather(
                _copy(reader, upstream, self.latency), _copy(upstream_reader, writer, self.latency)
            )
        finally:
            for side in (writer, upstream):
                self._open.discard(side)
                side.close()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter, latency: float) -> None:
    """Copies until either side ends, each chunk `latency` seconds after it was read; then closes the
    sink, so the other direction ends too."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                return
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            sink.write(chunk)
            await sink.drain()

    delivering = asyncio.ensure_future(deliver())
    try:
        while chunk := await source.read(COPY_CHUNK):
            queue.put_nowait((loop.time() + latency, chunk))
        queue.put_nowait((loop.time() + latency, b""))
        await delivering
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        delivering.cancel()
        sink.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Closes with a TCP reset (SO_LINGER 0), as a dropped connection looks to the peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()
