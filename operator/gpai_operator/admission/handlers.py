"""How the operator wires the webhook in: `register` binds it to the runtime, `build_server` serves it.

`gpai run` (gpai_operator/app.py) does, before starting kopf:

    register(registry, runtime)
    settings.admission.server = build_server(address, port, certfile, keyfile, runtime=runtime)

(`runtime=` may be left out when one runtime is registered in the process; the server then binds
itself to it when kopf starts it.)

No `@kopf.on.validate` handler is registered: requests never go through kopf's per-handler machinery
(server.py says why); kopf's routing convention is kept (the webhook is `/<handler id>`, `/validate`).
`settings.admission.managed` stays unset: the webhook configuration is the chart's, and the operator
never creates or patches it (SPEC section 4).
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import kopf

from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.admission.intake import Limits
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.admission.outcome import Answer
from gpai_operator.admission.review import review
from gpai_operator.admission.server import PATH, AdmissionServer, Reviewer
from gpai_operator.runtime import Runtime, audit, audit_exception

logger = logging.getLogger("gpai_operator.admission")

__all__ = ["PATH", "AdmissionServer", "bind", "build_server", "register", "reviewer_for"]


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


def register(
    registry: kopf.OperatorRegistry, runtime: Runtime, trusted: TrustedControllers = DEFAULT_TRUST
) -> None:
    """Makes the admission server that kopf runs (`settings.admission.server`) answer from `runtime`.

    A startup activity binds the server if it is already set; a server set by a later startup
    handler binds itself when kopf starts it (after every startup handler) to the runtime registered
    here, so the order of startup handlers does not matter. The activity also refuses
    `settings.admission.managed`: the operator never creates or patches webhook configurations.
    """
    _REGISTERED[registry] = (runtime, trusted)

    @kopf.on.startup(registry=registry, id="gpai-admission")
    def bind_admission_server(settings: kopf.OperatorSettings, **_: Any) -> None:
        if settings.admission.managed:
            raise kopf.PermanentError(
                "settings.admission.managed is set: gpai-operator never creates or patches webhook "
                "configurations (the chart renders them); leave it unset"
            )
        server = settings.admission.server
        if isinstance(server, AdmissionServer) and server.reviewer is None:
            bind(server, runtime, trusted)


def bind(server: AdmissionServer, runtime: Runtime, trusted: TrustedControllers = DEFAULT_TRUST) -> None:
    server.bind(reviewer_for(runtime, trusted), on_serving=_serving_flag(runtime))


def build_server(
    address: str,
    port: int,
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str],
    *,
    runtime: Runtime | None = None,
    trusted: TrustedControllers = DEFAULT_TRUST,
    client_ca_file: str | os.PathLike[str] | None = None,
    client_names: Sequence[str] = (),
    limits: Limits | None = None,
) -> AdmissionServer:
    """The HTTPS admission endpoint at https://address:port/validate with the given certificate files.

    kopf re-reads the files every 60 s and restarts the listener when they change, so a rotated
    certificate (or client CA) is picked up without a restart. Without `runtime`, the server answers
    from the runtime given to `register` (the only one in the process). With `client_ca_file`, only
    clients presenting a certificate issued by that CA are served (and, with `client_names`, only
    those whose certificate carries one of these names).
    """
    server = AdmissionServer(
        addr=address,
        port=port,
        certfile=os.fspath(certfile),
        pkeyfile=os.fspath(keyfile),
        late_binding=_bind_to_registered,
        client_ca_file=os.fspath(client_ca_file) if client_ca_file is not None else None,
        client_names=client_names,
        limits=limits,
    )
    if runtime is not None:
        bind(server, runtime, trusted)
    return server


# Runtimes given to `register`, by the kopf registry they serve; weak, so tests leave nothing behind.
_REGISTERED: weakref.WeakKeyDictionary[kopf.OperatorRegistry, tuple[Runtime, TrustedControllers]] = (
    weakref.WeakKeyDictionary()
)


def _bind_to_registered(server: AdmissionServer) -> None:
    runtimes = list(_REGISTERED.values())
    if len(runtimes) != 1:
        raise RuntimeError(
            "the admission server is not bound to a runtime: call "
            "gpai_operator.admission.handlers.register(registry, runtime) before the operator starts"
            + (
                ", or pass runtime= to build_server when several operators share the process"
                if runtimes
                else ""
            )
        )
    bind(server, *runtimes[0])


def _serving_flag(runtime: Runtime) -> Callable[[bool], None]:
    def set_serving(serving: bool) -> None:
        runtime.webhook_serving = serving

    return set_serving


def log_decision(fields: Mapping[str, str]) -> None:
    """One structured line per decision worth auditing (Deny, Warn, Audit, Error), in the operator's
    log format: `admission decision decision=Deny kind=Deployment namespace=ml name=chat ...`."""
    audit(logger, "admission decision", **fields)
