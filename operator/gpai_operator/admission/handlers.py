"""How the operator wires the webhook in: `build_server` makes it answer from the runtime, and
serving.WebhookThread runs it on a thread of its own.

`gpai run` (gpai_operator/app.py) does:

    server = build_server(address, port, certfile, keyfile, runtime=runtime, trusted=trusted)
    WebhookThread(server).start()

kopf does not run it (`settings.admission.server` stays unset): on kopf's loop a review would wait
behind every watch event and write. No `@kopf.on.validate` handler exists either: requests never go
through kopf's per-handler machinery (server.py says why); kopf's routing convention is kept (the
webhook is `/<handler id>`, `/validate`). `settings.admission.managed` stays unset: the webhook
configuration is the chart's, and the operator never creates or patches it (SPEC section 4).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.admission.intake import Limits
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.outcome import Answer
from gpai_operator.admission.review import review
from gpai_operator.admission.server import PATH, AdmissionServer, Reviewer
from gpai_operator.runtime import Runtime, audit, audit_exception

logger = logging.getLogger("gpai_operator.admission")

__all__ = ["PATH", "AdmissionServer", "bind", "build_server", "reviewer_for"]


def reviewer_for(runtime: Runtime, trusted: TrustedControllers = DEFAULT_TRUST) -> Reviewer:
    """The request handler: the pure review at the runtime clock's `now`, plus its audit log line."""

    memo = VerdictMemo()

    def answer(body: bytes | Mapping[str, Any]) -> Answer:
        result = review(body, runtime, runtime.clock.now(), memo, trusted)
        if result.log:
            try:
                log_decision(result.log)
            except Exception:  # a log line is not worth a failed answer
                audit_exception(logger, "admission decision not logged")
        return result

    return answer


def bind(server: AdmissionServer, runtime: Runtime, trusted: TrustedControllers = DEFAULT_TRUST) -> None:
    server.bind(reviewer_for(runtime, trusted), on_serving=_serving_flag(runtime))


def build_server(
    address: str,
    port: int,
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str],
    *,
    runtime: Runtime,
    trusted: TrustedControllers = DEFAULT_TRUST,
    client_ca_file: str | os.PathLike[str] | None = None,
    client_names: Sequence[str] = (),
    limits: Limits | None = None,
) -> AdmissionServer:
    """The HTTPS admission endpoint at https://address:port/validate with the given certificate files.

    kopf's WebhookServer re-reads the files every 60 s and restarts the listener when they change, so a
    rotated certificate (or client CA) is picked up without a restart. With `client_ca_file`, only
    clients presenting a certificate issued by that CA are served (and, with `client_names`, only
    those whose certificate carries one of these names).
    """
    server = AdmissionServer(
        addr=address,
        port=port,
        certfile=os.fspath(certfile),
        pkeyfile=os.fspath(keyfile),
        client_ca_file=os.fspath(client_ca_file) if client_ca_file is not None else None,
        client_names=client_names,
        limits=limits,
    )
    bind(server, runtime, trusted)
    return server


def _serving_flag(runtime: Runtime) -> Callable[[bool], None]:
    def set_serving(serving: bool) -> None:
        runtime.webhook_serving = serving

    return set_serving


def log_decision(fields: Mapping[str, str]) -> None:
    """One structured line per decision worth auditing (Deny, Warn, Audit, Error), in the operator's
    log format: `admission decision decision=Deny kind=Deployment namespace=ml name=chat ...`."""
    audit(logger, "admission decision", **fields)
