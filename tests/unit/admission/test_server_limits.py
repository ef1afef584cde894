"""The webhook is not a soft target: size limit, bounded work, large bodies off the event loop.

Against the real server on loopback TLS; raw sockets where a client must misbehave (announce a body
and not send it, send it in chunks, stall).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gpai_operator.admission import large
from gpai_operator.admission.intake import MAX_BODY, Limits
from gpai_operator.admission.testing import ServedWebhook, WebhookCertificates
from tests.unit.admission.builders import review as admission_review
from tests.unit.admission.builders import workload

LARGE = 64 * 1024  # Limits().inline_body


def serve(rt: Any, certs: WebhookCertificates, **limits: Any) -> ServedWebhook:
    return ServedWebhook(rt, certs, limits=Limits(**limits)).start()


@pytest.fixture
def webhook(rt: Any, certs: WebhookCertificates) -> Iterator[ServedWebhook]:
    with ServedWebhook(rt, certs) as served:
        yield served


class Raw:
    """An HTTP/1.1 client on one TLS connection that sends exactly what it is told."""

    def __init__(self, webhook: ServedWebhook, certs: WebhookCertificates) -> None:
        context = ssl.create_default_context(cafile=str(certs.ca_file))
        self.sock = context.wrap_socket(
            socket.create_connection(("127.0.0.1", webhook.port), timeout=10), server_hostname="127.0.0.1"
        )

    def headers(self, length: int | None = None, chunked: bool = False) -> None:
        lines = ["POST /validate HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
        lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def chunk(self, data: bytes) -> None:
        self.sock.sendall(chunked(data))

    def dropped_while_sending(self, piece: bytes, most: int = 64 * 1024 * 1024) -> bool:
        """Sends `piece` again and again, at most `most` bytes: did the server drop the connection?"""
        for _ in range(most // len(piece)):
            try:
                self.sock.sendall(piece)
            except OSError:
                return True
        return False

    def answer(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, headers and JSON body of the next response."""
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self._recv()
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
        while len(rest) < int(headers["content-length"]):
            rest += self._recv()
        return int(status_line.split()[1]), headers, json.loads(rest)

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True
        except TimeoutError:
            return False

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed before the answer was complete")
        return data

    def close(self) -> None:
        self.sock.close()


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def review_body(size: int = 0) -> bytes:
    """A CREATE review of a Deployment, padded with an annotation to about `size` bytes."""
    annotations = {"padding": "x" * size} if size else {}
    return json.dumps(admission_review("CREATE", workload("Deployment", annotations=annotations))).encode()


def post(webhook: ServedWebhook, certs: WebhookCertificates, body: bytes) -> tuple[int, dict[str, Any]]:
    raw = Raw(webhook, certs)
    try:
        raw.headers(len(body))
        raw.send(body)
        status, _, answer = raw.answer()
        return status, answer
    finally:
        raw.close()


# ---- the size limit -----------------------------------------------------------------------------------
def test_the_limit_is_what_kube_apiserver_can_send() -> None:
    # Two objects of its 3 MiB request limit (object and oldObject of an UPDATE), 1 MiB for the rest.
    assert MAX_BODY == 7 * 1024 * 1024


def test_a_body_declared_larger_than_the_limit_is_refused_before_it_is_sent(
    webhook: ServedWebhook, certs: WebhookCertificates
) -> None:
    raw = Raw(webhook, certs)
    raw.headers(16 * 1024 * 1024)  # and not one byte of the body

    status, headers, answer = raw.answer()

    assert status == 413
    assert answer["kind"] == "Status"
    assert answer["reason"] == "RequestEntityTooLarge"
    assert answer["message"].startswith(f"the body is {16 * 1024 * 1024} bytes; the webhook takes at most")
    assert headers["connection"] == "close"
    assert raw.closed_by_server()  # never waits for, nor reads, the rest


def test_a_client_still_sending_gets_the_413_before_the_connection_is_dropped(
    webhook: ServedWebhook, certs: WebhookCertificates
) -> None:
    raw = Raw(webhook, certs)
    raw.headers(16 * 1024 * 1024)
    answers: list[int] = []
    reader = threading.Thread(target=lambda: answers.append(raw.answer()[0]))
    reader.start()
    assert raw.dropped_while_sending(b" " * 65536, 16 * 1024 * 1024)  # stops reading, then resets
    reader.join(10)

    assert answers == [413]


def test_a_chunked_body_is_cut_off_at_the_limit(rt: Any, certs: WebhookCertificates) -> None:
    webhook = serve(rt, certs, max_body=200_000)
    try:
        raw = Raw(webhook, certs)
        raw.headers(chunked=True)
        answers: list[int] = []
        reader = threading.Thread(target=lambda: answers.append(raw.answer()[0]))
        reader.start()
        assert raw.dropped_while_sending(chunked(b" " * 65536))
        reader.join(10)
        assert answers == [413]
    finally:
        webhook.stop()


def test_a_chunked_body_within_the_limit_is_judged(
    webhook: ServedWebhook, certs: WebhookCertificates
) -> None:
    body = review_body()
    raw = Raw(webhook, certs)
    raw.headers(chunked=True)
    raw.chunk(body[:100])
    raw.chunk(body[100:])
    raw.send(b"0\r\n\r\n")

    status, _, answer = raw.answer()

    assert status == 200
    assert answer["response"]["allowed"] is False


# ---- large bodies ----------------------------------------------------------------------------------------
def test_large_bodies_go_through_the_parser_process_small_ones_do_not(
    webhook: ServedWebhook, certs: WebhookCertificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[int] = []
    judge = large.judge

    async def counting(parser: Any, reviewer: Any, body: bytes) -> Any:
        parsed.append(len(body))
        return await judge(parser, reviewer, body)

    monkeypatch.setattr(large, "judge", counting)
    small = post(webhook, certs, review_body())
    big = post(webhook, certs, review_body(2 * LARGE))

    assert small[0] == big[0] == 200
    assert small[1]["response"] == big[1]["response"]
    assert len(parsed) == 1
    assert parsed[0] > LARGE


def test_a_large_body_that_is_not_json_gets_the_same_answer_as_a_small_one(
    webhook: ServedWebhook, certs: WebhookCertificates
) -> None:
    small = post(webhook, certs, b'{"apiVersion": "admission.k8s.io/v1",\n "kind": ]')
    large = post(webhook, certs, b'{"apiVersion": "admission.k8s.io/v1",\n "kind": ]' + b" " * 2 * LARGE)

    assert small == large
    assert small[0] == 400
    assert small[1]["message"] == (
        "not an AdmissionReview request: the body is not JSON: Expecting value at line 2 column 10"
    )


def test_a_body_at_the_limit_is_judged(webhook: ServedWebhook, certs: WebhookCertificates) -> None:
    body = review_body(MAX_BODY - 2048)
    assert MAX_BODY - 4096 < len(body) <= MAX_BODY

    status, answer = post(webhook, certs, body)

    assert status == 200
    assert answer["response"]["allowed"] is False


# ---- bounded work ----------------------------------------------------------------------------------------
def stalled(webhook: ServedWebhook, certs: WebhookCertificates, length: int) -> Raw:
    """A request whose body never arrives in full: it holds its place until the read times out."""
    raw = Raw(webhook, certs)
    raw.headers(length)
    raw.send(b"{")
    return raw


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_large_bodies_beyond_the_slots_and_the_queue_get_429_small_ones_are_still_judged(
    rt: Any, certs: WebhookCertificates
) -> None:
    webhook = serve(rt, certs, large_slots=1, large_queue=0)
    holders = []
    try:
        holders.append(stalled(webhook, certs, 2 * LARGE))
        wait_until(lambda: webhook.server.intake.in_flight == 1)

        raw = Raw(webhook, certs)
        raw.headers(2 * LARGE)
        status, headers, answer = raw.answer()
        assert status == 429
        assert headers["retry-after"] == "1"
        assert answer["reason"] == "TooManyRequests"
        assert "1 large AdmissionReviews are being judged" in answer["message"]

        assert post(webhook, certs, review_body())[0] == 200
    finally:
        for holder in holders:
            holder.close()
        webhook.stop()


def test_a_large_body_waits_for_its_turn_at_most_queue_wait(rt: Any, certs: WebhookCertificates) -> None:
    webhook = serve(rt, certs, large_slots=1, large_queue=4, queue_wait=0.3)
    holder = stalled(webhook, certs, 2 * LARGE)
    try:
        wait_until(lambda: webhook.server.intake.in_flight == 1)
        started = time.monotonic()
        status, answer = post(webhook, certs, review_body(2 * LARGE))
        assert status == 429
        assert "no turn for a large AdmissionReview within 0.3 s" in answer["message"]
        assert time.monotonic() - started >= 0.3
    finally:
        holder.close()
        webhook.stop()


def test_requests_beyond_max_in_flight_get_429(rt: Any, certs: WebhookCertificates) -> None:
    webhook = serve(rt, certs, max_in_flight=1)
    holder = stalled(webhook, certs, 1000)
    try:
        wait_until(lambda: webhook.server.intake.in_flight == 1)
        status, answer = post(webhook, certs, review_body())
        assert status == 429
        assert "1 admission requests are in progress (at most 1)" in answer["message"]
    finally:
        holder.close()
        webhook.stop()


def test_a_body_that_does_not_arrive_in_time_gets_408_and_frees_its_place(
    rt: Any, certs: WebhookCertificates
) -> None:
    webhook = serve(rt, certs, read_timeout=0.3, max_in_flight=1)
    try:
        raw = stalled(webhook, certs, 1000)
        status, _, answer = raw.answer()
        assert status == 408
        assert answer["message"] == "the body did not arrive within 0.3 s"
        assert webhook.server.intake.in_flight == 0
        assert post(webhook, certs, review_body())[0] == 200
    finally:
        webhook.stop()
