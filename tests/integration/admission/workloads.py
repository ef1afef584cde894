"""Valid manifests of every workload kind of SPEC section 3, as a user would apply them."""

from __future__ import annotations

import copy
from typing import Any

KINDS = (
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
CONTAINERS = [{"name": "server", "image": "registry.example.com/acme/server:1.0"}]


def manifest(kind: str, namespace: str, model: str | None, name: str = "chat") -> dict[str, Any]:
    labels = {"app": name} | ({"gpai.dev/model": model} if model else {})
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    pod_template: dict[str, Any] = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": copy.deepcopy(CONTAINERS)},
    }
    job_template = copy.deepcopy(pod_template)
    job_template["spec"]["restartPolicy"] = "Never"
    selector = {"matchLabels": {"app": name}}
    if kind == "ReplicationController":
        spec: dict[str, Any] = {"replicas": 2, "selector": {"app": name}, "template": pod_template}
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        spec = {"selector": selector, "template": pod_template}
        if kind != "DaemonSet":
            spec["replicas"] = 2
        if kind == "StatefulSet":
            spec["serviceName"] = name
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "Job":
        return {
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": metadata,
            "spec": {"template": job_template},
        }
    if kind == "CronJob":
        spec = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": job_template}}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": {"containers": CONTAINERS}}
    if kind == "InferenceService":
        spec = {"predictor": {"minReplicas": 1, "model": {"modelFormat": {"name": "huggingface"}}}}
        return {"apiVersion": "serving.kserve.io/v1beta1", "kind": kind, "metadata": metadata, "spec": spec}
    raise ValueError(kind)


def bare_model(name: str, namespace: str) -> dict[str, Any]:
    """A systemic-risk GPAIModel without any of its evidence."""
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "modelName": "Aurora",
            "version": "2.0",
            "provider": {"name": "Aurora Labs SE", "establishedInEU": True},
            "trainingCompute": {"flops": 3.8e25},
        },
    }


def policy(name: str, actions: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": name},
        "spec": {"validationActions": actions, **spec},
    }
