"""Policy reports written through the derived-objects mechanism, against the in-memory API: per
namespace and for the cluster, only by the leader, only when a verdict changed, gone with their
subjects, in either format."""

from __future__ import annotations

import asyncio
import datetime as dt

from gpai_operator.controller.derived import MANAGED_BY, MANAGED_BY_LABEL, DerivedSource
from gpai_operator.controller.derived_kinds import policy_reports
from gpai_operator.policy_reports import NAME, OPENREPORTS, WGPOLICYK8S
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b

NS, MODEL = b.NS, b.MODEL


def started(
    *objs: dict, leading: bool = True, sources: tuple[DerivedSource, ...] | None = None
) -> FakeCluster:
    cluster = FakeCluster(
        b.NOW, leading=leading, derived=list(sources or policy_reports(OPENREPORTS)), retry_delay=0.01
    ).load(objs)
    asyncio.run(cluster.settle())
    return cluster


def report(cluster: FakeCluster, namespace: str = NS) -> dict:
    return cluster.get("Report", namespace, NAME)


def rules(cluster: FakeCluster, namespace: str = NS) -> dict[tuple[str, str], str]:
    return {
        (r["resources"][0]["name"], r["rule"]): r["result"] for r in report(cluster, namespace)["results"]
    }


def report_writes(cluster: FakeCluster, since: int = 0) -> list[tuple[str, tuple[str, str, str]]]:
    return [(op, key) for op, key, _ in cluster.writes[since:] if "Report" in key[0]]


def test_each_namespace_gets_its_report_and_the_cluster_its_summary():
    cluster = started(b.namespace(NS), b.namespace("empty"), b.model(), b.policy("enforce"), b.workload())

    assert set(cluster.of_kind("Report")) == {(NS, NAME)}  # "empty" holds nothing to report
    assert set(cluster.of_kind("ClusterReport")) == {("", NAME)}
    ours = report(cluster)
    assert ours["apiVersion"] == "openreports.io/v1alpha1"
    assert ours["metadata"]["labels"] == {MANAGED_BY_LABEL: MANAGED_BY}
    assert rules(cluster)[(MODEL, "systemic-risk/evaluation")] == "fail"
    assert rules(cluster)[("chat", "workload/model-compliant")] == "fail"
    assert cluster.get("ClusterReport", "", NAME)["summary"]["fail"] == 1


def test_a_change_of_evidence_rewrites_the_report_and_the_summary():
    cluster = started(b.namespace(NS), b.model(), b.policy("enforce"), b.workload())
    before = len(cluster.writes)

    cluster.add(*b.frontier()[1:])

    assert set(rules(cluster).values()) == {"pass"}
    assert cluster.get("ClusterReport", "", NAME)["summary"]["pass"] == 1
    assert sorted(report_writes(cluster, before)) == [
        ("apply", ("ClusterReport", "", NAME)),
        ("apply", ("Report", NS, NAME)),
    ]


def test_nothing_is_written_when_converged_as_time_passes_nor_after_a_restart():
    cluster = started(b.namespace(NS), *b.frontier(), b.policy("enforce"), b.workload())
    writes = len(cluster.writes)
    cluster.clock.advance(dt.timedelta(hours=3))
    cluster.reconciler.enqueue_all()
    asyncio.run(cluster.settle())
    assert report_writes(cluster, writes) == []

    again = FakeCluster(cluster.clock.now(), derived=list(policy_reports(OPENREPORTS)), retry_delay=0.01)
    again.load(list(cluster.objects.values()))
    asyncio.run(again.settle())
    assert report_writes(again) == []


def test_reports_go_with_their_subjects():
    cluster = started(
        b.namespace(NS), b.model(), b.workload(), b.workload(name="other", namespace="team-b", model_name="x")
    )
    assert set(cluster.of_kind("Report")) == {(NS, NAME), ("team-b", NAME)}

    cluster.delete("Deployment", NS, "chat")
    asyncio.run(cluster.settle())
    assert (("chat", "workload/model-compliant")) not in rules(cluster)

    cluster.delete("GPAIModel", NS, MODEL)
    cluster.delete("Deployment", "team-b", "other")
    asyncio.run(cluster.settle())
    assert cluster.of_kind("Report") == {}
    assert cluster.get("ClusterReport", "", NAME)["results"] == []


def test_a_standby_replica_writes_no_report():
    cluster = started(b.namespace(NS), b.model(), leading=False)
    assert report_writes(cluster) == []
    assert cluster.of_kind("Report") == {}


def test_the_wgpolicyk8s_format_writes_the_same_results_as_policy_reports():
    cluster = started(b.namespace(NS), b.model())
    old_report = report(cluster)

    switched = FakeCluster(
        cluster.clock.now(),
        derived=list(policy_reports(WGPOLICYK8S)),
        retry_delay=0.01,
    )
    switched.load(list(cluster.objects.values()))
    asyncio.run(switched.settle())

    new_report = switched.get("PolicyReport", NS, NAME)
    assert new_report["apiVersion"] == "wgpolicyk8s.io/v1alpha2"
    assert new_report["results"] == old_report["results"]
    assert set(switched.of_kind("ClusterPolicyReport")) == {("", NAME)}
