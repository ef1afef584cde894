"""Helm and promtool for the chart tests: finding the binaries and rendering the chart.

The binaries come from `HELM` / `PROMTOOL` when set (make test exports them), else from
hack/helm.sh and hack/promtool.sh, which reuse a cache outside the checkout and build or fetch
only the first time. When a tool cannot be had, tests skip locally and fail under CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import trustme
import yaml

from gpai_operator.api.kinds import ADMISSION_VERDICTS, KINDS
from tests.unavailable import unavailable

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "gpai-operator"
NAMESPACE = "gpai-system"
RELEASE = "gpai"

# Every object a chart template renders, by kind. CRDs (crds/) are not templates.
Manifest = dict[str, Any]


class KubernetesYamlLoader(yaml.SafeLoader):
    """Reads YAML as the API server does: `1e+25` is a number (PyYAML, YAML 1.1, wants a dot)."""


KubernetesYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"),
)


def load_all(text: str) -> list[Any]:
    return [document for document in yaml.load_all(text, Loader=KubernetesYamlLoader) if document]


def find_tool(env: str, script: str, *args: str) -> Path:
    """The binary named by `env`, else the one `script` prints (it may build or fetch it first).

    Also serves scripts that provide a folder (hack/third-party-crds.sh): a folder is searchable.
    """
    if named := os.environ.get(env):
        path = Path(named)
        if os.access(path, os.X_OK):
            return path
        unavailable(f"{env}={named} is not an executable file (or a folder)")
    try:
        result = subprocess.run(
            [REPO / "hack" / script, *args], capture_output=True, text=True, check=False, timeout=1800
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        unavailable(f"hack/{script} failed: {error}")
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not os.access(lines[-1], os.X_OK):
        unavailable(
            f"hack/{script} could not provide the binary (exit {result.returncode}):\n{result.stderr}"
        )
    return Path(lines[-1])


class Helm:
    """`helm` against the chart, with rendered manifests parsed and cached per set of values."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self._rendered: dict[str, list[Manifest]] = {}

    def run(
        self, *args: str | Path, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env={
                **os.environ,
                "HELM_CACHE_HOME": str(_helm_home() / "cache"),
                "HELM_CONFIG_HOME": str(_helm_home() / "config"),
                "HELM_DATA_HOME": str(_helm_home() / "data"),
            },
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def with_values(
        self, command: str, values: dict[str, Any], *args: str | Path, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`helm <command> <args> --values <file holding values>`."""
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="values-") as file:
            yaml.safe_dump(values, file)
            file.flush()
            return self.run(command, *args, "--values", file.name, check=check)

    def template(
        self,
        values: dict[str, Any] | None = None,
        *,
        namespace: str = NAMESPACE,
        release: str = RELEASE,
        extra: Iterable[str] = (),
    ) -> list[Manifest]:
        """The chart's rendered objects (not its CRDs) for these values."""
        values = values or {}
        key = json.dumps([values, namespace, release, list(extra)], sort_keys=True)
        if key not in self._rendered:
            result = self.with_values("template", values, release, CHART, "--namespace", namespace, *extra)
            self._rendered[key] = load_all(result.stdout)
        return self._rendered[key]

    def template_error(self, values: dict[str, Any]) -> str:
        """The error `helm template` reports for values it must refuse."""
        result = self.with_values("template", values, RELEASE, CHART, "--namespace", NAMESPACE, check=False)
        assert result.returncode != 0, f"helm template accepted {values}"
        return result.stderr


def _helm_home() -> Path:
    """A private Helm home, so no user or machine configuration (repositories, plugins) leaks in."""
    home = Path(tempfile.gettempdir()) / f"gpai-chart-tests-{os.getuid()}"
    home.mkdir(exist_ok=True)
    return home


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The one object of `kind` (and `name`, when given)."""
    matches = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(matches) == 1, (
        f"expected one {kind} {name or ''}, found {[m['metadata']['name'] for m in matches]}"
    )
    return matches[0]


def kinds(manifests: list[Manifest]) -> set[str]:
    return {m["kind"] for m in manifests}


# A CA certificate, as webhook.clientAuth.caBundle carries one.
TEST_CA_PEM = trustme.CA(organization_name="chart tests").cert_pem.bytes().decode()

# Every documented option, each turned on alone: lint, template and the server-side dry run cover them.
OPTIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "cert-manager": {"webhook": {"tls": {"certManager": {"enabled": True}}}},
    "cert-manager-own-issuer": {
        "webhook": {
            "tls": {
                "certManager": {
                    "enabled": True,
                    "issuerRef": {"name": "ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
                }
            }
        }
    },
    "service-monitor": {
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}}
    },
    "prometheus-rule": {"prometheusRule": {"enabled": True}},
    "dashboard": {"dashboard": {"enabled": True, "annotations": {"grafana_folder": "Compliance"}}},
    "default-policy-audit": {"defaultPolicy": {"enabled": True, "pack": "eu-ai-act-audit"}},
    "default-policy-deny": {"defaultPolicy": {"enabled": True, "pack": "eu-ai-act"}},
    "default-policy-staged": {"defaultPolicy": {"enabled": True, "pack": "eu-ai-act-staged"}},
    "fail-open": {"webhook": {"failurePolicy": "Ignore"}},
    "metrics-open": {"metrics": {"secure": False, "serviceMonitor": {"enabled": True}}},
    "metrics-reader-bound": {
        "metrics": {
            "reader": {
                "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}]
            }
        }
    },
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
            "metricsFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
            ],
        }
    },
    "client-auth": {
        "webhook": {
            "clientAuth": {"enabled": True, "caBundle": TEST_CA_PEM, "allowedNames": ["kube-apiserver"]}
        }
    },
    "only-labelled-workloads": {"webhook": {"onlyLabelledWorkloads": True}},
    "no-kserve": {"webhook": {"kserve": False}},
    "no-webhook": {"webhook": {"enabled": False}},
    "admission-webhook": {"admission": {"mode": "webhook"}},
    "admission-native": {"admission": {"mode": "native"}},
    "admission-both": {"admission": {"mode": "both"}},
    "reports-wgpolicyk8s": {"reports": {"format": "wgpolicyk8s"}},
    "no-reports": {"reports": {"enabled": False}},
    "single-replica": {"replicaCount": 1, "leaderElection": {"enabled": False}},
    "existing-service-account": {"serviceAccount": {"create": False, "name": "platform-operator"}},
    "workload-kinds": {
        "workloadKinds": [
            {
                "group": "argoproj.io",
                "version": "v1alpha1",
                "resource": "rollouts",
                "kind": "Rollout",
                "podTemplatePaths": ["spec.template"],
            },
            {
                "group": "leaderworkerset.x-k8s.io",
                "version": "v1",
                "resource": "leaderworkersets",
                "kind": "LeaderWorkerSet",
                "podTemplatePaths": [
                    "spec.leaderWorkerTemplate.leaderTemplate",
                    "spec.leaderWorkerTemplate.workerTemplate",
                ],
            },
        ],
        "webhook": {"trustedControllers": ["system:serviceaccount:argo-rollouts:argo-rollouts"]},
    },
    "everything": {
        "metrics": {"serviceMonitor": {"enabled": True}},
        "prometheusRule": {"enabled": True, "additionalAlertLabels": {"team": "platform"}},
        "dashboard": {"enabled": True},
        "defaultPolicy": {"enabled": True},
        "webhook": {
            "tls": {"certManager": {"enabled": True}},
            "excludeNamespaces": ["monitoring"],
            "namespaceSelectorExpressions": [
                {"key": "gpai.dev/enforce", "operator": "In", "values": ["true"]}
            ],
        },
        "image": {"digest": "sha256:" + "a" * 64},
        "priorityClassName": "system-cluster-critical",
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ],
    },
}

# The metrics the operator exports (issue 5's contract; SPEC section 6 lists the first ones).
CONTRACT_METRICS = {
    "gpai_model_info": "gauge",
    "gpai_model_compliant": "gauge",
    "gpai_model_obligation_status": "gauge",
    "gpai_model_next_review_timestamp_seconds": "gauge",
    "gpai_model_obligation_expiry_timestamp_seconds": "gauge",
    "gpai_model_obligation_expiring": "gauge",
    "gpai_model_workloads": "gauge",
    "gpai_workloads": "gauge",
    "gpai_admission_requests_total": "counter",
    "gpai_admission_duration_seconds": "histogram",
    "gpai_reconcile_total": "counter",
    "gpai_operator_ready": "gauge",
    "gpai_build_info": "gauge",
    # issue 10: serious incidents
    "gpai_serious_incident_info": "gauge",
    "gpai_serious_incident_report_due_timestamp_seconds": "gauge",
    "gpai_serious_incident_timely": "gauge",
}


def contract_series_names() -> set[str]:
    """Every series name a query may use: histograms add _bucket, _sum and _count."""
    names = set(CONTRACT_METRICS)
    for name, kind in CONTRACT_METRICS.items():
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def operator_metrics_in(promql: str) -> set[str]:
    """The gpai_* series names a PromQL expression queries."""
    return set(re.findall(r"\bgpai_[a-z0-9_]+", promql))


# SPEC section 3, as (API group, resource).
WORKLOAD_RESOURCES = {
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "replicasets"),
    ("", "replicationcontrollers"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "pods"),
    ("serving.kserve.io", "inferenceservices"),
}

# What the operator does, and nothing else (issue 4): (API group, resource) -> verbs.
REPORT_VERBS = {"get", "list", "watch", "create", "patch", "delete"}
NEEDED = {
    **{("gpai.dev", kind.plural): {"get", "list", "watch"} for kind in KINDS},
    ("gpai.dev", "gpaimodels/status"): {"patch"},
    # server-side apply (a patch; creating with one needs create too), and deletion
    ("gpai.dev", ADMISSION_VERDICTS.plural): {"get", "list", "watch", "create", "patch", "delete"},
    ("gpai.dev", f"{ADMISSION_VERDICTS.plural}/status"): {"patch"},
    ("gpai.dev", "seriousincidents/status"): {"patch"},
    ("", "namespaces"): {"get", "list", "watch"},
    **{resource: {"get", "list", "watch", "patch"} for resource in WORKLOAD_RESOURCES},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list", "watch"},
    # policy reports (reports.enabled, the default; reports.format openreports): applied whole, deleted
    **{("openreports.io", plural): REPORT_VERBS for plural in ("reports", "clusterreports")},
    # who scrapes /metrics, asked of the API server (metrics.secure, the default)
    ("authentication.k8s.io", "tokenreviews"): {"create"},
    ("authorization.k8s.io", "subjectaccessreviews"): {"create"},
}


def granted(role: Manifest) -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert not rule.get("resourceNames"), rule
        assert not rule.get("nonResourceURLs"), rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants
