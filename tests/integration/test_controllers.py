"""The test control plane runs the real kube-controller-manager, each controller as its own identity.

Workloads get their children (Pending: there is no scheduler or kubelet), the garbage collector
removes them again, namespaces finalize themselves, ClusterRoles aggregate, and the audit log
shows that every child was created by its controller's own service account in kube-system: the
identities admission trusts with controlled objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import AppsV1Api, BatchV1Api, CoreV1Api, RbacAuthorizationV1Api
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.audit import controller_identity, creators
from gpai_operator.testing.controlplane import Cluster
from tests.integration.children import controlled_by, run_missed_schedule, wait_for_children
from tests.integration.operator.helpers import wait_for
from tests.unavailable import unavailable

LABELS = {"app": "controlled"}
SELECTOR = {"matchLabels": LABELS}
CONTAINERS = [{"name": "main", "image": "registry.example/never-pulled:1"}]
POD_TEMPLATE = {"metadata": {"labels": LABELS}, "spec": {"containers": CONTAINERS}}
JOB_TEMPLATE = {"metadata": {"labels": LABELS}, "spec": {"containers": CONTAINERS, "restartPolicy": "Never"}}


@pytest.fixture(scope="module")
def controllers(cluster: Cluster) -> Cluster:
    if not cluster.runs_controllers:
        unavailable("the cluster runs no controllers")
    return cluster


@pytest.fixture(scope="module")
def audit_log(controllers: Cluster) -> Path:
    if controllers.audit_log is None:
        unavailable("the audit log of a cluster run elsewhere (GPAI_TEST_KUBECONFIG) cannot be read")
    return controllers.audit_log


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": SELECTOR, "template": POD_TEMPLATE},
    }


def assert_created_by(audit_log: Path, objects: list[Any], controller: str) -> None:
    """Each object's create request was made as `controller`'s service account. Matched by uid: no
    other object can stand in for it."""

    def logged() -> dict[str, str] | None:
        by_uid = creators(audit_log)
        return by_uid if all(obj.metadata.uid in by_uid for obj in objects) else None

    by_uid = wait_for(logged, f"the audit events of {[obj.metadata.name for obj in objects]}", timeout=10)
    assert {obj.metadata.name: by_uid[obj.metadata.uid] for obj in objects} == {
        obj.metadata.name: controller_identity(controller) for obj in objects
    }


def test_a_deployment_gets_a_replicaset_and_pods_from_their_controllers(
    controllers, audit_log, api_client, namespace
):
    apps, core = AppsV1Api(api_client), CoreV1Api(api_client)
    web = apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))

    replicasets = wait_for_children(
        lambda: apps.list_namespaced_replica_set(namespace), web, "the ReplicaSet"
    )
    pods = wait_for_children(lambda: core.list_namespaced_pod(namespace), replicasets[0], "two Pods", count=2)

    assert len(replicasets) == 1
    assert len(pods) == 2
    assert {pod.status.phase for pod in pods} == {"Pending"}, "no scheduler, no kubelet"
    assert {pod.spec.service_account_name for pod in pods} == {"default"}, "ServiceAccount admission ran"
    assert_created_by(audit_log, replicasets, "deployment-controller")
    assert_created_by(audit_log, pods, "replicaset-controller")


def test_a_job_gets_pods_and_a_cronjob_gets_jobs_from_their_controllers(
    controllers, audit_log, api_client, namespace
):
    batch, core = BatchV1Api(api_client), CoreV1Api(api_client)
    job = batch.create_namespaced_job(
        namespace, {"metadata": {"name": "once"}, "spec": {"parallelism": 2, "template": JOB_TEMPLATE}}
    )
    cronjob = batch.create_namespaced_cron_job(
        namespace,
        {
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}},
        },
    )
    run_missed_schedule(batch, "nightly", namespace)  # rather than wait for 03:00

    job_pods = wait_for_children(
        lambda: core.list_namespaced_pod(namespace), job, "the Job's two Pods", count=2
    )
    scheduled = wait_for_children(lambda: batch.list_namespaced_job(namespace), cronjob, "the CronJob's Job")
    scheduled_pods = wait_for_children(lambda: core.list_namespaced_pod(namespace), scheduled[0], "its Pod")

    assert len(job_pods) == 2
    assert_created_by(audit_log, job_pods + scheduled_pods, "job-controller")
    assert_created_by(audit_log, scheduled, "cronjob-controller")


def test_statefulsets_and_replicationcontrollers_get_pods_and_daemonsets_need_nodes(
    controllers, audit_log, api_client, namespace
):
    apps, core = AppsV1Api(api_client), CoreV1Api(api_client)
    statefulset = apps.create_namespaced_stateful_set(
        namespace,
        {
            "metadata": {"name": "db"},
            "spec": {"selector": SELECTOR, "serviceName": "db", "template": POD_TEMPLATE},
        },
    )
    rc = core.create_namespaced_replication_controller(
        namespace,
        {
            "metadata": {"name": "legacy"},
            "spec": {"replicas": 1, "selector": LABELS, "template": POD_TEMPLATE},
        },
    )
    daemonset = apps.create_namespaced_daemon_set(
        namespace, {"metadata": {"name": "agent"}, "spec": {"selector": SELECTOR, "template": POD_TEMPLATE}}
    )

    statefulset_pods = wait_for_children(
        lambda: core.list_namespaced_pod(namespace), statefulset, "the StatefulSet's Pod"
    )
    rc_pods = wait_for_children(
        lambda: core.list_namespaced_pod(namespace), rc, "the ReplicationController's Pod"
    )
    status = wait_for(
        lambda: (
            (read := apps.read_namespaced_daemon_set_status("agent", namespace).status).observed_generation
            and read
        ),
        "the DaemonSet controller to report on the DaemonSet",
    )

    assert [pod.metadata.name for pod in statefulset_pods] == ["db-0"]
    assert status.desired_number_scheduled == 0, "no Nodes: nowhere to run"
    assert controlled_by(core.list_namespaced_pod(namespace).items, daemonset) == []
    assert_created_by(audit_log, statefulset_pods, "statefulset-controller")
    assert_created_by(audit_log, rc_pods, "replication-controller")


def test_the_garbage_collector_deletes_a_deployments_children(controllers, api_client, namespace):
    apps, core = AppsV1Api(api_client), CoreV1Api(api_client)
    web = apps.create_namespaced_deployment(namespace, deployment("web", replicas=1))
    replicasets = wait_for_children(
        lambda: apps.list_namespaced_replica_set(namespace), web, "the ReplicaSet"
    )
    wait_for_children(lambda: core.list_namespaced_pod(namespace), replicasets[0], "its Pod")

    apps.delete_namespaced_deployment("web", namespace, propagation_policy="Background")

    wait_for(
        lambda: (
            not apps.list_namespaced_replica_set(namespace).items
            and not core.list_namespaced_pod(namespace).items
        ),
        "the garbage collector to delete the ReplicaSet and its Pod",
    )


def test_a_new_namespace_gets_its_default_serviceaccount_and_a_deleted_one_finalizes(
    controllers, audit_log, api_client, namespace
):
    core = CoreV1Api(api_client)
    account = wait_for(
        lambda: core.read_namespaced_service_account("default", namespace), "the ServiceAccount"
    )
    web = AppsV1Api(api_client).create_namespaced_deployment(namespace, deployment("web", replicas=1))
    wait_for(lambda: core.list_namespaced_pod(namespace).items, f"the Pod of {web.metadata.name}")

    core.delete_namespace(namespace)

    def gone() -> bool:
        try:
            core.read_namespace(namespace)
        except ApiException as error:
            return error.status == 404
        return False

    # The namespace controller waits 5 s before it begins (so that HA API servers agree the
    # namespace is going), then deletes what is in it and removes its finalizer.
    wait_for(gone, "the namespace controller to empty and finalize the namespace", timeout=60)
    assert_created_by(audit_log, [account], "service-account-controller")


def test_clusterroles_aggregate(controllers, api_client):
    rbac = RbacAuthorizationV1Api(api_client)
    label = {"gpai.dev/test-aggregate": "true"}
    rbac.create_cluster_role(
        {
            "metadata": {"name": "gpai-test-aggregated"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": label}]},
        }
    )
    rule = {"apiGroups": ["gpai.dev"], "resources": ["gpaimodels"], "verbs": ["get"]}
    rbac.create_cluster_role({"metadata": {"name": "gpai-test-part", "labels": label}, "rules": [rule]})
    try:
        aggregated = wait_for(lambda: rbac.read_cluster_role("gpai-test-aggregated").rules, "the rules")
        assert [(r.api_groups, r.resources, r.verbs) for r in aggregated] == [
            (["gpai.dev"], ["gpaimodels"], ["get"])
        ]
        # The bootstrap `view` role is itself only an aggregation rule until the controller fills it.
        assert any("pods" in (r.resources or ()) for r in rbac.read_cluster_role("view").rules)
    finally:
        rbac.delete_cluster_role("gpai-test-aggregated")
        rbac.delete_cluster_role("gpai-test-part")
