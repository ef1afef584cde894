"""What the gate must never stop: the cluster's own controllers running what the gate admitted.

The same arena as the attacks (tests/integration/security/conftest.py): the operator with its
webhook, a Deny policy, mallory with workload rights only, and the session's real
kube-controller-manager, whose controllers act as their own service accounts.
"""

from __future__ import annotations

import pytest
from kubernetes.client import BatchV1Api

from gpai_operator.testing.rest import request_json
from tests.integration.admission.workloads import manifest
from tests.integration.children import run_missed_schedule, wait_for_children
from tests.integration.operator.helpers import compliant, wait_for
from tests.integration.security.conftest import COMPLIANT, Arena, model_ref


def _list(arena: Arena, path: str) -> dict:
    return request_json(arena.api_client, "GET", f"/apis/{path}".replace("/apis/v1/", "/api/v1/"))


@pytest.fixture(autouse=True)
def _needs_controllers(cluster) -> None:
    if not cluster.runs_controllers:
        pytest.fail("the legitimate flow needs kube-controller-manager (the test control plane runs it)")


def test_a_compliant_deployment_gets_its_replicaset_and_pods(arena: Arena) -> None:
    created = arena.create(manifest("Deployment", arena.namespace, COMPLIANT))
    assert created.status == 201, created.body
    ns = arena.namespace
    replicaset = wait_for_children(
        lambda: _list(arena, f"apps/v1/namespaces/{ns}/replicasets"), created.body, "its ReplicaSet"
    )[0]
    pods = wait_for_children(
        lambda: _list(arena, f"v1/namespaces/{ns}/pods"), replicaset, "its Pods", count=2
    )
    assert len(pods) == 2


def test_a_jobs_pods_and_a_cronjobs_jobs_are_created(arena: Arena) -> None:
    ns = arena.namespace
    job = arena.create(manifest("Job", ns, COMPLIANT, name="once"))
    cronjob = arena.create(manifest("CronJob", ns, COMPLIANT, name="nightly"))
    assert (job.status, cronjob.status) == (201, 201)
    wait_for_children(lambda: _list(arena, f"v1/namespaces/{ns}/pods"), job.body, "the Job's Pod")
    run_missed_schedule(BatchV1Api(arena.api_client), "nightly", ns)
    run = wait_for_children(
        lambda: _list(arena, f"batch/v1/namespaces/{ns}/jobs"), cronjob.body, "the CronJob's Job"
    )[0]
    wait_for_children(lambda: _list(arena, f"v1/namespaces/{ns}/pods"), run, "that Job's Pod")


def test_scaling_up_a_model_that_has_since_become_non_compliant_still_makes_pods(arena: Arena) -> None:
    ns = arena.namespace
    deployment = manifest("Deployment", ns, COMPLIANT)
    created = arena.create(deployment)
    assert created.status == 201, created.body
    replicaset = wait_for_children(
        lambda: _list(arena, f"apps/v1/namespaces/{ns}/replicasets"), created.body, "its ReplicaSet"
    )[0]
    wait_for_children(lambda: _list(arena, f"v1/namespaces/{ns}/pods"), replicaset, "its Pods", count=2)
    model = model_ref(COMPLIANT, ns)
    arena.kube.patch(model, {"spec": {"version": "2.1"}})  # its evidence is for 2.0: no longer compliant
    wait_for(lambda: compliant(arena.kube.get(model)) == "False", "aurora-2 non-compliant")

    scaled = arena.patch(deployment, {"spec": {"replicas": 4}}, subresource="scale")

    assert scaled.status == 200, scaled.body
    assert any(
        "not compliant" in warning and "scaling is never blocked" in warning for warning in scaled.warnings
    )
    pods = wait_for_children(
        lambda: _list(arena, f"v1/namespaces/{ns}/pods"), replicaset, "the new Pods", count=4
    )
    assert len(pods) == 4
    denied = arena.create(manifest("Deployment", ns, COMPLIANT, name="another"))
    assert denied.status == 403  # a new one is judged, and refused
