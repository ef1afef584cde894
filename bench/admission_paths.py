"""The admission paths the peer benchmark (bench/peer.py) compares, each registered only during its
phases: our webhook, Kyverno's ClusterPolicy and native admission (none is the path of no path).

Each says how to register and unregister itself, which of kube-apiserver's consulted webhooks and
policies are its own (bench/apiserver.py), and where its own measure of its reviews is read.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.admission_e2e import NAMESPACE
from bench.apiserver import AdmissionCounts, WebhookCalls, histogram_totals

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "gpai-operator"
OPERATOR_NAMESPACE, OPERATOR_ACCOUNT = "gpai-system", "gpai-operator"
# What eu-ai-act-enforce (examples/policies.yaml, Deny) selects: where the gate refuses.
ENFORCED_NAMESPACES = {"matchLabels": {"gpai.dev/enforce": "true"}}


@dataclass
class AdmissionPath:
    """One way of judging workloads, registered only during its phases."""

    name: str
    label: str
    register: Callable[[], None] = lambda: None
    unregister: Callable[[], None] = lambda: None
    owns: Callable[[str], bool] = lambda consulted: False  # a `webhook:`/`policy:` name from /metrics
    after_phase: Callable[[], None] = lambda: None
    webhook_names: Callable[[AdmissionCounts], list[str]] = lambda counts: []
    reviews: Callable[[], WebhookCalls] | None = None  # the webhook's own count and time of its reviews
    skipped: str = ""  # why the path is not measured, if it is not
    refusal: str = ""  # what the API server said to the non-compliant Deployment
    gates: bool = True  # refuses a non-compliant model (checked before timing); not the trivial reference


def gpai_path(
    api_client: Any,
    url: str,
    ca_pem: bytes,
    metrics: Callable[[], str] | None,
    *,
    name: str = "gpai",
    label: str = "gpai webhook",
    gates: bool = True,
) -> AdmissionPath:
    from kubernetes.client import AdmissionregistrationV1Api

    from bench.service_accounts import username
    from gpai_operator.admission.configuration import ADVISE, VALIDATE, webhook_configuration

    admission = AdmissionregistrationV1Api(api_client)
    configuration = webhook_configuration(
        url, ca_pem, operator_username=username(OPERATOR_NAMESPACE, OPERATOR_ACCOUNT)
    )
    validate, advise = VALIDATE, ADVISE
    if name != "gpai":  # a reference path: its own names, so the phases can tell it from ours
        validate, advise = f"{name}.{VALIDATE}", f"{name}.{ADVISE}"
        configuration["metadata"]["name"] = f"{name}-{configuration['metadata']['name']}"
        for webhook in configuration["webhooks"]:
            webhook["name"] = f"{name}.{webhook['name']}"
    ours = {f"webhook:{validate}", f"webhook:{advise}"}
    return AdmissionPath(
        name,
        label,
        register=lambda: admission.create_validating_webhook_configuration(configuration),
        unregister=lambda: admission.delete_validating_webhook_configuration(
            configuration["metadata"]["name"]
        ),
        owns=lambda consulted: consulted in ours,
        webhook_names=lambda counts: [validate],
        gates=gates,
        reviews=(lambda: histogram_totals(metrics(), "gpai_admission_duration_seconds")) if metrics else None,
    )


def kyverno_path(api_client: Any, metrics: Callable[[], str], *, match_conditions: bool) -> AdmissionPath:
    from kubernetes.client import CustomObjectsApi

    from bench.kyverno import POLICY, WEBHOOK_PREFIX, cluster_policy

    custom = CustomObjectsApi(api_client)
    policy = cluster_policy(ENFORCED_NAMESPACES, match_conditions=match_conditions)

    def unregister() -> None:
        custom.delete_cluster_custom_object("kyverno.io", "v1", "clusterpolicies", POLICY)

    def clear_admission_reports() -> None:
        custom.delete_collection_namespaced_custom_object(
            "reports.kyverno.io", "v1", NAMESPACE, "ephemeralreports"
        )

    return AdmissionPath(
        "kyverno",
        "Kyverno ClusterPolicy" + (" (match conditions)" if match_conditions else ""),
        register=lambda: custom.create_cluster_custom_object("kyverno.io", "v1", "clusterpolicies", policy),
        unregister=unregister,
        owns=lambda consulted: consulted.startswith(f"webhook:{WEBHOOK_PREFIX}"),
        after_phase=clear_admission_reports,
        webhook_names=lambda counts: [name for name in counts.webhooks if name.startswith(WEBHOOK_PREFIX)],
        reviews=lambda: histogram_totals(
            metrics(), "kyverno_admission_review_duration_seconds", resource_request_operation="create"
        ),
    )


# ---- NATIVE ADMISSION -------------------------------------------------------------------------------
# The place to wire in the operator's native admission (issue 15) once it exists. Today the phase is
# skipped with the reason. Detected by the chart shipping templates/validating-admission-policy*.yaml:
# those templates are rendered with helm (the chart's defaults plus `--native-set`) and everything
# they render is created for the phase and deleted after it; kube-apiserver's
# apiserver_validating_admission_policy_check_total tells the phase's policies were consulted.
# Should native admission arrive as operator/gpai_operator/admission/native.py without templates, or
# need the operator started differently, extend `native_path` (and OperatorProcess's arguments) here.
NATIVE_TEMPLATES = "validating-admission-policy*.yaml"
NATIVE_MODULE = "gpai_operator.admission.native"


def native_path(api_client: Any, helm_sets: Sequence[str]) -> AdmissionPath:
    label = "native (ValidatingAdmissionPolicy)"
    templates = sorted((CHART / "templates").glob(NATIVE_TEMPLATES))
    if not templates:
        module = importlib.util.find_spec(NATIVE_MODULE) is not None
        reason = (
            f"{NATIVE_MODULE} exists but the chart ships no templates/{NATIVE_TEMPLATES}: "
            "wire its objects in bench/admission_paths.py (native_path)"
            if module
            else f"the operator has no native admission yet (no chart templates/{NATIVE_TEMPLATES}, "
            f"no {NATIVE_MODULE})"
        )
        return AdmissionPath("native", label, skipped=reason)
    try:
        objects = _render(templates, helm_sets)
    except (OSError, RuntimeError) as error:
        return AdmissionPath("native", label, skipped=f"could not render {templates[0].name}: {error}")
    policies = {o["metadata"]["name"] for o in objects if o.get("kind") == "ValidatingAdmissionPolicy"}
    if not policies:
        return AdmissionPath(
            "native",
            label,
            skipped=f"{', '.join(t.name for t in templates)} rendered no policy (see --native-set)",
        )
    return AdmissionPath(
        "native",
        label,
        register=lambda: create_all(api_client, objects),
        unregister=lambda: delete_all(api_client, objects),
        owns=lambda consulted: (
            consulted.removeprefix("policy:") in policies and consulted.startswith("policy:")
        ),
    )


def _render(templates: list[Path], helm_sets: Sequence[str]) -> list[dict[str, Any]]:
    helm = os.environ.get("HELM") or _script_output(ROOT / "hack" / "helm.sh")
    argv = [helm, "template", "gpai", str(CHART), f"--namespace={OPERATOR_NAMESPACE}"]
    argv += [f"--show-only=templates/{template.name}" for template in templates]
    argv += [f"--set={assignment}" for assignment in helm_sets]
    rendered = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    if rendered.returncode != 0:
        raise RuntimeError(rendered.stderr.strip()[-2000:])
    return [document for document in yaml.safe_load_all(rendered.stdout) if document]


def _script_output(script: Path) -> str:
    result = subprocess.run([script], capture_output=True, text=True, check=False, timeout=1800)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(
            f"{script.name} failed (exit {result.returncode}): {result.stderr.strip()[-1000:]}"
        )
    return lines[-1]


def create_all(api_client: Any, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        _resource(api_client, obj).create(body=obj, namespace=obj["metadata"].get("namespace"))


def delete_all(api_client: Any, objects: list[dict[str, Any]]) -> None:
    for obj in reversed(objects):
        metadata = obj["metadata"]
        _resource(api_client, obj).delete(name=metadata["name"], namespace=metadata.get("namespace"))


def _resource(api_client: Any, obj: dict[str, Any]) -> Any:
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(api_client).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
