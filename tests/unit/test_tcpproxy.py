"""The fault tests' TCP proxy on loopback: copies bytes, partitions on demand, follows readiness."""

from __future__ import annotations

import contextlib
import http.server
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from gpai_operator.testing.tcpproxy import Backend, TcpProxy


def _port(server: socketserver.BaseServer) -> int:
    address = server.server_address
    assert isinstance(address, tuple)
    return int(address[1])


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(_port(self.server).to_bytes(4, "big") + data)


@contextlib.contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _port(server)
    finally:
        server.shutdown()
        server.server_close()


class Health(http.server.BaseHTTPRequestHandler):
    ready = True

    def do_GET(self) -> None:
        self.send_response(200 if type(self).ready else 503)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def roundtrip(port: int, payload: bytes = b"ping") -> tuple[int, bytes]:
    """(the backend's port, what came back) through the proxy."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        answer = sock.recv(4096)
    if len(answer) < 4:
        raise ConnectionResetError("closed without an answer")
    return int.from_bytes(answer[:4], "big"), answer[4:]


@pytest.fixture
def echo_ports() -> Iterator[list[int]]:
    with (
        serving(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)) as first,
        serving(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)) as second,
    ):
        yield [first, second]


def test_bytes_go_through_and_a_partition_resets_until_healed(echo_ports):
    with TcpProxy([Backend("127.0.0.1", echo_ports[0])]) as proxy:
        assert roundtrip(proxy.port) == (echo_ports[0], b"ping")
        proxy.partition()
        with pytest.raises(ConnectionResetError):
            roundtrip(proxy.port)
        proxy.heal()
        assert roundtrip(proxy.port) == (echo_ports[0], b"ping")


def test_new_connections_go_round_robin_to_ready_backends_only(echo_ports):
    class Unready(Health):
        ready = True

    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unready)) as health:
        backends = [
            Backend("127.0.0.1", echo_ports[0]),
            Backend("127.0.0.1", echo_ports[1], ready_url=f"http://127.0.0.1:{health}/readyz"),
        ]
        with TcpProxy(backends, probe_period=0.05) as proxy:
            assert {roundtrip(proxy.port)[0] for _ in range(4)} == set(echo_ports)
            Unready.ready = False
            time.sleep(0.3)
            assert {roundtrip(proxy.port)[0] for _ in range(4)} == {echo_ports[0]}


def test_latency_delays_each_direction(echo_ports):
    with TcpProxy([Backend("127.0.0.1", echo_ports[0])], latency=0.1) as proxy:
        started = time.monotonic()
        roundtrip(proxy.port)
        assert time.monotonic() - started >= 0.2
