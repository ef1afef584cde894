"""Every way around the gate a namespace user has tried, each refused with the usual message.

mallory may create and change workloads and ConfigMaps in her namespace, nothing else. The model
`rogue` has no evidence at all; `aurora-2` has all of it. The policy denies, and requires every
workload to name its model.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integration.admission.workloads import manifest
from tests.integration.operator.helpers import compliant, wait_for
from tests.integration.security.conftest import (
    COMPLIANT,
    OPERATOR,
    ROGUE,
    Arena,
    gate_policy,
    model_ref,
    rogue_model,
)


def denied(reply: Any, kind: str, name: str, namespace: str, model: str | None = ROGUE) -> None:
    """Refused by our webhook with the usual message: the workload, the policy and what is unmet."""
    assert reply.status == 403, reply.body
    message = reply.message
    assert message.startswith('admission webhook "validate.gpai.dev" denied the request: '), message
    assert f"{kind} {namespace}/{name} is denied by policy security-test-" in message
    if model is None:
        assert "workload/model-declared" in message
    else:
        assert f"GPAIModel {namespace}/{model}" in message
        assert "(Art. " in message
        assert "To fix:" in message


def owner(kind: str, name: str, uid: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True}


def claimed(obj: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["ownerReferences"] = [reference]
    return obj


def test_mallory_may_run_a_compliant_model(arena: Arena) -> None:
    reply = arena.create(manifest("Deployment", arena.namespace, COMPLIANT))
    assert reply.status == 201, reply.body


# ---- owner references prove nothing ------------------------------------------------------------------
@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_a_pod_claiming_a_configmap_she_made_as_controller(arena: Arena, labelled: bool) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cover"}, "data": {"a": "b"}}
    made = arena.create(config_map)
    assert made.status == 201, made.body
    reference = owner("ConfigMap", "cover", made.body["metadata"]["uid"], api_version="v1")
    pod = claimed(manifest("Pod", arena.namespace, ROGUE if labelled else None, name="sneaky"), reference)

    denied(arena.create(pod), "Pod", "sneaky", arena.namespace, ROGUE if labelled else None)
    assert (
        arena.create(manifest("Pod", arena.namespace, ROGUE if labelled else None, name="plain")).status
        == 403
    )


def test_a_pod_claiming_a_replicaset_that_does_not_exist(arena: Arena) -> None:
    pod = claimed(
        manifest("Pod", arena.namespace, ROGUE, name="chat-5d8f7-x2k9q"),
        owner("ReplicaSet", "chat-5d8f7", "0d1e"),
    )
    denied(arena.create(pod), "Pod", "chat-5d8f7-x2k9q", arena.namespace)


def test_a_deployment_with_a_forged_controller_reference(arena: Arena) -> None:
    deployment = claimed(
        manifest("Deployment", arena.namespace, ROGUE), owner("Deployment", "parent", "5a1f")
    )
    denied(arena.create(deployment), "Deployment", "chat", arena.namespace)


def test_a_job_claiming_a_cronjob_that_does_not_exist(arena: Arena) -> None:
    job = claimed(
        manifest("Job", arena.namespace, ROGUE, name="nightly-29000000"),
        owner("CronJob", "nightly", "c0de", "batch/v1"),
    )
    denied(arena.create(job), "Job", "nightly-29000000", arena.namespace)


# ---- every pod-producing kind ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_a_pod_producing_kind_created_directly(arena: Arena, kind: str) -> None:
    denied(arena.create(manifest(kind, arena.namespace, ROGUE)), kind, "chat", arena.namespace)


# ---- every path that changes what runs ---------------------------------------------------------------
def test_one_patch_adding_a_forged_controller_and_switching_the_model(arena: Arena) -> None:
    deployment = manifest("Deployment", arena.namespace, COMPLIANT)
    assert arena.create(deployment).status == 201
    switch = {
        "metadata": {
            "labels": {"gpai.dev/model": ROGUE},
            "ownerReferences": [owner("Deployment", "parent", "5a1f")],
        }
    }
    denied(arena.patch(deployment, switch), "Deployment", "chat", arena.namespace)


def _no_longer_compliant(arena: Arena) -> None:
    """aurora-2's version moves on without its evidence: it is not compliant any more."""
    model = model_ref(COMPLIANT, arena.namespace)
    arena.kube.patch(model, {"spec": {"version": "2.1"}})
    wait_for(lambda: compliant(arena.kube.get(model)) == "False", "aurora-2 non-compliant")


def test_an_ephemeral_container_on_a_pod_of_a_model_no_longer_compliant(arena: Arena) -> None:
    pod = manifest("Pod", arena.namespace, COMPLIANT, name="server")
    assert arena.create(pod).status == 201
    _no_longer_compliant(arena)
    debug = {"spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox", "stdin": True}]}}

    reply = arena.patch(pod, debug, subresource="ephemeralcontainers")

    denied(reply, "Pod", "server", arena.namespace, COMPLIANT)


def test_a_kserve_transformer_change_on_a_model_no_longer_compliant(arena: Arena) -> None:
    service = manifest("InferenceService", arena.namespace, COMPLIANT)
    assert arena.create(service).status == 201
    _no_longer_compliant(arena)
    transformer = {"spec": {"transformer": {"containers": [{"name": "t", "image": "acme/transformer:1"}]}}}

    denied(arena.patch(service, transformer), "InferenceService", "chat", arena.namespace, COMPLIANT)
    scaled = arena.patch(service, {"metadata": {"annotations": {"note": "scaling stays possible"}}})
    assert scaled.status == 200, scaled.body


# ---- identities and exceptions -----------------------------------------------------------------------
def test_the_operators_service_account_creating_a_non_compliant_deployment(arena: Arena) -> None:
    reply = arena.create(manifest("Deployment", arena.namespace, ROGUE), user=OPERATOR)
    denied(reply, "Deployment", "chat", arena.namespace)


def test_an_exception_pinned_to_another_version(arena: Arena, selector_value: str) -> None:
    arena.kube.create(rogue_model(arena.namespace, "legacy", version="2.4"))
    legacy = model_ref("legacy", arena.namespace)
    wait_for(lambda: compliant(arena.kube.get(legacy)) == "False", "the operator to judge version 2.4")
    exception = {
        "namespace": arena.namespace,
        "model": "legacy",
        "version": "2.3",
        "reason": "granted for 2.3 while its evaluation is redone",
        "expires": "2026-12-31",
    }
    policy = gate_policy(selector_value, [exception])
    arena.kube.patch(policy, {"spec": {"exceptions": [exception]}})
    try:
        denied(
            arena.create(manifest("Deployment", arena.namespace, "legacy")),
            "Deployment",
            "chat",
            arena.namespace,
            "legacy",
        )
        arena.kube.patch(rogue_model(arena.namespace, "legacy"), {"spec": {"version": "2.3"}})
        wait_for(lambda: compliant(arena.kube.get(legacy)) == "True", "version 2.3 waived")
        assert arena.create(manifest("Deployment", arena.namespace, "legacy", name="waived")).status == 201
    finally:
        arena.kube.patch(policy, {"spec": {"exceptions": []}})
