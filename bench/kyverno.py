"""Kyverno's admission controller beside our operator, for the peer benchmark (bench/peer.py).

hack/kyverno.sh builds `github.com/kyverno/kyverno/cmd/kyverno` at the version pinned in
hack/kyverno/go.mod and extracts the CRDs of that version. This module installs what the admission
controller needs in a bare control plane (its CRDs, its namespace, the `kyverno` and
`kyverno-metrics` ConfigMaps with the Helm chart's default content), starts it out of cluster with
the flags the chart passes by default plus those running outside a cluster needs, and writes the
ClusterPolicy that is our gate the way Kyverno users write cross-resource checks.

Running outside a cluster (Kyverno's own `--serverIP` mode):
- `--kubeconfig`: a ServiceAccount token (kyverno:kyverno-admission-controller, bound to
  cluster-admin instead of the chart's ClusterRoles), so its requests are authorized like a pod's;
- `--serverIP=127.0.0.1:PORT` with `--webhookServerHost/Port`: the webhook configurations Kyverno
  registers call `https://127.0.0.1:PORT/...`, and the serving certificate Kyverno issues itself
  (its in-process certificate manager, CA and pair in Secrets, as in a cluster) names that address;
- metrics and controller-runtime metrics on loopback ports instead of :8000 and :8080.
Leader election cannot be turned off in the admission controller: one replica takes its Lease at
once, as a single pod does. The reports and background controllers are not run; the admission
reports the admission controller writes are removed between phases (`clear_admission_reports`), as
the reports controller would consume them.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpai_operator.admission.configuration import not_a_trusted_controllers_object, what_runs_changed
from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.engine import DEFAULT_KINDS, WorkloadKind, WorkloadKinds
from gpai_operator.testing.controlplane import free_ports
from gpai_operator.testing.processes import ManagedProcess, tail

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "hack" / "kyverno.sh"
GO_MISSING = 3  # hack/kyverno.sh's exit code when the Go toolchain is needed and absent

NAMESPACE = "kyverno"
SERVICE_ACCOUNT = "kyverno-admission-controller"
POLICY = "gpai-model-compliant"
# Kyverno names the webhooks it registers for resource validation validate.kyverno.svc-fail,
# -ignore, and -fail-finegrained-<policy> for a policy with its own match conditions.
WEBHOOK_PREFIX = "validate.kyverno.svc"

# The admission controller's arguments in Kyverno's Helm chart (charts/kyverno 3.9.1, the chart of
# v1.19.1) with its default values, less those replaced in `KyvernoProcess` for running out of cluster.
CHART_ARGS = (
    "--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca",
    "--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair",
    "--tlsKeyAlgorithm=RSA",
    "--backgroundServiceAccountName=system:serviceaccount:kyverno:kyverno-background-controller",
    "--reportsServiceAccountName=system:serviceaccount:kyverno:kyverno-reports-controller",
    "--servicePort=443",
    "--resyncPeriod=15m",
    "--crdWatcher=false",
    "--disableMetrics=false",
    "--otelConfig=prometheus",
    "--admissionReports=true",
    "--maxAdmissionReports=1000",
    "--autoUpdateWebhooks=true",
    "--excludeBootstrapResources=false",
    "--enableConfigMapCaching=true",
    "--enableDeferredLoading=true",
    "--dumpPayload=false",
    "--forceFailurePolicyIgnore=false",
    "--generateValidatingAdmissionPolicy=true",
    "--generateMutatingAdmissionPolicy=false",
    "--dumpPatches=false",
    "--maxAPICallResponseLength=2000000",
    "--apiCallTimeout=30s",
    "--maxGlobalContextEntries=0",
    "--loggingFormat=text",
    "--v=2",
    "--omitEvents=PolicyApplied,PolicySkipped",
    "--enablePolicyException=false",
    "--protectManagedResources=false",
    "--allowInsecureRegistry=false",
    "--registryCredentialHelpers=default,google,amazon,azure,github",
    "--enableReporting=validate,mutate,mutateExisting,generate,imageVerify",
)
CHART_ENV = {
    "INIT_CONFIG": "kyverno",
    "METRICS_CONFIG": "kyverno-metrics",
    "KYVERNO_NAMESPACE": NAMESPACE,
    "KYVERNO_POD_NAME": "kyverno-admission-controller-0",
    "KYVERNO_SERVICEACCOUNT_NAME": SERVICE_ACCOUNT,
    "KYVERNO_ROLE_NAME": "kyverno:admission-controller",
    "KYVERNO_SVC": "kyverno-svc",
    "KYVERNO_DEPLOYMENT": "kyverno-admission-controller",
}
# The chart's resource filters that apply outside Kyverno's own objects (it adds 70-odd more naming
# those, which do not exist here).
RESOURCE_FILTERS = (
    "[*/*,kyverno,*]",
    "[Event,*,*]",
    "[*/*,kube-system,*]",
    "[*/*,kube-public,*]",
    "[*/*,kube-node-lease,*]",
    "[Node,*,*]",
    "[Node/?*,*,*]",
    "[APIService,*,*]",
    "[APIService/?*,*,*]",
    "[TokenReview,*,*]",
    "[SubjectAccessReview,*,*]",
    "[SelfSubjectAccessReview,*,*]",
    "[Binding,*,*]",
    "[Pod/binding,*,*]",
    "[ReplicaSet,*,*]",
    "[ReplicaSet/?*,*,*]",
    "[EphemeralReport,*,*]",
    "[ClusterEphemeralReport,*,*]",
)
_NAMESPACE_NOT_IN = {"key": "kubernetes.io/metadata.name", "operator": "NotIn"}
_NO_NAMESPACE_LABELS = ["resource_namespace"]
_NO_NAMESPACE_DIMENSIONS = ["resource_namespace", "policy_namespace"]


class KyvernoUnavailable(RuntimeError):
    """Kyverno cannot be had here (no Go toolchain to build it); the message says what is missing."""


def provide() -> Path:
    """The folder with the `kyverno` binary and `crds/`, built by hack/kyverno.sh the first time."""
    try:
        script = subprocess.Popen([SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise RuntimeError(f"could not run {SCRIPT.relative_to(ROOT)}: {error}") from error
    progress = []
    for line in script.stderr or ():  # a first build takes many minutes: pass its progress on
        sys.stderr.write(line)
        progress.append(line)
    lines = (script.stdout.read() if script.stdout else "").strip().splitlines()
    code = script.wait()
    if code == GO_MISSING:
        raise KyvernoUnavailable("".join(progress).strip().removeprefix("kyverno: "))
    if code != 0 or not lines or not os.access(Path(lines[-1]) / "kyverno", os.X_OK):
        raise RuntimeError(
            f"{SCRIPT.relative_to(ROOT)} failed (exit {code}):\n{''.join(progress[-30:]).strip()}"
        )
    return Path(lines[-1])


def config_maps() -> list[dict[str, Any]]:
    """`kyverno` and `kyverno-metrics`, Kyverno's settings, with the chart's default data."""
    webhooks = {"namespaceSelector": {"matchExpressions": [{**_NAMESPACE_NOT_IN, "values": ["kube-system"]}]}}
    webhooks["namespaceSelector"]["matchExpressions"].append({**_NAMESPACE_NOT_IN, "values": [NAMESPACE]})
    exposure: dict[str, dict[str, list[str]]] = {
        f"kyverno_{name}": {"disabledLabelDimensions": [*_NO_NAMESPACE_LABELS, "resource_request_operation"]}
        for name in (
            "policy_execution_duration_seconds",
            "validating_policy_execution_duration_seconds",
            "image_validating_policy_execution_duration_seconds",
            "mutating_policy_execution_duration_seconds",
            "generating_policy_execution_duration_seconds",
        )
    }
    exposure["kyverno_admission_review_duration_seconds"] = {"disabledLabelDimensions": _NO_NAMESPACE_LABELS}
    exposure["kyverno_admission_requests_total"] = {"disabledLabelDimensions": _NO_NAMESPACE_LABELS}
    for name in ("policy_rule_info_total", "policy_results_total", "validating_policy_results_total"):
        exposure[f"kyverno_{name}"] = {"disabledLabelDimensions": _NO_NAMESPACE_DIMENSIONS}

    def config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "data": data,
        }

    return [
        config_map(
            "kyverno",
            {
                "enableDefaultRegistryMutation": "true",
                "defaultRegistry": "docker.io",
                "generateSuccessEvents": "false",
                "excludeGroups": "system:nodes",
                "resourceFilters": "".join(RESOURCE_FILTERS),
                "updateRequestThreshold": "1000",
                "webhooks": json.dumps(webhooks),
                "webhookAnnotations": json.dumps({"admissions.enforcer/disabled": "true"}),
            },
        ),
        config_map(
            "kyverno-metrics",
            {
                "namespaces": json.dumps({"include": [], "exclude": []}),
                "bucketBoundaries": "0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 25, 30",
                "metricsExposure": json.dumps(exposure),
            },
        ),
    ]


def cluster_policy(
    namespace_selector: dict[str, Any],
    kinds: WorkloadKinds = DEFAULT_KINDS,
    *,
    match_conditions: bool = False,
) -> dict[str, Any]:
    """Our gate as a Kyverno user writes it: in the namespaces `namespace_selector` picks, a workload
    must carry the gpai.dev/model label, and the GPAIModel it names must have Compliant=True, read by
    an `apiCall` at admission time. CREATE and UPDATE are judged; on an UPDATE of an object that
    already violates, Kyverno lets it through (`allowExistingViolations`, on by default).

    Like our gate, it leaves alone what the trusted controllers (kube-controller-manager's) do: a
    ReplicaSet's Pods, which carry no model label, were judged as their Deployment. Kyverno users
    say that with an `exclude` of those subjects.

    Written plainly, Kyverno is also sent the operator's annotation patches (UPDATEs), which our
    webhook's match conditions keep away from it. With `match_conditions` the policy carries the
    same CEL as our validating webhook (CREATE, or an UPDATE that changes what runs; a trusted
    controller's objects left out), so both are sent the same requests; Kyverno 1.19 then compiles
    those expressions again for every request it judges (about half its CPU in a profile).
    """
    matched = {
        "kinds": [_kyverno_kind(kind) for kind in kinds],
        "operations": ["CREATE", "UPDATE"],
        "namespaceSelector": namespace_selector,
    }
    excluded = {"any": [{"subjects": _subjects(DEFAULT_TRUST)}]}
    model = '{{request.object.metadata.labels."gpai.dev/model"}}'  # a Kyverno variable (JMESPath)
    spec: dict[str, Any] = {"background": False}  # admission only: the rules read request.* variables
    if match_conditions:
        spec["webhookConfiguration"] = {
            "matchConditions": [
                {
                    "name": "not-a-trusted-controllers-object",
                    "expression": not_a_trusted_controllers_object(DEFAULT_TRUST),
                },
                {
                    "name": "create-or-what-runs-changed",
                    "expression": f'request.operation == "CREATE" || {what_runs_changed(kinds)}',
                },
            ]
        }
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {
            "name": POLICY,
            # The kinds are listed: no rules generated for Pod controllers.
            "annotations": {"pod-policies.kyverno.io/autogen-controllers": "none"},
        },
        "spec": {
            **spec,
            "rules": [
                {
                    "name": "model-label-required",
                    "match": {"any": [{"resources": matched}]},
                    "exclude": excluded,
                    "validate": {
                        "failureAction": "Enforce",
                        "message": "the label gpai.dev/model must name the GPAIModel this workload serves",
                        "pattern": {"metadata": {"labels": {"gpai.dev/model": "?*"}}},
                    },
                },
                {
                    "name": "model-compliant",
                    "match": {
                        "any": [
                            {
                                "resources": {
                                    **matched,
                                    "selector": {
                                        "matchExpressions": [{"key": "gpai.dev/model", "operator": "Exists"}]
                                    },
                                }
                            }
                        ]
                    },
                    "exclude": excluded,
                    "context": [
                        {
                            "name": "compliant",
                            "apiCall": {
                                "urlPath": "/apis/gpai.dev/v1alpha1/namespaces/{{request.namespace}}"
                                f"/gpaimodels/{model}",
                                "jmesPath": "status.conditions[?type=='Compliant'].status | [0] || 'Unknown'",
                                "default": "NotFound",
                            },
                        }
                    ],
                    "validate": {
                        "failureAction": "Enforce",
                        "message": f"GPAIModel {model} is not compliant (Compliant: {{{{compliant}}}})",
                        "deny": {
                            "conditions": {
                                "any": [{"key": "{{compliant}}", "operator": "NotEquals", "value": "True"}]
                            }
                        },
                    },
                },
            ],
        },
    }


def _subjects(trusted: TrustedControllers) -> list[dict[str, str]]:
    """RBAC subjects for the trusted controllers' usernames (service accounts, or users)."""
    subjects = []
    for username in sorted(trusted.usernames):
        prefix, _, rest = username.partition("system:serviceaccount:")
        if not prefix and rest.count(":") == 1:
            namespace, name = rest.split(":")
            subjects.append({"kind": "ServiceAccount", "namespace": namespace, "name": name})
        else:
            subjects.append({"kind": "User", "name": username})
    return subjects


def _kyverno_kind(kind: WorkloadKind) -> str:
    """Kyverno's name for a kind: the Kind alone for Kubernetes' own, else group/version/Kind."""
    if kind.group in ("", "apps", "batch"):
        return kind.kind
    return f"{kind.group}/{kind.version or '*'}/{kind.kind}"


@dataclass(frozen=True)
class Ports:
    webhook: int
    metrics: int
    controller_runtime_metrics: int


class KyvernoProcess:
    """The admission controller in a child process, out of cluster, its log in `log_path`."""

    def __init__(self, folder: Path, kubeconfig: Path, workdir: Path) -> None:
        self.ports = Ports(*free_ports(3))
        self.log_path = workdir / "kyverno.log"
        tuf_root = workdir / "sigstore"  # the chart mounts an emptyDir there
        tuf_root.mkdir(parents=True, exist_ok=True)
        address = f"127.0.0.1:{self.ports.webhook}"
        argv: list[str | Path] = [
            folder / "kyverno",
            *CHART_ARGS,
            f"--kubeconfig={kubeconfig}",
            f"--serverIP={address}",
            "--webhookServerHost=127.0.0.1",
            f"--webhookServerPort={self.ports.webhook}",
            "--metricsHost=127.0.0.1",
            f"--metricsPort={self.ports.metrics}",
            f"--controllerRuntimeMetricsAddress=127.0.0.1:{self.ports.controller_runtime_metrics}",
        ]
        env = {
            **CHART_ENV,
            "TUF_ROOT": str(tuf_root),
            "HOME": str(workdir),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        self.process = ManagedProcess("kyverno", argv, self.log_path, env=env)
        self.readiness_url = f"https://{address}/health/readiness"

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until its readiness endpoint answers 200 (its own certificate issued and served)."""
        started = time.monotonic()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # only whether it answers; the API server checks the chain
        while True:
            if (code := self.process.exit_code()) is not None:
                raise RuntimeError(f"Kyverno exited with {code}; its log:\n{tail(self.log_path, 40)}")
            try:
                with urllib.request.urlopen(self.readiness_url, timeout=5, context=context) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                pass
            if time.monotonic() - started > timeout:
                raise TimeoutError(
                    f"Kyverno was not ready within {timeout:.0f} s; its log:\n{tail(self.log_path, 40)}"
                )
            time.sleep(0.5)

    def metrics(self) -> str:
        """Its Prometheus metrics (plain HTTP on loopback, as the chart serves them)."""
        from gpai_operator.testing.operator_process import http_get

        return http_get(f"http://127.0.0.1:{self.ports.metrics}/metrics")[1]

    def stop(self) -> None:
        self.process.stop()
