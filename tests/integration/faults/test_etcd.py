"""etcd killed (SIGKILL) and started again on its data folder during churn: kube-apiserver loses its
storage for a second, requests fail, its watches on etcd resume. Nothing may be lost."""

from __future__ import annotations

import time

from tests.integration.faults.conftest import Faults


def test_the_operator_converges_after_etcd_is_killed_and_restarted_during_churn(faults: Faults):
    churn = faults.churn(seed=2)
    churn.populate(models=30, documented=0.5, workloads=60)
    operator = faults.operator()
    faults.converge()

    burst = churn.in_background(seconds=10, rate=40, workers=4)
    time.sleep(3)
    down = faults.plane.restart("etcd", down=3.0)
    burst.join()

    failed = {what: n for what, n in churn.counts.items() if "failed" in what}
    assert operator.process.exit_code() is None, "the operator exited when etcd went away"
    seconds = faults.converge()
    print(f"etcd down and back in {down:.1f} s; converged {seconds:.1f} s after the churn; failed: {failed}")
