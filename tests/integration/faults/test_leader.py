"""Two replicas (`gpai run --leader-elect`, short timings), the leader lost during churn.

- Killed (SIGKILL): the other takes the Lease once it has not seen it renewed for the lease
  duration, plus at most a retry period to notice each change, and then writes; nothing is lost.
- Frozen (SIGSTOP) past its lease, then resumed (SIGCONT) after the other took over: the old
  leader must not write anything once the Lease has changed hands. The audit log is the evidence:
  each replica has its own client certificate, so every request says who sent it and when the API
  server received it.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

from gpai_operator.testing import audit
from gpai_operator.testing.audit import Request
from gpai_operator.testing.churn import Churn
from gpai_operator.testing.operator_process import OperatorProcess
from gpai_operator.testing.rest import request_json
from gpai_operator.testing.tcpproxy import Backend, TcpProxy
from tests.integration.faults.conftest import Faults

LEASE = "gpai-faults"
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 4.0, 3.0, 0.5
JITTER = 1.2  # retry periods are stretched by up to 20 %
SCHEDULING = 0.5  # seconds for processes on a busy 2-CPU machine


def start_replicas(
    faults: Faults, first_through: str | None = None
) -> tuple[OperatorProcess, OperatorProcess]:
    """Replica a (reaching the API server at `first_through` if given), leading once the Lease is
    its; then replica b, ready."""
    args = (
        "--leader-elect",
        f"--leader-election-namespace={faults.namespaces[0]}",
        f"--leader-election-id={LEASE}",
        f"--lease-duration={LEASE_DURATION:g}",
        f"--renew-deadline={RENEW_DEADLINE:g}",
        f"--retry-period={RETRY_PERIOD:g}",
    )
    kubeconfig = None
    if first_through is not None:
        kubeconfig = faults.plane.client_kubeconfig(
            faults.identity("a"), audit.OPERATORS, server=first_through
        )
    first = faults.operator("a", args=args, kubeconfig=kubeconfig)
    wait_for_holder(faults, faults.identity("a"), 10)
    second = faults.operator("b", args=args)
    return first, second


def holder(faults: Faults) -> str:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{faults.namespaces[0]}/leases/{LEASE}"
    return str(request_json(faults.api, "GET", path, timeout=5)["spec"].get("holderIdentity") or "")


def wait_for_holder(faults: Faults, identity: str, timeout: float) -> float:
    started = time.monotonic()
    while holder(faults) != identity:
        assert time.monotonic() - started < timeout, f"{identity} did not hold the Lease within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def lease_updates(requests: list[Request], user: str) -> list[Request]:
    return [r for r in requests if r.user == user and r.resource == "leases" and r.write and r.succeeded]


def first_write(requests: list[Request], user: str) -> Request:
    return next(r for r in requests if r.user == user and r.write and r.resource != "leases")


def test_when_the_leader_is_killed_the_other_replica_takes_over_within_the_lease(faults: Faults):
    churn = faults.churn(seed=5)
    churn.populate(models=30, documented=0.5, workloads=60)
    leader, _ = start_replicas(faults)
    faults.converge()

    burst = churn.in_background(seconds=12, rate=30, workers=3)
    time.sleep(3)
    leader.process.kill()
    killed = dt.datetime.now(dt.UTC)
    took_over = wait_for_holder(faults, faults.identity("b"), LEASE_DURATION + 10)
    burst.join()
    faults.converge()

    requests = faults.requests("a", "b")
    a, b = faults.identity("a"), faults.identity("b")
    last_renewal = lease_updates(requests, a)[-1].received
    acquired = next(r for r in lease_updates(requests, b) if r.received > last_renewal).received
    writing = first_write([r for r in requests if r.received >= acquired], b).received
    bound = LEASE_DURATION + 2 * RETRY_PERIOD * JITTER + SCHEDULING
    gap = (acquired - last_renewal).total_seconds()
    print(
        f"leader killed {(killed - last_renewal).total_seconds():.2f} s after its last renewal; "
        f"the other replica held the Lease {gap:.2f} s after that renewal ({took_over:.2f} s after the "
        f"kill, as seen by polling) and wrote {(writing - acquired).total_seconds():.2f} s later"
    )
    assert gap <= bound, f"took over {gap:.2f} s after the last renewal; the bound is {bound:.2f} s"


def test_a_frozen_leader_writes_nothing_once_the_other_replica_has_taken_over(faults: Faults):
    churn = faults.churn(seed=6)
    churn.populate(models=30, documented=0.5, workloads=60)
    # The first leader's network is slow (0.2 s each way), so its writes stay in flight a while: a
    # freeze catches some of them, as a long pause of a real process would.
    slow = TcpProxy([Backend("127.0.0.1", faults.plane.apiserver_port)], latency=0.2).start()
    try:
        frozen_during_writes(faults, churn, slow)
    finally:
        slow.stop()


def frozen_during_writes(faults: Faults, churn: Churn, slow: TcpProxy) -> None:
    leader, _ = start_replicas(faults, first_through=f"https://{slow.address}")
    faults.converge()

    burst = churn.in_background(seconds=16, rate=20, workers=2)
    time.sleep(3)
    # Frozen in the middle of a pass that writes: every model of a namespace changes compliance at
    # once, and the leader is stopped as soon as the first of their statuses is written.
    leader_requests = faults.tail("a")
    leader_requests.read()
    churn.toggle_copyright()
    deadline = time.monotonic() + 10
    while not any(r.subresource == "status" for r in leader_requests.read()):
        assert time.monotonic() < deadline, "the leader wrote no status after the copyright policy changed"
        time.sleep(0.002)
    leader.process.signal(signal.SIGSTOP)
    try:
        wait_for_holder(faults, faults.identity("b"), LEASE_DURATION + 10)
        time.sleep(2)  # the new leader writes meanwhile
    finally:
        leader.process.signal(signal.SIGCONT)
    burst.join()
    faults.converge()

    requests = faults.requests("a", "b")
    a, b = faults.identity("a"), faults.identity("b")
    takeover = next(r for r in lease_updates(requests, b)).received
    late = [r for r in requests if r.user == a and r.write and r.received >= takeover]
    written = [r for r in requests if r.user == a and r.write and r.resource != "leases"]
    assert written, "the first leader wrote nothing before it was frozen: the test proves nothing"
    assert late == [], (
        f"the old leader sent {len(late)} writes after {b} took the Lease at {takeover.isoformat()}: "
        + "; ".join(f"{r.received.isoformat()} {r.verb} {r.uri}" for r in late[:10])
    )
