"""What the operator process's parts share, below every entry point (controller, admission, cli).

- `Runtime`: the cluster state the watches keep, the verdicts the reconciler computes, the clock,
  and the flags the probes read; the webhook only reads it.
- `Clock`, `SystemClock`, `ManualClock`: the engine never reads time; the operator passes `now` in.
- `audit`, `audit_exception`, `configure`: structured logs, one line per decision or failure.
- `server_context`, `ReloadingContext`: one TLS policy for the HTTPS listeners (webhook, metrics).
"""

from gpai_operator.runtime.clock import Clock, ManualClock, SystemClock
from gpai_operator.runtime.logs import audit, audit_exception, configure
from gpai_operator.runtime.shared import Runtime
from gpai_operator.runtime.tls import ReloadingContext, server_context

__all__ = [
    "Clock",
    "ManualClock",
    "ReloadingContext",
    "Runtime",
    "SystemClock",
    "audit",
    "audit_exception",
    "configure",
    "server_context",
]
