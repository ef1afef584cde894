"""Every way around the gate a namespace user has tried (tests/integration/security/ has them against
the webhook), against the native gate: each refused with its usual message, as the engine refuses it.

mallory may create and change workloads and ConfigMaps in her namespace, nothing else. The model
`rogue` has no evidence at all; `aurora-2` has all of it. The policy denies, and requires every
workload to name its model.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.integration.admission.kube import Reply
from tests.integration.admission.workloads import manifest, policy
from tests.integration.native.conftest import (
    COMPLIANT,
    ROGUE,
    Attempt,
    Scene,
    no_longer_compliant,
    pinned_exception,
)
from tests.integration.security.conftest import MALLORY, OPERATOR, rogue_model

REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller"
CRONJOB_CONTROLLER = "system:serviceaccount:kube-system:cronjob-controller"


def denied(
    scene: Scene, attempt: Attempt, name: str = "chat", model: str | None = ROGUE, user: str = MALLORY
) -> Reply:
    """Refused by the native gate, as by the engine, with the usual message."""
    decision, reply = scene.judge(attempt, user)
    assert decision == "Deny"
    kind, ns = attempt.obj["kind"], scene.namespace
    message = reply.message
    assert f"{scene.gate.deny_prefix()}{kind} {ns}/{name} is denied by policy gate: " in message
    if model is None:
        assert (
            "it has no gpai.dev/model label, which leaves 1 obligation unmet: workload/model-declared"
            in message
        )
    else:
        assert f"it serves GPAIModel {ns}/{model} version " in message
        assert "unmet: " in message
        assert message.endswith(f"In full: kubectl describe gpai {model} -n {ns}")
    return reply


def owner(kind: str, name: str, uid: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True}


def claimed(obj: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["ownerReferences"] = [reference]
    return obj


def test_mallory_may_run_a_compliant_model(scene: Scene) -> None:
    assert scene.judge(Attempt.create(manifest("Deployment", scene.namespace, COMPLIANT)))[0] == "Allow"


# ---- owner references prove nothing ------------------------------------------------------------------
@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_a_pod_claiming_a_configmap_she_made_as_controller(scene: Scene, labelled: bool) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cover"}, "data": {"a": "b"}}
    made = scene.send(Attempt.create(config_map), dry_run=False)
    assert made.status == 201, made.body
    model = ROGUE if labelled else None
    reference = owner("ConfigMap", "cover", made.body["metadata"]["uid"], api_version="v1")
    pod = claimed(manifest("Pod", scene.namespace, model, name="sneaky"), reference)

    denied(scene, Attempt.create(pod), "sneaky", model)
    denied(scene, Attempt.create(manifest("Pod", scene.namespace, model, name="plain")), "plain", model)


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_a_pod_claiming_a_replicaset_that_does_not_exist(scene: Scene, labelled: bool) -> None:
    model = ROGUE if labelled else None
    pod = claimed(
        manifest("Pod", scene.namespace, model, name="chat-5d8f7-x2k9q"),
        owner("ReplicaSet", "chat-5d8f7", "0d1e"),
    )
    denied(scene, Attempt.create(pod), "chat-5d8f7-x2k9q", model)


def test_a_deployment_with_a_forged_controller_reference(scene: Scene) -> None:
    deployment = claimed(
        manifest("Deployment", scene.namespace, ROGUE), owner("Deployment", "parent", "5a1f")
    )
    denied(scene, Attempt.create(deployment))


def test_a_job_claiming_a_cronjob_that_does_not_exist(scene: Scene) -> None:
    job = claimed(
        manifest("Job", scene.namespace, ROGUE, name="nightly-29000000"),
        owner("CronJob", "nightly", "c0de", "batch/v1"),
    )
    denied(scene, Attempt.create(job), "nightly-29000000")


# ---- every pod-producing kind ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ReplicaSet", "ReplicationController"])
def test_a_pod_producing_kind_created_directly(scene: Scene, kind: str) -> None:
    denied(scene, Attempt.create(manifest(kind, scene.namespace, ROGUE)))


# ---- every path that changes what runs ---------------------------------------------------------------
def test_one_patch_adding_a_forged_controller_and_switching_the_model(scene: Scene) -> None:
    deployment = scene.make(manifest("Deployment", scene.namespace, COMPLIANT))
    switch: dict[str | tuple[str, ...], Any] = {
        ("metadata", "labels", "gpai.dev/model"): ROGUE,
        "metadata.ownerReferences": [owner("Deployment", "parent", "5a1f")],
    }
    denied(scene, Attempt.update(deployment, switch))


def test_an_ephemeral_container_on_a_pod_of_a_model_no_longer_compliant(scene: Scene) -> None:
    pod = scene.make(manifest("Pod", scene.namespace, COMPLIANT, name="server"))
    no_longer_compliant(scene)
    debug = [{"name": "debugger", "image": "busybox", "stdin": True}]

    denied(
        scene,
        Attempt.update(pod, {"spec.ephemeralContainers": debug}, "ephemeralcontainers"),
        "server",
        COMPLIANT,
    )


def test_a_kserve_transformer_change_on_a_model_no_longer_compliant(scene: Scene) -> None:
    service = scene.make(manifest("InferenceService", scene.namespace, COMPLIANT))
    no_longer_compliant(scene)
    transformer = {"containers": [{"name": "t", "image": "acme/transformer:1"}]}

    denied(scene, Attempt.update(service, {"spec.transformer": transformer}), model=COMPLIANT)
    noted = scene.judge(
        Attempt.update(service, {"metadata.annotations": {"note": "metadata stays possible"}})
    )
    assert noted[0] == "Allow"


# ---- identities and exceptions -----------------------------------------------------------------------
def test_the_operators_service_account_creating_a_non_compliant_deployment(scene: Scene) -> None:
    denied(scene, Attempt.create(manifest("Deployment", scene.namespace, ROGUE)), user=OPERATOR)


def test_the_operators_annotation_patch_on_a_non_compliant_workload_passes(scene: Scene) -> None:
    deployment = scene.make(manifest("Deployment", scene.namespace, COMPLIANT))
    no_longer_compliant(scene)
    marks = {"gpai.dev/compliance": "NonCompliant", "gpai.dev/unmet": "systemic-risk/evaluation"}

    assert scene.judge(Attempt.update(deployment, {"metadata.annotations": marks}), OPERATOR)[0] == "Allow"


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_what_a_trusted_controller_makes_passes_and_the_same_from_mallory_does_not(
    scene: Scene, labelled: bool
) -> None:
    model = ROGUE if labelled else None
    pod = claimed(
        manifest("Pod", scene.namespace, model, name="chat-5d8f7-x2k9q"),
        owner("ReplicaSet", "chat-5d8f7", "0d1e"),
    )
    job = claimed(
        manifest("Job", scene.namespace, model, name="nightly-29000000"),
        owner("CronJob", "nightly", "c0de", "batch/v1"),
    )

    assert scene.judge(Attempt.create(pod), REPLICASET_CONTROLLER)[0] == "Allow"
    assert scene.judge(Attempt.create(job), CRONJOB_CONTROLLER)[0] == "Allow"
    denied(scene, Attempt.create(pod), "chat-5d8f7-x2k9q", model)
    denied(scene, Attempt.create(job), "nightly-29000000", model)
    # A trusted identity's object without a controller reference is judged like anyone's.
    plain = manifest("Pod", scene.namespace, model, name="plain")
    denied(scene, Attempt.create(plain), "plain", model, user=REPLICASET_CONTROLLER)


def test_an_exception_pinned_to_another_version(scene: Scene) -> None:
    scene.add(
        rogue_model(scene.namespace, "legacy", version="2.4"),
        policy("gate", ["Deny"], requireModelLabel=True, exceptions=[pinned_exception(scene.namespace)]),
    )
    scene.publish()

    denied(scene, Attempt.create(manifest("Deployment", scene.namespace, "legacy")), model="legacy")
