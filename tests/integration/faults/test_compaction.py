"""etcd compacted while the operator's watches are cut off: they resume from a revision etcd no longer
has, get 410 Gone and the operator lists again. Objects deleted while the watches were away are in no
listing and in no watch event: the operator must still forget them.

The control plane of this module runs kube-apiserver with `--watch-cache=false`, so watches are
served by etcd itself and the compaction is what expires them. (With the watch cache, the default, a
resumed watch is served from the cache's window of recent events, and expires when the API server
restarts or the window has moved on: test_apiserver.py.) The operator reaches the API server through
a TCP proxy (testing/tcpproxy.py) that the test partitions: every connection reset, new ones too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from gpai_operator.testing import audit, etcd
from gpai_operator.testing.controlplane import ControlPlane
from gpai_operator.testing.tcpproxy import Backend, TcpProxy
from tests.integration.faults.conftest import Faults, start_plane


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    started = start_plane(extra_apiserver_args=("--watch-cache=false",))
    yield started
    started.stop()


def test_objects_deleted_while_the_watches_were_away_are_forgotten_after_a_compaction(faults: Faults):
    churn = faults.churn(seed=3)
    churn.populate(models=30, documented=0.7, workloads=60)
    with TcpProxy([Backend("127.0.0.1", faults.plane.apiserver_port)]) as proxy:
        user = faults.identity("a")
        kubeconfig = faults.plane.client_kubeconfig(user, audit.OPERATORS, server=f"https://{proxy.address}")
        faults.operator("a", kubeconfig=kubeconfig)
        faults.converge()

        proxy.partition()
        cut = dt.datetime.now(dt.UTC)
        for _ in range(5):  # deletions the watches will never report, then anything else
            churn.undocument()
            churn.delete_model()
            churn.delete_workload()
        churn.toggle_copyright()
        churn.run(seconds=3, rate=20, workers=2)
        compacted = etcd.compact(faults.plane.etcd_url)
        proxy.heal()

        def relisted() -> bool:
            return any(r.verb == "list" and r.received > cut for r in faults.requests("a"))

        faults.converge()
        assert relisted(), (
            f"the watches never expired after compacting at revision {compacted}: no new listing"
        )
