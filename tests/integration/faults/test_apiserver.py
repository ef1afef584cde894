"""kube-apiserver killed (SIGKILL) and started again on the same port and etcd, in the middle of a
burst of changes: the operator's watches break, resume against an API server whose watch cache is
new (so they expire, 410 Gone, and the operator lists again), its writes fail meanwhile and are retried.
Afterwards every status and annotation must be what the engine computes from a fresh listing."""

from __future__ import annotations

import time

from tests.integration.faults.conftest import Faults


def test_the_operator_converges_after_the_api_server_is_killed_during_a_burst_of_changes(faults: Faults):
    churn = faults.churn(seed=1)
    churn.populate(models=30, documented=0.5, workloads=60)
    operator = faults.operator()
    faults.converge()

    burst = churn.in_background(seconds=12, rate=40, workers=4)
    time.sleep(3)
    down = faults.plane.restart("kube-apiserver", down=1.0)
    burst.join()

    assert sum(n for what, n in churn.counts.items() if "unreachable" in what) > 0, (
        f"the burst never met the API server down: {dict(churn.counts)}"
    )
    assert operator.process.exit_code() is None, "the operator exited when the API server went away"
    seconds = faults.converge()
    print(f"API server down and back in {down:.1f} s; converged {seconds:.1f} s after the burst")
