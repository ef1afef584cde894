"""Policy reports against the real API server and the real OpenReports and wgpolicyk8s CRDs (from
their Go modules): written per namespace by the leader only, accepted by the real schema as written,
rewritten when evidence changes and only then, removed with their subjects, in either format."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator.controller.leadership import LeaseSettings
from gpai_operator.policy_reports import NAME
from gpai_operator.testing.rest import request_json
from tests.integration.operator.helpers import Kube, stays, wait_for
from tests.unit.engine import builders as b

OPENREPORTS = "/apis/openreports.io/v1alpha1"
WGPOLICYK8S = "/apis/wgpolicyk8s.io/v1alpha2"


def get(api: ApiClient, path: str) -> dict[str, Any] | None:
    try:
        return request_json(api, "GET", path)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def namespace_report(api: ApiClient, namespace: str, root: str = OPENREPORTS, plural: str = "reports") -> Any:
    return get(api, f"{root}/namespaces/{namespace}/{plural}/{NAME}")


def cluster_entries(api: ApiClient, namespace: str, root: str = OPENREPORTS, plural: str = "clusterreports"):
    report = get(api, f"{root}/{plural}/{NAME}") or {"results": []}
    return {
        r["resources"][0]["name"]: r["result"]
        for r in report.get("results") or []
        if r["resources"][0]["namespace"] == namespace
    }


def results(report: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    return {(r["resources"][0]["name"], r["rule"]): r["result"] for r in (report or {}).get("results") or []}


def test_a_namespace_report_is_written_rewritten_when_evidence_changes_and_only_then(
    start_operator, api_client: ApiClient, kube: Kube, namespace: str
):
    operator = start_operator(reports="openreports")
    model, *evidence = b.frontier(namespace=namespace)
    kube.create(model)
    kube.create(b.workload(namespace=namespace))

    def complete() -> dict[str, Any] | None:
        report = namespace_report(api_client, namespace)
        return report if report and len({name for name, _ in results(report)}) == 2 else None

    report = wait_for(complete, "the namespace's Report on the model and the Deployment")
    assert report["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "gpai-operator"
    found = results(report)
    assert found[(b.MODEL, "systemic-risk/evaluation")] == "fail"
    assert found[("chat", "workload/model-compliant")] == "fail"
    assert report["summary"]["fail"] == sum(1 for r in found.values() if r == "fail")
    # The server kept every field as written (a field its schema lacks would have been pruned).
    assert report["results"][0]["resources"][0]["uid"] == kube.get(model)["metadata"]["uid"]
    assert wait_for(lambda: cluster_entries(api_client, namespace), "the cluster report") == {b.MODEL: "fail"}

    for obj in evidence:
        kube.create(obj)
    wait_for(
        lambda: set(results(namespace_report(api_client, namespace)).values()) == {"pass"},
        "every result pass",
    )
    wait_for(lambda: cluster_entries(api_client, namespace) == {b.MODEL: "pass"}, "the cluster report's pass")

    # Converged: neither more passes nor the clock change a thing.
    version = namespace_report(api_client, namespace)["metadata"]["resourceVersion"]
    operator.operator.runtime.clock.advance(dt.timedelta(hours=6))
    assert operator.operator.reconciler is not None
    operator.operator.reconciler.enqueue_all()
    stays(
        lambda: namespace_report(api_client, namespace)["metadata"]["resourceVersion"] == version,
        "the report unchanged",
    )


def test_reports_go_with_their_subjects(start_operator, api_client: ApiClient, kube: Kube, namespace: str):
    start_operator(reports="openreports")
    model = b.model(namespace=namespace)
    deployment = b.workload(namespace=namespace)
    kube.create(model)
    kube.create(deployment)
    wait_for(
        lambda: ("chat", "workload/model-compliant") in results(namespace_report(api_client, namespace)),
        "the workload's result",
    )

    kube.delete(deployment)
    wait_for(
        lambda: ("chat", "workload/model-compliant") not in results(namespace_report(api_client, namespace)),
        "the workload's result gone",
    )

    kube.delete(model)
    wait_for(lambda: namespace_report(api_client, namespace) is None, "the empty namespace's report deleted")
    wait_for(lambda: cluster_entries(api_client, namespace) == {}, "the model gone from the cluster report")


def test_only_the_leader_writes_reports(start_operator, api_client: ApiClient, kube: Kube, namespace: str):
    lease = LeaseSettings(
        f"gpai-{namespace}", namespace, lease_duration=3, renew_deadline=2, retry_period=0.3
    )
    held = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": lease.name, "namespace": namespace},
        "spec": {
            "holderIdentity": "another-replica",
            "leaseDurationSeconds": 3600,
            "renewTime": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    }
    request_json(api_client, "POST", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases", body=held)
    standby = start_operator(reports="openreports", identity=f"{namespace}-b", leader_election=lease)
    kube.create(b.model(namespace=namespace))
    wait_for(lambda: (namespace, b.MODEL) in standby.operator.runtime.verdicts, "the standby's verdict")
    stays(lambda: namespace_report(api_client, namespace) is None, "no report from a standby")

    request_json(
        api_client, "DELETE", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{lease.name}"
    )
    wait_for(lambda: standby.operator.leading, "the replica to lead", timeout=10)
    wait_for(lambda: namespace_report(api_client, namespace), "the leader's report")


def test_the_wgpolicyk8s_format_writes_policy_reports_the_real_schema_accepts(
    start_operator, api_client: ApiClient, kube: Kube, namespace: str
):
    start_operator(reports="wgpolicyk8s")
    kube.create(b.model(namespace=namespace))
    kube.create(b.workload("Pod", "notebook", model_name="missing", namespace=namespace))

    def complete() -> dict[str, Any] | None:
        report = namespace_report(api_client, namespace, WGPOLICYK8S, "policyreports")
        return report if report and len({name for name, _ in results(report)}) == 2 else None

    report = wait_for(complete, "the PolicyReport on the model and the Pod")
    assert report["kind"] == "PolicyReport"
    found = results(report)
    assert found[(b.MODEL, "systemic-risk/evaluation")] == "fail"
    assert found[("notebook", "workload/model-exists")] == "fail"
    assert namespace_report(api_client, namespace) is None  # no openreports Report
    entries = wait_for(
        lambda: cluster_entries(api_client, namespace, WGPOLICYK8S, "clusterpolicyreports"),
        "the ClusterPolicyReport",
    )
    assert entries == {b.MODEL: "fail"}
