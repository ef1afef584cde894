"""Without its AdmissionVerdicts a namespace stays closed: the gate never opens for want of verdicts."""

from __future__ import annotations

from typing import Any

from tests.integration.admission.kube import Reply, call, example_evidence, path_of
from tests.integration.admission.workloads import manifest, policy
from tests.integration.native.conftest import COMPLIANT, Attempt, Scene, scale

REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller"


def refused_for_want_of_verdicts(scene: Scene, reply: Reply) -> None:
    deny = f"{scene.gate.prefix}-deny"
    assert reply.status == 422, reply.body  # the API server's code for a binding it cannot configure
    assert (
        f"ValidatingAdmissionPolicy '{deny}' with binding '{deny}' denied request: failed to configure "
        "binding: no params found for policy binding with `Deny` parameterNotFoundAction"
    ) in reply.message


def test_a_namespace_without_verdicts_refuses_workloads_until_the_operator_writes_them(
    new_scene: Any,
) -> None:
    scene: Scene = new_scene()
    scene.add(policy("gate", ["Deny"]), *example_evidence(COMPLIANT, scene.namespace))
    deployment = manifest("Deployment", scene.namespace, COMPLIANT)
    pod = manifest("Pod", scene.namespace, COMPLIANT, name="chat-5d8f7-x2k9q")
    pod["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "chat-5d8f7",
            "uid": "0d1e",
            "controller": True,
        }
    ]

    # Closed to everyone, a compliant model and a trusted controller included: the API server looks
    # for the parameter before it evaluates any matchCondition.
    refused_for_want_of_verdicts(scene, scene.send(Attempt.create(deployment)))
    refused_for_want_of_verdicts(scene, scene.send(Attempt.create(pod), user=REPLICASET_CONTROLLER))

    scene.publish()
    assert scene.judge(Attempt.create(deployment))[0] == "Allow"
    assert scene.send(Attempt.create(pod), user=REPLICASET_CONTROLLER).ok


def test_verdicts_that_go_away_close_the_namespace_but_never_scaling_or_deleting(new_scene: Any) -> None:
    scene: Scene = new_scene()
    scene.add(policy("gate", ["Deny"]), *example_evidence(COMPLIANT, scene.namespace))
    scene.publish()
    deployment = scene.make(manifest("Deployment", scene.namespace, COMPLIANT))
    annotate = Attempt.update(deployment, {"metadata.annotations": {"team": "chat"}})

    scene.withdraw()

    refused_for_want_of_verdicts(scene, scene.send(annotate, user=None))
    scaled = scale(scene, deployment, 0)
    assert scaled.status == 200, scaled.body

    scene.publish()
    assert scene.send(annotate, user=None).ok
    scene.withdraw()
    deleted = call(scene.api_client, "DELETE", path_of(deployment))
    assert deleted.status == 200, deleted.body
