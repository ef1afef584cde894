"""The operator (`gpai run`) SIGKILLed in the middle of writing a thousand statuses, then started
again: it must finish the job without rewriting what was already right, and a restart with
everything in place must be quick and write nothing.

The audit log is the witness: it records every request of the operator's own identity as it
completes, so the test kills the process once a few hundred status patches have gone through, and
counts what each run wrote.
"""

from __future__ import annotations

import time
from collections import Counter

from gpai_operator.testing import audit
from gpai_operator.testing.oracle import wait_until_right
from tests.integration.faults.conftest import Faults, utc_now

MODELS = 1000
KILL_AFTER = 300  # status patches


def status_patches(requests: list[audit.Request]) -> list[audit.Request]:
    return [
        r for r in requests if r.resource == "gpaimodels" and r.subresource == "status" and r.verb == "patch"
    ]


def reconciled(metrics: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("gpai_reconcile_total{") and 'result="standby"' not in line:
            total += float(line.rpartition(" ")[2])
    return total


def test_an_operator_killed_while_writing_a_thousand_statuses_finishes_after_a_restart(faults: Faults):
    churn = faults.churn(seed=4)
    churn.populate(models=MODELS, documented=0.0, workloads=0, workers=16)  # none has its documentation
    assert len(churn.models) == MODELS, dict(churn.counts)
    operator = faults.operator("a", wait=False)

    deadline = time.monotonic() + 120
    written = faults.tail("a")
    patched = 0
    while (patched := patched + len(status_patches(written.read()))) < KILL_AFTER:
        assert time.monotonic() < deadline, "the operator did not write 300 statuses within 120 s"
        assert operator.process.exit_code() is None, "the operator exited"
        time.sleep(0.05)
    operator.process.kill()
    before = status_patches(faults.requests("a"))
    assert KILL_AFTER <= len(before) < MODELS, f"killed after {len(before)} status patches, not in the middle"

    restarted = utc_now()
    operator.start_again()
    ready = operator.wait_ready()
    converged = wait_until_right(faults.api, utc_now, 120, namespaces=set(faults.namespaces))
    after = [r for r in status_patches(faults.requests("a")) if r.received > restarted]
    written_before = {(r.namespace, r.name) for r in before if r.succeeded}
    rewritten = [r for r in after if (r.namespace, r.name) in written_before]
    print(
        f"killed after {len(before)} status patches; the restart was ready in {ready:.1f} s, "
        f"wrote {len(after)} statuses ({len(rewritten)} of models already written) and was right "
        f"{converged:.1f} s after ready"
    )
    assert len(rewritten) <= 32, (  # at most the writes in flight at the kill (32 at a time)
        f"the restart rewrote {len(rewritten)} statuses that were already right"
    )
    events = Counter(
        (r.namespace, r.name) for r in faults.requests("a") if r.resource == "events" and r.verb == "create"
    )
    assert sum(events.values()) <= MODELS, f"{sum(events.values())} Events for {MODELS} first evaluations"

    # A restart with the thousand models in place: how long until ready, and it writes nothing.
    operator.stop()  # SIGTERM
    restarted = utc_now()
    operator.start_again()
    ready = operator.wait_ready()
    started = time.monotonic()
    while reconciled(operator.metrics()) < MODELS:  # its first full pass
        assert time.monotonic() - started < 60, "the restarted operator never reconciled every model"
        time.sleep(0.1)
    full_pass = ready + time.monotonic() - started
    time.sleep(1)
    writes = [
        r for r in faults.requests("a") if r.received > restarted and r.write and r.resource != "leases"
    ]
    print(
        f"restart with {MODELS} models in place: ready in {ready:.2f} s, first full pass after "
        f"{full_pass:.2f} s, {len(writes)} writes"
    )
    assert writes == [], f"a restart with nothing changed wrote {len(writes)} times, e.g. {writes[:3]}"
