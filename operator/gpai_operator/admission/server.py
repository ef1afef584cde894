"""The HTTPS endpoint: kopf's WebhookServer, answering with our reviewer instead of kopf's handlers.

kopf's WebhookServer brings what we want from it: TLS from certificate files, restarting itself when
those files change (certificate rotation), and running as one of the operator's root tasks, under
`settings.admission.server`, after kopf has scanned the cluster's resources. What we replace is the
per-request step (`_serve`), because kopf's own path cannot give SPEC section 4's answers:

- a body that is not JSON becomes a plain-text 400, and one without `request` or `uid` raises
  inside kopf and becomes a plain-text 500; we answer both with a metav1.Status JSON body;
- kopf reads bodies through aiohttp's 1 MiB default limit, below the size of an AdmissionReview
  carrying two large objects (kube-apiserver accepts 3 MiB requests); we read up to `MAX_BODY`;
- a rejection must be raised as an exception, logged by kopf as a handler failure, and its answer
  has no `reason` and no `auditAnnotations`; ours is built as data (review.py) and unit-tested as such;
- per request, kopf builds a cause, a diff of the whole object and a memo before any handler
  runs: work the answer does not need, on the path whose latency every API request pays.

Only POSTs to `/validate` (kopf's `/{handler id}` routing with the id `validate`) are reviewed;
any other path gets a 404 Status.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp.web
import kopf

from gpai_operator.admission.metrics import record
from gpai_operator.admission.outcome import Answer, Outcome

logger = logging.getLogger("gpai_operator.admission")

WEBHOOK_ID = "validate"
PATH = f"/{WEBHOOK_ID}"
MAX_BODY = 16 * 1024 * 1024  # kube-apiserver sends at most two objects of its 3 MiB request limit

Reviewer = Callable[[bytes], Answer]


class AdmissionServer(kopf.WebhookServer):
    """kopf.WebhookServer on fixed certificate files, answering `/validate` with `reviewer`.

    The reviewer is given at construction, by `bind`, or at start by `late_binding` (handlers.py);
    starting without one is a configuration error, reported when kopf starts the server.
    """

    def __init__(
        self,
        *,
        reviewer: Reviewer | None = None,
        late_binding: Callable[[AdmissionServer], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reviewer = reviewer
        self.on_serving: Callable[[bool], None] = lambda _serving: None
        self._late_binding = late_binding

    def bind(self, reviewer: Reviewer, on_serving: Callable[[bool], None] | None = None) -> None:
        self.reviewer = reviewer
        if on_serving is not None:
            self.on_serving = on_serving

    async def __call__(self, fn: Any) -> AsyncIterator[Any]:
        if self.reviewer is None and self._late_binding is not None:
            self._late_binding(self)
        if self.reviewer is None:
            raise RuntimeError(
                "the admission server has no reviewer to answer with (see AdmissionServer.bind)"
            )
        try:
            # kopf's server yields once per (re)start of the HTTPS site, e.g. after a certificate change.
            async for client_config in super().__call__(fn):
                logger.info(
                    "admission webhook serving address=%s port=%s path=%s", self.addr, self.port, PATH
                )
                self.on_serving(True)
                yield client_config
        finally:
            self.on_serving(False)

    async def _serve(self, fn: Any, request: aiohttp.web.Request) -> aiohttp.web.Response:  # type: ignore[override]
        """One POST: read the body, review it, record metrics; never raises."""
        started = time.perf_counter()
        if request.match_info.get("id") != WEBHOOK_ID:
            return _status_response(
                404, "NotFound", f"no webhook at {request.path}; the webhook path is {PATH}"
            )
        try:
            body = await _read(request)
        except _TooLarge:
            return _status_response(413, "RequestEntityTooLarge", f"the body exceeds {MAX_BODY} bytes")
        reviewer = self.reviewer
        assert reviewer is not None  # checked in __call__
        try:
            answer = reviewer(body)
            payload = json.dumps(answer.body, separators=(",", ":")).encode()
        except Exception:  # review() never raises; this is the net under it
            logger.exception("admission request failed")
            record(Outcome("", "Other", "Error"), time.perf_counter() - started)
            return _status_response(500, "InternalError", "gpai-operator failed to answer; see its log")
        record(answer.outcome, time.perf_counter() - started)
        return aiohttp.web.Response(status=answer.status, body=payload, content_type="application/json")


class _TooLarge(Exception):
    pass


async def _read(request: aiohttp.web.Request) -> bytes:
    """The whole body, up to MAX_BODY bytes (aiohttp's own limit, 1 MiB, is too small)."""
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _status_response(code: int, reason: str, message: str) -> aiohttp.web.Response:
    status = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return aiohttp.web.json_response(status, status=code)
