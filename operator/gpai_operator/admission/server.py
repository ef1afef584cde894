"""The HTTPS endpoint: kopf's WebhookServer, answering with our reviewer instead of kopf's handlers.

kopf's WebhookServer brings what we want from it: restarting its listener when the certificate files
change (certificate rotation). It runs on a thread of its own (serving.py), not as one of kopf's
tasks. What we replace:

- the TLS context (`_build_ssl`, kopf's documented hook): TLS 1.2+ with modern ciphers only, and
  the API server's client certificate required when a client CA is given (runtime/tls.py);
- the per-request step (`_serve`), because kopf's own path cannot give SPEC section 4's answers:
  - a body that is not JSON becomes a plain-text 400, and one without `request` or `uid` raises
    inside kopf and becomes a plain-text 500; we answer both with a metav1.Status JSON body;
  - kopf reads every body whole, on the event loop, through aiohttp's 1 MiB limit; we refuse a body
    larger than kube-apiserver can send (413) before reading it, bound what is read and judged at
    once (intake.py) and judge large bodies off the event loop (large.py);
  - a rejection must be raised as an exception, logged by kopf as a handler failure, and its answer
    has no `reason` and no `auditAnnotations`; ours is built as data (review.py), unit-tested as such;
  - per request, kopf builds a cause, a diff of the whole object and a memo before any handler
    runs: work the answer does not need, on the path whose latency every API request pays.

Only POSTs to `/validate` (kopf's `/{handler id}` routing with the id `validate`) are reviewed;
any other path gets a 404 Status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import aiohttp.web
import kopf

from gpai_operator.admission import large
from gpai_operator.admission.intake import Busy, Intake, Limits
from gpai_operator.admission.metrics import record, record_refusal
from gpai_operator.admission.outcome import Answer, Outcome
from gpai_operator.runtime import audit, audit_exception, server_context

logger = logging.getLogger("gpai_operator.admission")

WEBHOOK_ID = "validate"
PATH = f"/{WEBHOOK_ID}"
# After refusing a body it did not read, the server waits this long before dropping the connection,
# without reading: a client that reads its answer while still sending gets it before the reset.
REFUSAL_GRACE = 0.5

Reviewer = Callable[[bytes | Mapping[str, Any]], Answer]


class AdmissionServer(kopf.WebhookServer):
    """kopf.WebhookServer on fixed certificate files, answering `/validate` with `reviewer`.

    The reviewer is given at construction or by `bind` (handlers.py); starting without one is a
    configuration error.
    `client_ca_file` makes the server require a client certificate issued by that CA; with
    `client_names`, also one whose common name or a DNS name is among them.
    """

    def __init__(
        self,
        *,
        reviewer: Reviewer | None = None,
        client_ca_file: str | os.PathLike[str] | None = None,
        client_names: Sequence[str] = (),
        limits: Limits | None = None,
        **kwargs: Any,
    ) -> None:
        if client_ca_file is not None:
            # kopf restarts the listener when certfile, pkeyfile or cafile change; naming the client CA
            # as `cafile` makes its rotation count too. (kopf would otherwise only copy `cafile` into
            # the caBundle of webhook configurations it manages, which it never does here.)
            kwargs["cafile"] = client_ca_file
        super().__init__(**kwargs)
        self.reviewer = reviewer
        self.on_serving: Callable[[bool], None] = lambda _serving: None
        self.client_ca_file = client_ca_file
        self.client_names = frozenset(client_names)
        self.intake = Intake(limits or Limits())
        self.parser = large.ParserProcess()
        # Set when the replica is about to stop: every answer then closes its connection, so clients
        # open new ones (to the replicas still ready) instead of reusing one that is about to close.
        self.draining = False

    @property
    def limits(self) -> Limits:
        return self.intake.limits

    def bind(self, reviewer: Reviewer, on_serving: Callable[[bool], None] | None = None) -> None:
        self.reviewer = reviewer
        if on_serving is not None:
            self.on_serving = on_serving

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:
        if self.reviewer is None:
            raise RuntimeError(
                "the admission server has no reviewer to answer with (see AdmissionServer.bind)"
            )
        await self.parser.start()  # ready before the first large body arrives
        try:
            # kopf's server yields once per (re)start of the HTTPS site, e.g. after a certificate change.
            async for client_config in super().__call__(fn):
                audit(
                    logger,
                    "admission webhook serving",
                    address=self.addr,
                    port=self.port,
                    path=PATH,
                    client_certificates="required" if self.client_ca_file else "not checked",
                )
                self.on_serving(True)
                yield client_config
        finally:
            self.on_serving(False)
            await self.parser.stop()

    def _build_ssl(self) -> tuple[bytes | None, ssl.SSLContext | None]:
        if self.certfile is None or self.pkeyfile is None:
            raise RuntimeError("the admission server needs a certificate and key file (HTTPS only)")
        return None, server_context(self.certfile, self.pkeyfile, self.client_ca_file)

    async def _serve(self, fn: Any, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:  # type: ignore[override]
        response = await self._answer(request)
        if self.draining:
            response.force_close()
        return response

    async def _answer(self, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        """One POST: check, read, review and record it; never raises."""
        started = time.perf_counter()
        if request.match_info.get("id") != WEBHOOK_ID:
            return _status_response(
                404, "NotFound", f"no webhook at {request.path}; the webhook path is {PATH}"
            )
        if (stranger := self._unexpected_client(request)) is not None:
            record_refusal("client_certificate")
            return await _refuse(request, _status_response(403, "Forbidden", stranger))
        limits = self.limits
        declared = request.content_length
        if declared is not None and declared > limits.max_body:
            return await self._too_large(request, f"the body is {declared} bytes")
        try:
            async with self.intake.admit(large=declared is None or declared > limits.inline_body):
                body = await _read(request, limits)
                status, payload, outcome = await self._judge(body)
        except Busy as busy:
            record_refusal("busy")
            response = _status_response(429, "TooManyRequests", f"gpai-operator is busy: {busy}")
            response.headers["Retry-After"] = str(limits.retry_after)
            return await _refuse(request, response)
        except _TooLarge:
            return await self._too_large(request, "the body (sent in chunks) is larger")
        except _ReadTimeout:
            record_refusal("read_timeout")
            message = f"the body did not arrive within {limits.read_timeout:g} s"
            return await _refuse(request, _status_response(408, "RequestTimeout", message))
        record(outcome, time.perf_counter() - started)
        return aiohttp.web.Response(status=status, body=payload, content_type="application/json")

    async def _judge(self, body: bytes) -> tuple[int, bytes, Outcome]:
        """(HTTP status, encoded answer, outcome): large bodies are parsed in another process (large.py)."""
        reviewer = self.reviewer
        assert reviewer is not None  # checked in __call__
        try:
            if len(body) > self.limits.inline_body:
                return await large.judge(self.parser, reviewer, body)
            answer = reviewer(body)
            return answer.status, json.dumps(answer.body, separators=(",", ":")).encode(), answer.outcome
        except Exception:  # review() never raises; this is the net under it
            audit_exception(logger, "admission request failed")
            failure = _status_body(500, "InternalError", "gpai-operator failed to answer; see its log")
            return 500, failure, Outcome("", "Other", "Error")

    async def _too_large(self, request: aiohttp.web.Request, what: str) -> aiohttp.web.StreamResponse:
        record_refusal("body_too_large")
        most = self.limits.max_body
        message = f"{what}; the webhook takes at most {most} bytes, the most kube-apiserver can send"
        return await _refuse(request, _status_response(413, "RequestEntityTooLarge", message))

    def _unexpected_client(self, request: aiohttp.web.Request) -> str | None:
        """Why the client's certificate is not one of `client_names`; None when it is (or no names)."""
        if not self.client_names:
            return None
        transport = request.transport
        certificate = transport.get_extra_info("peercert") if transport is not None else None
        names = _certificate_names(certificate or {})
        if names & self.client_names:
            return None
        shown = ", ".join(sorted(names)) or "none"
        return f"the client certificate's names ({shown}) are not among the webhook's allowed clients"


class _TooLarge(Exception):
    pass


class _ReadTimeout(Exception):
    pass


async def _read(request: aiohttp.web.Request, limits: Limits) -> bytes:
    """The whole body, up to `limits.max_body` bytes, within `limits.read_timeout` seconds."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(limits.read_timeout):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > limits.max_body:
                    raise _TooLarge
                chunks.append(chunk)
    except TimeoutError:
        raise _ReadTimeout from None
    return b"".join(chunks)


async def _refuse(request: aiohttp.web.Request, response: aiohttp.web.Response) -> aiohttp.web.StreamResponse:
    """Send `response` now and, if the body was not read, drop the connection after REFUSAL_GRACE.

    Reading the rest of a body only to discard it (aiohttp's lingering close) would let a client make
    the server decrypt gigabytes; closing right away could reset the connection before the client has
    read the answer. So the answer is flushed, reading stops, and the connection is aborted shortly
    after (Go's HTTP server does the same).
    """
    if request.content.at_eof():
        return response
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    transport = request.transport
    if transport is not None:
        transport.pause_reading()
        await asyncio.sleep(REFUSAL_GRACE)
        transport.abort()
    request.protocol.force_close()  # no lingering read of what the client still sends
    return response


def _certificate_names(certificate: Mapping[str, Any]) -> set[str]:
    names = {value for rdn in certificate.get("subject", ()) for key, value in rdn if key == "commonName"}
    names |= {value for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"}
    return names


def _status_body(code: int, reason: str, message: str) -> bytes:
    status = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return json.dumps(status, separators=(",", ":")).encode()


def _status_response(code: int, reason: str, message: str) -> aiohttp.web.Response:
    return aiohttp.web.Response(
        status=code, body=_status_body(code, reason, message), content_type="application/json"
    )
