"""The native gate judges the UPDATEs the engine judges (what runs changes: the pod template, for Pods
and InferenceServices the spec, the model label, the controller reference; ephemeral containers) and
lets the others through, as the webhook's gate does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admission.workloads import manifest
from tests.integration.native.conftest import COMPLIANT, ROGUE, Attempt, Scene, no_longer_compliant, scale

IMAGE = "registry.example.com/acme/server:2.0"
FORGED = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "name": "parent", "uid": "5a1f", "controller": True}
]
DEBUGGER = [{"name": "debugger", "image": "busybox", "stdin": True}]
TRANSFORMER = {"containers": [{"name": "t", "image": "acme/transformer:1"}]}


UPDATES: dict[str, tuple[str, dict[str | tuple[str, ...], Any], str]] = {  # kind, changes, subresource
    "deployment-template": ("Deployment", {"spec.template.spec.containers.0.image": IMAGE}, ""),
    "deployment-replicas": ("Deployment", {"spec.replicas": 5}, ""),
    "deployment-annotation": ("Deployment", {"metadata.annotations": {"team": "chat"}}, ""),
    "deployment-forged-controller": ("Deployment", {"metadata.ownerReferences": FORGED}, ""),
    "replicaset-template": ("ReplicaSet", {"spec.template.spec.containers.0.image": IMAGE}, ""),
    "replicationcontroller-template": (
        "ReplicationController",
        {"spec.template.spec.containers.0.image": IMAGE},
        "",
    ),
    "statefulset-template": ("StatefulSet", {"spec.template.spec.containers.0.image": IMAGE}, ""),
    "daemonset-template": ("DaemonSet", {"spec.template.spec.containers.0.image": IMAGE}, ""),
    "cronjob-pod-template": (
        "CronJob",
        {"spec.jobTemplate.spec.template.spec.containers.0.image": IMAGE},
        "",
    ),
    "cronjob-backoff-limit": ("CronJob", {"spec.jobTemplate.spec.backoffLimit": 1}, ""),
    "cronjob-schedule": ("CronJob", {"spec.schedule": "30 * * * *"}, ""),
    "pod-image": ("Pod", {"spec.containers.0.image": IMAGE}, ""),
    "pod-label": ("Pod", {"metadata.labels.tier": "web"}, ""),
    "pod-ephemeral-container": ("Pod", {"spec.ephemeralContainers": DEBUGGER}, "ephemeralcontainers"),
    "inferenceservice-transformer": ("InferenceService", {"spec.transformer": TRANSFORMER}, ""),
    "inferenceservice-annotation": ("InferenceService", {"metadata.annotations": {"note": "x"}}, ""),
}
JUDGED = {
    "deployment-template",
    "deployment-forged-controller",
    "replicaset-template",
    "replicationcontroller-template",
    "statefulset-template",
    "daemonset-template",
    "cronjob-pod-template",
    "pod-image",
    "pod-ephemeral-container",
    "inferenceservice-transformer",
}


@pytest.mark.parametrize("update", UPDATES)
def test_an_update_is_judged_only_when_what_runs_changes(scene: Scene, update: str) -> None:
    kind, patch, subresource = UPDATES[update]
    workload = scene.make(manifest(kind, scene.namespace, COMPLIANT))
    attempt = Attempt.update(workload, patch, subresource)
    assert scene.judge(attempt)[0] == "Allow"  # compliant: nothing to refuse either way

    no_longer_compliant(scene)

    assert scene.judge(attempt)[0] == ("Deny" if update in JUDGED else "Allow")


@pytest.mark.parametrize(
    "label",
    [ROGUE, None, "no-such-model"],
    ids=["to-a-non-compliant-model", "removed", "to-an-unknown-model"],
)
def test_changing_the_model_label_is_judged(scene: Scene, label: str | None) -> None:
    deployment = scene.make(manifest("Deployment", scene.namespace, COMPLIANT))

    decision, reply = scene.judge(
        Attempt.update(deployment, {("metadata", "labels", "gpai.dev/model"): label})
    )

    assert decision == "Deny", reply.body


def test_the_scale_subresource_never_reaches_the_gate(scene: Scene) -> None:
    """Scaling (kubectl scale, an autoscaler) is never blocked, whatever the model's state."""
    deployment = scene.make(manifest("Deployment", scene.namespace, COMPLIANT))
    no_longer_compliant(scene)

    scaled = scale(scene, deployment, 0)

    assert scaled.status == 200, scaled.body
    assert scaled.warnings == []
