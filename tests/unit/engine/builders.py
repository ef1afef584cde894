"""Small builders for engine tests: manifests as users write them, and a cluster made of them.

`frontier()` is a complete, compliant systemic-risk model with all its evidence on NOW; tests
change one thing (replace an object by another of the same kind and name, drop one, or patch a
field) and assert on what a user would see.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gpai_operator import objects
from gpai_operator.api.evaluation import SPECIFIED_RISKS
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.engine.evaluate import decide_workload, evaluate_model
from gpai_operator.engine.state import ClusterState
from gpai_operator.engine.verdicts import ModelVerdict, ObligationVerdict, WorkloadDecision

Obj = dict[str, Any]
GPAI = "gpai.dev/v1alpha1"
NS = "ml"
MODEL = "acme"
VERSION = "3.1"
NOW = dt.datetime(2026, 11, 28, 12, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
SYSTEMIC_RISK_OBLIGATIONS = [i for i in POLICY_OBLIGATION_IDS if i.startswith("systemic-risk/")]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def on(text: str, hour: int = 12) -> dt.datetime:
    """An instant on that UTC day (midday unless told), as the operator's clock gives it."""
    return dt.datetime.combine(day(text), dt.time(hour), tzinfo=dt.UTC)


def midnight(text: str) -> dt.datetime:
    return dt.datetime.combine(day(text), dt.time(0), tzinfo=dt.UTC)


# ---- editing manifests ---------------------------------------------------------------------------
def _walk(obj: Obj, path: str) -> tuple[Any, str]:
    *parents, leaf = path.split(".")
    node: Any = obj
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    return node, leaf


def patched(obj: Obj, **paths: Any) -> Obj:
    """A copy with fields set; keys are dotted paths with `__` for dots: spec__provider__name."""
    result = copy.deepcopy(obj)
    for key, value in paths.items():
        node, leaf = _walk(result, key.replace("__", "."))
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return result


def without(obj: Obj, *paths: str) -> Obj:
    """A copy with the dotted paths removed."""
    result = copy.deepcopy(obj)
    for path in paths:
        node, leaf = _walk(result, path)
        del node[leaf]
    return result


def excluding(objs: Iterable[Obj], kind: str, name: str | None = None) -> list[Obj]:
    return [o for o in objs if not (o["kind"] == kind and (name is None or o["metadata"]["name"] == name))]


def _meta(name: str, namespace: str | None = NS, labels: Mapping[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


# ---- our kinds -----------------------------------------------------------------------------------
def model(name: str = MODEL, namespace: str = NS, version: str = VERSION, flops: float = 3.8e25) -> Obj:
    """A proprietary model from an EU provider, placed on the market after the legacy cutoff."""
    return {
        "apiVersion": GPAI,
        "kind": "GPAIModel",
        "metadata": _meta(name, namespace),
        "spec": {
            "modelName": "Acme-LLM",
            "version": version,
            "provider": {
                "name": "Acme AI GmbH",
                "establishedInEU": True,
                "codeOfPractice": {
                    "transparency": "Signatory",
                    "copyright": "Signatory",
                    "safetyAndSecurity": "Signatory",
                },
            },
            "euMarketDate": "2025-09-01",
            "modalities": {"input": ["text"], "output": ["text"]},
            "trainingCompute": {"flops": flops, "method": "HardwareBased"},
            "license": {
                "name": "Proprietary",
                "openSource": False,
                "weightsPublic": False,
                "monetised": True,
            },
            "copyrightPolicyRef": {"name": "acme-copyright"},
            "trainingContentSummary": {"url": "https://acme.example/summary", "updated": "2026-09-01"},
            "systemicRisk": {
                "notified": "2025-07-20",
                "framework": {"url": "https://acme.example/framework", "assessed": "2026-03-01"},
                "modelReport": {"url": "https://acme.example/report", "updated": "2026-09-01"},
                "incidentReporting": {
                    "contact": "incidents@acme.example",
                    "procedure": {"url": "https://acme.example/incidents"},
                },
                "cybersecurity": {"url": "https://acme.example/security"},
            },
        },
    }


def small_model(name: str = "mini", namespace: str = NS) -> Obj:
    """Below the systemic-risk threshold: only the general obligations apply."""
    return without(model(name, namespace, flops=3e24), "spec.systemicRisk")


def open_weights_model(name: str = "openmodel", namespace: str = NS) -> Obj:
    return patched(
        small_model(name, namespace),
        spec__license={"name": "Apache-2.0", "openSource": True, "weightsPublic": True, "monetised": False},
    )


def fine_tune(
    name: str = "acme-ft",
    *,
    modification: float | None = 1e23,
    original_flops: float | None = 3e24,
    model_ref: str | None = None,
    documentation: str | None = None,
    namespace: str = NS,
) -> Obj:
    """A model made from the original "Base-LLM 2.0 by Base Labs" (its compute `original_flops`, or not
    said), with `modification` FLOP of its own (None: not declared); nothing else about it is new."""
    derived: Obj = {"modelName": "Base-LLM", "provider": "Base Labs", "version": "2.0"}
    if original_flops is not None:
        derived["trainingFlops"] = original_flops
    if model_ref is not None:
        derived["modelRef"] = {"name": model_ref}
    if documentation is not None:
        derived["documentation"] = {"url": documentation}
    obj = without(small_model(name, namespace), "spec.trainingCompute")
    obj = patched(obj, spec__modelName="Acme-FT", spec__derivedFrom=derived)
    if modification is not None:
        obj = patched(obj, spec__modificationCompute={"flops": modification, "method": "HardwareBased"})
    return obj


def incident(
    name: str = "acme-incident",
    *,
    category: str = "Cybersecurity",
    aware: str = "2026-11-20",
    model_name: str = MODEL,
    namespace: str = NS,
    **reports: Any,
) -> Obj:
    """A SeriousIncident; `reports` in camelCase: initialReport, intermediateReports, resolved,
    finalReport."""
    return {
        "apiVersion": GPAI,
        "kind": "SeriousIncident",
        "metadata": _meta(name, namespace),
        "spec": {
            "modelRef": {"name": model_name},
            "modelVersion": VERSION,
            "category": category,
            "aware": aware,
            **reports,
        },
    }


def with_history(obj: Obj, *entries: tuple[str, str, str | None]) -> Obj:
    """The model as the operator left it: status.versions of (version, firstSeen, superseded)."""
    versions = []
    for version, first_seen, superseded in entries:
        entry = {"version": version, "firstSeen": first_seen}
        if superseded is not None:
            entry["superseded"] = superseded
        versions.append(entry)
    return patched(obj, status={"versions": versions})


def documentation(
    model_name: str = MODEL,
    version: str = VERSION,
    name: str | None = None,
    last_updated: str = "2026-09-01",
    namespace: str = NS,
) -> Obj:
    """A complete Model Documentation Form: every field Annex XI (sections 1 and 2) and Annex XII ask."""
    return {
        "apiVersion": GPAI,
        "kind": "ModelDocumentation",
        "metadata": _meta(name or f"{model_name}-{version}", namespace),
        "spec": {
            "modelRef": {"name": model_name},
            "modelVersion": version,
            "documentVersion": "4",
            "lastUpdated": last_updated,
            "general": {"legalName": "Acme AI GmbH", "modelName": "Acme-LLM", "releaseDate": "2025-09-01"},
            "properties": {
                "architecture": "decoder-only transformer",
                "parameterCount": 7.1e10,
                "inputModalities": [{"modality": "text", "maxSize": "128000 tokens"}],
                "outputModalities": [{"modality": "text", "maxSize": "8192 tokens"}],
            },
            "distribution": {
                "channels": ["api"],
                "license": {"name": "Acme licence", "url": "https://acme.example/licence"},
            },
            "use": {
                "acceptableUsePolicy": "https://acme.example/aup",
                "intendedUses": ["chat assistants"],
                "integrationSystems": ["chatbots"],
                "integrationMeans": "REST API",
            },
            "training": {"designSpecification": "pre-training then RLHF"},
            "data": {
                "types": ["text"],
                "provenance": ["WebCrawled", "ThirdPartyLicensed"],
                "acquisition": "crawled with a disclosed crawler; licensed corpora",
                "dataPoints": {"count": 1.5e13, "unit": "tokens"},
                "scope": "multilingual web text up to 2025-03",
                "curation": "deduplication and filtering",
                "unsuitableContentMeasures": "CSAM hash matching, toxicity filters",
                "biasMeasures": "demographic balance audits",
            },
            "compute": {"trainingTimeDays": 90, "trainingFlops": 3.8e25, "methodology": "hardware-based"},
            "energy": {"trainingMWh": 1200},
            "systemicRisk": {
                "evaluationStrategy": "internal and external evaluations",
                "adversarialTesting": "red-teaming by an independent lab",
                "systemArchitecture": "served behind a safety classifier",
            },
            "contact": "docs@acme.example",
        },
    }


def copyright_policy(name: str = "acme-copyright", namespace: str = NS, review_by: str = "2027-06-30") -> Obj:
    return {
        "apiVersion": GPAI,
        "kind": "CopyrightPolicy",
        "metadata": _meta(name, namespace),
        "spec": {
            "provider": "Acme AI GmbH",
            "document": {"url": "https://acme.example/copyright"},
            "crawling": {
                "respectsRobotsTxt": True,
                "optOutProtocols": ["robots.txt", "TDMRep"],
                "respectsPaywalls": True,
                "excludesInfringingSites": True,
            },
            "outputSafeguards": {"description": "output filters", "termsProhibitInfringement": True},
            "complaints": {"contact": "copyright@acme.example"},
            "reviewBy": review_by,
        },
    }


def evaluation(
    name: str,
    risks: Iterable[str] = SPECIFIED_RISKS,
    *,
    type: str = "Evaluation",
    completed: str = "2026-06-01",
    valid_until: str = "2027-05-31",
    outcome: str = "Acceptable",
    model_name: str = MODEL,
    version: str = VERSION,
    namespace: str = NS,
) -> Obj:
    return {
        "apiVersion": GPAI,
        "kind": "RiskEvaluation",
        "metadata": _meta(name, namespace),
        "spec": {
            "modelRef": {"name": model_name},
            "modelVersion": version,
            "type": type,
            "risks": list(risks),
            "performedBy": {"organisation": "Independent Lab", "independent": True},
            "completed": completed,
            "validUntil": valid_until,
            "outcome": outcome,
        },
    }


def red_team(name: str = "acme-red-team", **kwargs: Any) -> Obj:
    kwargs.setdefault("risks", ["CyberOffence"])
    return evaluation(name, type="AdversarialTesting", **kwargs)


def frontier(name: str = MODEL, namespace: str = NS) -> list[Obj]:
    """A systemic-risk model with complete, current evidence on NOW."""
    return [
        model(name, namespace),
        documentation(name, namespace=namespace),
        copyright_policy(namespace=namespace),
        evaluation(f"{name}-evals", model_name=name, namespace=namespace),
        red_team(f"{name}-red-team", model_name=name, namespace=namespace),
    ]


def policy(name: str, actions: Iterable[str] = ("Deny",), **spec: Any) -> Obj:
    """A CompliancePolicy; spec keys in snake_case-free camelCase, e.g. namespaceSelector=..."""
    return {
        "apiVersion": GPAI,
        "kind": "CompliancePolicy",
        "metadata": _meta(name, None),
        "spec": {"validationActions": list(actions), **spec},
    }


def exception(obligations: Iterable[str] = (), expires: str = "2026-12-31", **fields: str) -> Obj:
    found: Obj = {
        "namespace": fields.get("namespace", NS),
        "model": fields.get("model", MODEL),
        "obligations": list(obligations),
        "reason": fields.get("reason", "evaluation scheduled with an external lab"),
        "expires": expires,
    }
    if "version" in fields:
        found["version"] = fields["version"]
    return found


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, None, labels)}


# ---- workloads -----------------------------------------------------------------------------------
_POD_SPEC: Obj = {"containers": [{"name": "server", "image": "ghcr.io/acme/server:1"}]}
_TEMPLATE: Obj = {"metadata": {"labels": {"app": "server"}}, "spec": _POD_SPEC}
WORKLOAD_API_VERSIONS: dict[str, str] = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "ReplicationController": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Pod": "v1",
    "InferenceService": "serving.kserve.io/v1beta1",
}


def _workload_spec(kind: str) -> Obj:
    selector = {"matchLabels": {"app": "server"}}
    match kind:
        case "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet":
            return {"selector": selector, "template": _TEMPLATE}
        case "ReplicationController":
            return {"selector": {"app": "server"}, "template": _TEMPLATE}
        case "Job":
            return {"template": {**_TEMPLATE, "spec": {**_POD_SPEC, "restartPolicy": "Never"}}}
        case "CronJob":
            return {"schedule": "0 3 * * *", "jobTemplate": {"spec": _workload_spec("Job")}}
        case "Pod":
            return _POD_SPEC
        case "InferenceService":
            return {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": "s3://m"}}}
    raise ValueError(kind)


def workload(
    kind: str = "Deployment",
    name: str = "chat",
    model_name: str | None = MODEL,
    namespace: str = NS,
    controller: str | None = None,
    controller_name: str | None = None,
    controller_uid: str = "u1",
) -> Obj:
    """A workload of SPEC section 3; `controller` (a kind) adds an ownerReference with
    controller: true, naming `controller_name` (default `<name>-owner`) with `controller_uid`."""
    labels = {"app": "server", **({"gpai.dev/model": model_name} if model_name else {})}
    obj: Obj = {
        "apiVersion": WORKLOAD_API_VERSIONS[kind],
        "kind": kind,
        "metadata": _meta(name, namespace, labels),
        "spec": copy.deepcopy(_workload_spec(kind)),
    }
    if controller:
        obj["metadata"]["ownerReferences"] = [
            {
                "apiVersion": WORKLOAD_API_VERSIONS.get(controller, "v1"),
                "kind": controller,
                "name": controller_name or f"{name}-owner",
                "uid": controller_uid,
                "controller": True,
            }
        ]
    return obj


# ---- the cluster and what a user sees -----------------------------------------------------------
def cluster(*objs: Obj | Iterable[Obj]) -> ClusterState:
    """A ClusterState holding the objects; later objects replace earlier ones of the same name."""
    state = ClusterState()
    for item in objs:
        for obj in [item] if isinstance(item, dict) else item:
            objects.apply(state, obj)
    return state


def verdict(
    state: ClusterState, name: str = MODEL, namespace: str = NS, now: dt.datetime = NOW
) -> ModelVerdict:
    return evaluate_model(state, (namespace, name), now)


def obligation(
    state: ClusterState, obligation_id: str, now: dt.datetime = NOW, name: str = MODEL
) -> ObligationVerdict:
    found = {o.id: o for o in verdict(state, name, now=now).obligations}
    return found[obligation_id]


def status(state: ClusterState, obligation_id: str, now: dt.datetime = NOW, name: str = MODEL) -> str:
    return obligation(state, obligation_id, now, name).status


def decision(state: ClusterState, obj: Obj, now: dt.datetime = NOW) -> WorkloadDecision:
    return decide_workload(state, objects.workload_from(obj), now)
