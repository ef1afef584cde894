"""Restarts, policies that select namespaces, every workload kind, replicas, probes and start-up errors."""

from __future__ import annotations

import copy
import functools
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme
import yaml

from gpai_operator.controller.annotations import COMPLIANCE
from gpai_operator.controller.leadership import LeaseSettings
from gpai_operator.testing.rest import request_json
from tests.integration.children import wait_for_children
from tests.integration.operator.conftest import health_url, metrics_url
from tests.integration.operator.helpers import (
    Kube,
    compliant,
    conditions,
    http_get,
    metric,
    operator_written,
    ours,
    stays,
    wait_for,
)
from tests.unit.engine import builders as b

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
    "InferenceService",
)


def test_a_restart_writes_nothing_when_nothing_changed_and_converges_what_did(
    start_operator, kube: Kube, namespace
):
    first = start_operator()
    model = b.model(namespace=namespace)
    evidence = b.frontier(namespace=namespace)
    for obj in evidence:
        kube.create(obj)
    chat, batch = (
        b.workload(namespace=namespace),
        b.workload("Job", "batch", model_name=None, namespace=namespace),
    )
    kube.create(chat)
    kube.create(batch)
    wait_for(lambda: ours(kube.get(chat)).get(COMPLIANCE) == "Compliant", "the Compliant mark")
    wait_for(lambda: kube.get(model)["status"]["workloads"] == 1, "the workload counted")
    first.stop()

    # Restarted with nothing changed: it lists everything, finds it right, and writes nothing.
    versions = {name: operator_written(kube.get(obj)) for name, obj in (("model", model), ("chat", chat))}
    second = start_operator()
    wait_for(
        lambda: second.operator.reconciler.passes >= 1 and second.operator.reconciler.idle, "a first pass"
    )
    stays(
        lambda: {n: operator_written(kube.get(o)) for n, o in (("model", model), ("chat", chat))} == versions,
        "no writes",
    )
    second.stop()

    # While it is down: the documentation goes away, a workload gets the label, another loses it.
    kube.delete(evidence[1])
    kube.patch(batch, {"metadata": {"labels": {"gpai.dev/model": b.MODEL}}})
    kube.patch(chat, {"metadata": {"labels": {"gpai.dev/model": None}}})
    start_operator()
    wait_for(lambda: compliant(kube.get(model)) == "False", "the model NonCompliant after the restart")
    wait_for(lambda: ours(kube.get(batch)).get(COMPLIANCE) == "NonCompliant", "the new label annotated")
    wait_for(lambda: not ours(kube.get(chat)), "the stale annotations removed")
    wait_for(lambda: kube.get(model)["status"]["workloads"] == 1, "the workloads recounted")


def test_policies_that_select_the_namespace_decide_what_the_status_says(operator, kube: Kube, namespace):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    kube.patch(ns, {"metadata": {"labels": {"gpai.dev/tier": namespace}}})
    model = b.model(namespace=namespace)  # no evidence, but its training-content summary is current
    kube.create(model)
    wait_for(lambda: compliant(kube.get(model)) == "False", "NonCompliant under the built-in default")
    assert "built-in default policy" in conditions(kube.get(model))["Ready"]["message"]

    policy = b.policy(
        f"summary-only-{namespace}",
        ["Warn"],
        namespaceSelector={"matchLabels": {"gpai.dev/tier": namespace}},
        obligations=["copyright/training-content-summary"],
    )
    kube.create(policy)
    try:
        found = wait_for(
            lambda: compliant(o := kube.get(model)) == "True" and o, "Compliant under the policy"
        )
        assert policy["metadata"]["name"] in conditions(found)["Ready"]["message"]
        assert [o["id"] for o in found["status"]["obligations"]] == ["copyright/training-content-summary"]

        kube.patch(ns, {"metadata": {"labels": {"gpai.dev/tier": "elsewhere"}}})  # no longer selected
        wait_for(lambda: compliant(kube.get(model)) == "False", "back under the built-in default")
    finally:
        kube.delete(policy)


def test_every_workload_kind_is_annotated_and_only_its_metadata_changes(
    start_operator, kube: Kube, namespace
):
    # The session's cluster serves a stand-in InferenceService CRD (admission.testing): the
    # operator finds it at start-up, lists it with the rest and watches it.
    thread = start_operator()
    assert thread.operator.discovery is not None
    assert thread.operator.discovery.kserve_version == "v1beta1"
    for obj in b.frontier(namespace=namespace):
        kube.create(obj)
    workloads = [b.workload(kind, kind.lower(), namespace=namespace) for kind in WORKLOAD_KINDS]
    # Labels of their own: controllers adopt what their selectors match, as real ones do (the
    # Deployment would adopt the ReplicaSet, the DaemonSet and the ReplicationController the Pod).
    for obj in workloads:
        if obj["kind"] in ("Pod", "ReplicaSet", "ReplicationController"):
            own = obj["kind"].lower()
            obj["metadata"]["labels"]["app"] = own
            if obj["kind"] != "Pod":
                obj["spec"] = copy.deepcopy(obj["spec"])
                obj["spec"]["template"]["metadata"] = {"labels": {"app": own}}
                obj["spec"]["selector"] = (
                    {"app": own} if obj["kind"] == "ReplicationController" else {"matchLabels": {"app": own}}
                )
    created = {obj["kind"]: kube.create(obj) for obj in workloads}
    # A Pod claiming a ConfigMap as its controller (one that exists: the garbage collector removes
    # objects whose owner is gone) stands on its own: annotated and counted like any workload.
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mine", "namespace": namespace},
        "data": {"a": "b"},
    }
    cover = request_json(kube.api, "POST", f"/api/v1/namespaces/{namespace}/configmaps", body=config_map)
    forged = b.workload(
        "Pod",
        "forged",
        namespace=namespace,
        controller="ConfigMap",
        controller_name="mine",
        controller_uid=cover["metadata"]["uid"],
    )
    forged["metadata"]["labels"]["app"] = "forged"
    kube.create(forged)
    # The controllers' children: the Pods of the ReplicaSets, the StatefulSet and the Job. (The
    # Deployment's ReplicaSet carries the annotations the Deployment controller copies from it.)
    replicasets = f"/apis/apps/v1/namespaces/{namespace}/replicasets"
    pods = f"/api/v1/namespaces/{namespace}/pods"
    replicaset = wait_for_children(
        lambda: request_json(kube.api, "GET", replicasets), created["Deployment"], "the ReplicaSet"
    )[0]
    owners = {
        "Deployment's ReplicaSet": replicaset,
        "ReplicaSet": created["ReplicaSet"],
        "StatefulSet": created["StatefulSet"],
        "Job": created["Job"],
    }
    children = [
        f"{pods}/{pod['metadata']['name']}"
        for kind, owner in owners.items()
        for pod in wait_for_children(lambda: request_json(kube.api, "GET", pods), owner, f"the {kind}'s Pod")
    ]
    for obj in [*workloads, forged]:
        wait_for(
            functools.partial(lambda obj: ours(kube.get(obj)).get(COMPLIANCE) == "Compliant", obj),
            f"{obj['kind']} {obj['metadata']['name']} annotated",
        )
    model = b.model(namespace=namespace)
    counted = len(WORKLOAD_KINDS) + 1  # the forged one stands on its own; the children are their owners'
    wait_for(lambda: kube.get(model)["status"]["workloads"] == counted, "every workload counted")
    for child in children:  # gated through their controllers, never annotated
        assert ours(request_json(kube.api, "GET", child)) == {}, child
    for obj in workloads:
        now = kube.get(obj)
        assert now["spec"] == created[obj["kind"]]["spec"], obj["kind"]
        if obj["kind"] != "Deployment":  # apps/v1 Deployments count annotation changes as a generation
            assert now["metadata"].get("generation") == created[obj["kind"]]["metadata"].get("generation")


def test_one_replica_writes_and_a_standby_keeps_current_state(
    start_operator, api_client, kube: Kube, namespace
):
    lease = LeaseSettings(
        f"gpai-{namespace}", namespace, lease_duration=3, renew_deadline=2, retry_period=0.3
    )
    first = start_operator(identity=f"{namespace}-a", leader_election=lease)
    wait_for(lambda: first.operator.leading, "the first replica to lead")
    second = start_operator(identity=f"{namespace}-b", leader_election=lease)
    stays(lambda: first.operator.leading and not second.operator.leading, "one writer", seconds=1.0)
    held = request_json(
        api_client, "GET", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{lease.name}"
    )
    assert held["spec"]["holderIdentity"] == f"{namespace}-a"  # what `kubectl get lease` shows

    model = b.model(namespace=namespace)
    kube.create(model)
    wait_for(lambda: compliant(kube.get(model)) == "False", "the leader's status")
    for obj in b.frontier(namespace=namespace)[1:]:
        kube.create(obj)
    # The standby's state follows the cluster: its verdict (what its webhook answers from) is current.
    wait_for(lambda: second.operator.runtime.verdicts[(namespace, b.MODEL)].compliant, "standby verdict")
    wait_for(lambda: compliant(kube.get(model)) == "True", "the leader's status")

    first.stop()  # releases the Lease: the standby need not wait out its duration
    wait_for(lambda: second.operator.leading, "the standby to take over", timeout=lease.retry_period * 3 + 1)
    deployment = b.workload(namespace=namespace)
    kube.create(deployment)
    wait_for(lambda: ours(kube.get(deployment)).get(COMPLIANCE) == "Compliant", "the new leader's writes")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_probes_and_metrics_with_the_webhook_serving(start_operator, tmp_path: Path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    thread = start_operator(
        webhook=True,
        webhook_address="127.0.0.1",
        webhook_port=_free_port(),
        webhook_cert_file=str(cert_file),
        webhook_key_file=str(key_file),
    )
    assert thread.operator.runtime.webhook_serving
    assert http_get(health_url(thread, "/readyz")) == (200, "ready\n")
    assert http_get(health_url(thread, "/healthz")) == (200, "ok\n")
    text = http_get(metrics_url(thread))[1]
    assert metric(text, "gpai_operator_ready") == 1
    assert metric(text, "gpai_build_info") == 1
    assert metric(text, "gpai_reconcile_total", result="error") == 0


def _review_status(url: str, ca_file: Path) -> int:
    """POSTs an empty body to the webhook; any HTTP answer (400: not an AdmissionReview) means it serves."""
    context = ssl.create_default_context(cafile=str(ca_file))
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_stopping_operator_goes_unready_and_keeps_serving_reviews_for_its_shutdown_delay(
    start_operator, tmp_path: Path
):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.crt"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    port = _free_port()
    thread = start_operator(
        webhook=True,
        webhook_address="127.0.0.1",
        webhook_port=port,
        webhook_cert_file=str(cert_file),
        webhook_key_file=str(key_file),
        shutdown_delay=3.0,
    )
    url = f"https://127.0.0.1:{port}/validate"
    assert _review_status(url, ca_file) == 400
    thread.request_stop()
    wait_for(lambda: http_get(health_url(thread, "/readyz"))[0] == 503, "unready on stop", timeout=2)
    assert _review_status(url, ca_file) == 400  # endpoints drop it meanwhile; it still answers
    assert thread.operator.webhook is not None
    assert thread.operator.webhook.alive
    thread.join()
    with pytest.raises(urllib.error.URLError):
        _review_status(url, ca_file)


def _kubeconfig(cluster, path: Path, *, server: str | None = None, token: str | None = None) -> Path:
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    if server:
        config["clusters"][0]["cluster"]["server"] = server
    if token:
        config["users"][0]["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return path


def _gpai_run(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "gpai_operator.cli.main",
        "run",
        "--no-webhook",
        "--kubeconfig",
        str(kubeconfig),
    ]
    argv += ["--metrics-port", "0", "--no-metrics-secure", "--health-port", "0"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_gpai_run_names_every_missing_permission(cluster, api_client, namespace, tmp_path: Path):
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "limited"}}
    request_json(api_client, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", body=account)
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 600},
    }
    token = request_json(
        api_client, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/limited/token", body=request
    )["status"]["token"]
    result = _gpai_run(_kubeconfig(cluster, tmp_path / "limited", token=token))
    assert result.returncode == 1, result.stderr
    assert "RBAC" in result.stderr
    assert "list gpai.dev/gpaimodels cluster-wide" in result.stderr
    assert "patch apps/deployments cluster-wide" in result.stderr


def test_gpai_run_says_when_the_cluster_is_unreachable(cluster, tmp_path: Path):
    result = _gpai_run(_kubeconfig(cluster, tmp_path / "nowhere", server=f"https://127.0.0.1:{_free_port()}"))
    assert result.returncode == 1
    assert "cannot reach the Kubernetes API at https://127.0.0.1:" in result.stderr


def test_limited_to_namespaces_it_leaves_the_others_alone(
    cluster, start_operator, api_client, kube: Kube, namespace
):
    from gpai_operator.testing.namespaces import create_namespace, delete_namespace

    other = create_namespace(api_client, "elsewhere")
    try:
        start_operator(namespaces=(namespace,))
        served, ignored = b.model(namespace=namespace), b.model(namespace=other)
        kube.create(ignored)
        kube.create(served)
        wait_for(lambda: compliant(kube.get(served)) == "False", "the served namespace's model evaluated")
        stays(lambda: "status" not in kube.get(ignored), "the other namespace untouched", seconds=1.0)
    finally:
        delete_namespace(api_client, other, purge=not cluster.runs_controllers)
