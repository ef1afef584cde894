"""Builders for the unit tests: AdmissionReviews as kube-apiserver sends them, and cluster states."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from gpai_operator import objects
from gpai_operator.runtime import ManualClock, Runtime

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
NAMESPACE = "ml"
MODEL = "acme-llm"
OPERATOR = "system:serviceaccount:gpai-system:gpai-operator"

KINDS: dict[str, tuple[str, str, str]] = {  # kind -> (group, version, plural)
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "Pod": ("", "v1", "pods"),
    "InferenceService": ("serving.kserve.io", "v1beta1", "inferenceservices"),
}

POD_SPEC = {"containers": [{"name": "server", "image": "registry.example.com/acme/server:1.0"}]}


def workload(kind: str, name: str = "chat", model: str | None = MODEL, **metadata: Any) -> dict[str, Any]:
    """A workload of `kind` as the API server stores it, labelled with `model` unless None."""
    group, version, _ = KINDS[kind]
    labels = {"app": name} | ({"gpai.dev/model": model} if model else {})
    meta = {"name": name, "namespace": NAMESPACE, "labels": labels, **metadata}
    template = {"metadata": {"labels": {"app": name}}, "spec": copy.deepcopy(POD_SPEC)}
    spec: dict[str, Any]
    if kind == "Pod":
        spec = copy.deepcopy(POD_SPEC)
    elif kind == "CronJob":
        spec = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "InferenceService":
        spec = {"predictor": {"minReplicas": 1, "model": {"modelFormat": {"name": "huggingface"}}}}
    elif kind == "Job":
        spec = {"backoffLimit": 2, "template": template}
    elif kind == "ReplicationController":
        spec = {"replicas": 2, "selector": {"app": name}, "template": template}
    else:
        spec = {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": template}
    api_version = f"{group}/{version}" if group else version
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}


def review(
    operation: str,
    obj: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    subresource: str | None = None,
    username: str = "alice",  # a namespace user, not a trusted controller
    uid: str = "705ab4f5-6393-11e8-b7cc-42010a800002",
    api_version: str = "admission.k8s.io/v1",
    dry_run: bool = False,
    parent: str = "Deployment",
) -> dict[str, Any]:
    """An AdmissionReview request for `obj` (or `old` for DELETE); a Scale is of a `parent`."""
    subject = obj if obj is not None else old
    assert subject is not None
    group, version, plural = KINDS[parent if subject["kind"] == "Scale" else subject["kind"]]
    kind = {"group": group, "version": version, "kind": subject["kind"]}
    if subresource == "scale":
        kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    request: dict[str, Any] = {
        "uid": uid,
        "kind": kind,
        "resource": {"group": group, "version": version, "resource": plural},
        "requestKind": kind,
        "requestResource": {"group": group, "version": version, "resource": plural},
        "name": subject["metadata"].get("name", ""),
        "namespace": subject["metadata"].get("namespace", NAMESPACE),
        "operation": operation,
        "userInfo": {"username": username, "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": f"{operation.capitalize()}Options"},
    }
    if subresource:
        request["subResource"] = subresource
    return {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}


def scale(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"replicas": replicas},
    }


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


# ---- cluster state --------------------------------------------------------------------------------
def runtime(*manifests: dict[str, Any], synced: bool = True) -> Runtime:
    rt = Runtime(clock=ManualClock(NOW))
    for manifest in manifests:
        objects.apply(rt.state, manifest)
    rt.synced = synced
    return rt


def model(name: str = MODEL, *, summary: bool = False, systemic: bool = False) -> dict[str, Any]:
    """A GPAIModel; with `summary`, its training-content summary is current."""
    spec: dict[str, Any] = {
        "modelName": name.title(),
        "version": "3.1",
        "provider": {"name": "Acme AI GmbH", "establishedInEU": True},
        "trainingCompute": {"flops": 3.8e25 if systemic else 4e23},
    }
    if summary:
        spec["trainingContentSummary"] = {"url": "https://acme.example/summary", "updated": "2026-10-01"}
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }


def policy(name: str, actions: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": name},
        "spec": {"validationActions": actions, **spec},
    }


# A policy that asks only for the training-content summary: a model is compliant with one field.
SUMMARY_ONLY = ["copyright/training-content-summary"]


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
