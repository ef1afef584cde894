"""The Helm chart against a real API server.

Every manifest the chart renders, with every documented option, passes the API server's own
validation (server-side dry run; the webhook's CEL matchConditions are compiled there). Then the
chart is installed for real: the objects exist as intended, an upgrade keeps the webhook's
certificate, the ServiceAccount's RBAC allows what the operator does and nothing else, and the
webhook registration sends the API server's requests to the webhook exactly as the chart promises
(checked by pointing it at a recording webhook). The test control plane has no scheduler or
kubelet, so the operator's Pod, though its ReplicaSet creates it, never runs: the webhook either
records or, pointing at the chart's Service, is unreachable.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    AuthorizationV1Api,
    BatchV1Api,
    CoreV1Api,
    V1ResourceAttributes,
    V1SubjectAccessReview,
    V1SubjectAccessReviewSpec,
)
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.controlplane import Cluster, free_ports
from gpai_operator.testing.namespaces import create_namespace, delete_namespace
from gpai_operator.testing.rest import request_json
from tests.chart.harness import (
    CHART,
    CONTRACT_METRICS,
    NEEDED,
    OPTIONS,
    Helm,
    Manifest,
    find_tool,
    granted,
    load_all,
)
from tests.integration.admission.kube import call
from tests.integration.children import run_missed_schedule, wait_for_children
from tests.integration.operator.helpers import wait_for

# Helm may be built from Go modules inside the first test that needs it (make test builds it first).
pytestmark = pytest.mark.timeout(1800)

FIELD_MANAGER = "gpai-chart-tests"
APPLY_PATCH = "application/apply-patch+yaml"
RELEASE = "gpai"
FULLNAME = f"{RELEASE}-gpai-operator"
VWC_PATH = f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{FULLNAME}"
GATE, ADVICE = "validate.gpai.dev", "advise.gpai.dev"


@pytest.fixture(scope="module")
def helm() -> Helm:
    return Helm(find_tool("HELM", "helm.sh"))


# --- server-side dry run of every rendered manifest -----------------------------------------------

_plurals: dict[tuple[str, str], tuple[str, bool]] = {}


def resource_path(api_client: ApiClient, manifest: Manifest) -> str:
    """The API path of a manifest's object, from the API server's discovery."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if (api_version, kind) not in _plurals:
        root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        for resource in request_json(api_client, "GET", root)["resources"]:
            if "/" not in resource["name"]:
                _plurals[(api_version, resource["kind"])] = (resource["name"], resource["namespaced"])
    plural, namespaced = _plurals[(api_version, kind)]
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    scope = f"/namespaces/{manifest['metadata']['namespace']}" if namespaced else ""
    return f"{root}{scope}/{plural}/{manifest['metadata']['name']}"


def apply(api_client: ApiClient, manifest: Manifest, *, dry_run: bool) -> Any:
    query = [("fieldManager", FIELD_MANAGER), ("force", "true")] + ([("dryRun", "All")] if dry_run else [])
    return request_json(
        api_client,
        "PATCH",
        resource_path(api_client, manifest),
        query=query,
        body=manifest,
        content_type=APPLY_PATCH,
    )


@pytest.mark.parametrize("option", OPTIONS)
def test_every_rendered_manifest_passes_the_api_servers_validation(
    helm: Helm, api_client: ApiClient, namespace: str, option: str
) -> None:
    manifests = helm.template(OPTIONS[option], namespace=namespace)
    refused = []
    for manifest in manifests:
        try:
            apply(api_client, manifest, dry_run=True)
        except ApiException as error:
            refused.append(
                f"{manifest['kind']} {manifest['metadata']['name']}: {json.loads(error.body)['message']}"
            )
    assert refused == []


def _break_scheme(spec: dict[str, Any]) -> None:
    spec["endpoints"][0]["scheme"] = "gopher"


def _break_for(spec: dict[str, Any]) -> None:
    spec["groups"][0]["rules"][0]["for"] = "an hour"


def _break_algorithm(spec: dict[str, Any]) -> None:
    spec["privateKey"]["algorithm"] = "DSA"


def _break_self_signed(spec: dict[str, Any]) -> None:
    spec["selfSigned"] = "yes"


# A value each real schema refuses and a stand-in with an open schema would take.
BROKEN_BY_KIND = {
    "ServiceMonitor": (_break_scheme, "spec.endpoints[0].scheme"),
    "PrometheusRule": (_break_for, "spec.groups[0].rules[0].for"),
    "Certificate": (_break_algorithm, "spec.privateKey.algorithm"),
    "Issuer": (_break_self_signed, "spec.selfSigned"),
}


def test_the_third_party_kinds_are_validated_by_their_real_schemas(
    helm: Helm, api_client: ApiClient, namespace: str
) -> None:
    rendered = {m["kind"]: m for m in helm.template(OPTIONS["everything"], namespace=namespace)}
    refused = {}
    for kind, (break_it, field_path) in BROKEN_BY_KIND.items():
        broken = json.loads(json.dumps(rendered[kind]))
        break_it(broken["spec"])
        with pytest.raises(ApiException) as error:
            apply(api_client, broken, dry_run=True)
        refused[kind] = field_path in json.loads(error.value.body)["message"]
    assert refused == dict.fromkeys(BROKEN_BY_KIND, True)


# --- a real install -------------------------------------------------------------------------------


@dataclass
class Release:
    namespace: str
    kubeconfig: list[str]
    service_account: str = FULLNAME

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@pytest.fixture(scope="module")
def release(cluster: Cluster, api_client: ApiClient, helm: Helm) -> Iterator[Release]:
    """The chart installed with its defaults into a fresh namespace, in admission mode webhook;
    uninstalled afterwards.

    The mode is set because this API server serves ValidatingAdmissionPolicy v1, where the default
    is `both`: its native policies would refuse every workload in namespaces whose verdicts no
    operator writes here (tests/integration/native/ covers them). Its webhook fails closed:
    whatever happens, it must not outlive this module, or every later test creating a workload
    would be refused.
    """
    installed = Release(create_namespace(api_client, "gpai-chart"), ["--kubeconfig", str(cluster.kubeconfig)])
    try:
        helm.run(
            "install",
            RELEASE,
            CHART,
            "--namespace",
            installed.namespace,
            "--set",
            "admission.mode=webhook",
            *installed.kubeconfig,
            timeout=300,
        )
        yield installed
    finally:
        helm.run("uninstall", RELEASE, "--namespace", installed.namespace, *installed.kubeconfig, check=False)
        request_json(
            api_client,
            "DELETE",
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            query=[("labelSelector", f"app.kubernetes.io/instance={RELEASE}")],
        )
        delete_namespace(api_client, installed.namespace, purge=not cluster.runs_controllers)


def test_on_a_cluster_serving_validating_admission_policies_the_default_mode_is_both(
    cluster: Cluster, helm: Helm, namespace: str
) -> None:
    rendered = helm.run(
        "template",
        RELEASE,
        CHART,
        "--namespace",
        namespace,
        "--validate",
        "--kubeconfig",
        str(cluster.kubeconfig),
    ).stdout
    manifests = load_all(rendered)
    policies = {m["metadata"]["name"] for m in manifests if m["kind"] == "ValidatingAdmissionPolicy"}
    assert policies == {f"{FULLNAME}-deny"}  # the webhook beside it gives the warnings
    [configuration] = [m for m in manifests if m["kind"] == "ValidatingWebhookConfiguration"]
    assert {hook["name"]: hook["failurePolicy"] for hook in configuration["webhooks"]} == {
        GATE: "Ignore",
        ADVICE: "Ignore",
    }


def read(api_client: ApiClient, path: str) -> dict[str, Any]:
    return request_json(api_client, "GET", path)


def acme_model(namespace: str) -> Manifest:
    """A GPAIModel without any evidence: non-compliant under every obligation that applies."""
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": "acme", "namespace": namespace},
        "spec": {
            "modelName": "Acme-LLM",
            "version": "3.1",
            "provider": {"name": "Acme AI GmbH", "establishedInEU": True},
        },
    }


def test_install_creates_the_operator_and_a_webhook_that_trusts_its_certificate(
    api_client: ApiClient, release: Release
) -> None:
    ns = release.namespace
    deployment = read(api_client, f"/apis/apps/v1/namespaces/{ns}/deployments/{FULLNAME}")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == FULLNAME
    service = read(api_client, f"/api/v1/namespaces/{ns}/services/{FULLNAME}")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"webhook": 443, "metrics": 8080}
    assert read(api_client, f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{FULLNAME}")
    assert read(
        api_client, f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/{FULLNAME}-leader-election"
    )

    secret = read(api_client, f"/api/v1/namespaces/{ns}/secrets/{FULLNAME}-webhook-tls")
    hooks = {hook["name"]: hook for hook in read(api_client, VWC_PATH)["webhooks"]}
    assert {name: hook["failurePolicy"] for name, hook in hooks.items()} == {GATE: "Fail", ADVICE: "Ignore"}
    for hook in hooks.values():
        assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
        assert hook["clientConfig"]["service"] == {
            "name": FULLNAME,
            "namespace": ns,
            "path": "/validate",
            "port": 443,
        }
        assert hook["timeoutSeconds"] == 5
        assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["kube-system", ns]
    assert "not-a-trusted-controllers-object" in {c["name"] for c in hooks[GATE]["matchConditions"]}
    assert {"not-the-operator", "not-a-controller"} <= {c["name"] for c in hooks[ADVICE]["matchConditions"]}


def test_install_notes_tell_what_was_installed_and_what_to_do_next(helm: Helm, release: Release) -> None:
    notes = helm.run("get", "notes", RELEASE, "--namespace", release.namespace, *release.kubeconfig).stdout
    assert f"kubectl -n {release.namespace} rollout status deployment/{FULLNAME}" in notes
    assert GATE in notes
    assert "failurePolicy is Fail" in notes
    assert "Audit" in notes


def test_installed_cluster_role_is_the_rendered_one(api_client: ApiClient, release: Release) -> None:
    role = read(api_client, f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{FULLNAME}")
    assert granted(role) == NEEDED
    binding = read(api_client, f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{FULLNAME}")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": FULLNAME, "namespace": release.namespace}
    ]


def test_upgrade_keeps_the_certificate_and_does_not_roll_the_pods(
    api_client: ApiClient, helm: Helm, release: Release
) -> None:
    ns = release.namespace
    secret_path = f"/api/v1/namespaces/{ns}/secrets/{FULLNAME}-webhook-tls"
    deployment_path = f"/apis/apps/v1/namespaces/{ns}/deployments/{FULLNAME}"
    before = (
        read(api_client, secret_path)["data"],
        read(api_client, deployment_path)["metadata"]["generation"],
    )
    helm.run("upgrade", RELEASE, CHART, "--namespace", ns, "--reuse-values", *release.kubeconfig, timeout=300)
    after = read(api_client, secret_path)["data"], read(api_client, deployment_path)["metadata"]["generation"]
    assert after == before
    for hook in read(api_client, VWC_PATH)["webhooks"]:
        assert hook["clientConfig"]["caBundle"] == before[0]["ca.crt"]


# --- RBAC: enough, and no more --------------------------------------------------------------------


def allowed(
    api_client: ApiClient, release: Release, verb: str, group: str, resource: str, namespace: str = "ml"
) -> bool:
    resource, _, subresource = resource.partition("/")
    review = V1SubjectAccessReview(
        spec=V1SubjectAccessReviewSpec(
            user=release.username,
            groups=[
                "system:serviceaccounts",
                f"system:serviceaccounts:{release.namespace}",
                "system:authenticated",
            ],
            resource_attributes=V1ResourceAttributes(
                verb=verb,
                group=group,
                resource=resource,
                subresource=subresource or None,
                namespace=namespace,
            ),
        )
    )
    return AuthorizationV1Api(api_client).create_subject_access_review(review).status.allowed


def test_service_account_may_hold_the_lease_in_its_own_namespace_only(
    api_client: ApiClient, release: Release
) -> None:
    for verb in ("get", "create", "update"):
        assert allowed(api_client, release, verb, "coordination.k8s.io", "leases", release.namespace)
        assert not allowed(api_client, release, verb, "coordination.k8s.io", "leases", "kube-system")


# --- people: who may write what (SPEC section 4a) -----------------------------------------------------


def _as(api_client: ApiClient, user: str, method: str, path: str, body: Any = None) -> int:
    kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
    return call(api_client, method, path, body, impersonate=user, content_type=kind).status


def _bound(api_client: ApiClient, namespace: str, user: str, role: str) -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{user}-{role}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }
    request_json(
        api_client,
        "POST",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
        body=binding,
    )


def test_an_edit_user_deploys_but_cannot_vouch_for_a_model_and_an_admin_can(
    api_client: ApiClient, release: Release
) -> None:
    """The chart's roles joined to the built-in edit and admin roles by the real aggregation controller.

    In the release's own namespace, which the webhook never sees, so only RBAC answers.
    """
    ns = release.namespace

    def aggregated(role: str) -> bool:
        rules = read(api_client, f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}").get("rules") or []
        return any("gpai.dev" in (r.get("apiGroups") or []) for r in rules)

    wait_for(
        lambda: aggregated("edit") and aggregated("admin") and aggregated("view"), "the roles to aggregate"
    )
    _bound(api_client, ns, "dev", "edit")
    _bound(api_client, ns, "lead", "admin")
    models = f"/apis/gpai.dev/v1alpha1/namespaces/{ns}/gpaimodels"
    docs = f"/apis/gpai.dev/v1alpha1/namespaces/{ns}/modeldocumentations"
    policies = "/apis/gpai.dev/v1alpha1/compliancepolicies"
    doc = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "ModelDocumentation",
        "metadata": {"name": "acme-docs", "namespace": ns},
        "spec": {"modelRef": {"name": "acme"}, "modelVersion": "3.1", "lastUpdated": "2026-10-01"},
    }
    policy = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": f"rbac-{ns}"},
        "spec": {"validationActions": ["Audit"]},
    }
    deployments = f"/apis/apps/v1/namespaces/{ns}/deployments"

    assert _as(api_client, "dev", "POST", deployments, deployment("rbac-dev", model="acme")) == 201
    assert _as(api_client, "dev", "GET", models) == 200  # reading the verdicts is for everyone
    assert _as(api_client, "dev", "POST", models, acme_model(ns)) == 403
    assert _as(api_client, "dev", "POST", docs, doc) == 403
    assert _as(api_client, "dev", "POST", policies, policy) == 403

    assert _as(api_client, "lead", "POST", models, acme_model(ns)) == 201
    assert _as(api_client, "lead", "POST", docs, doc) == 201
    status = {"status": {"conditions": [{"type": "Compliant", "status": "True"}]}}
    assert _as(api_client, "lead", "PATCH", f"{models}/acme/status", status) == 403  # the operator's
    assert _as(api_client, "lead", "POST", policies, policy) == 403  # cluster admins only


def test_service_account_may_do_everything_the_operator_does(api_client: ApiClient, release: Release) -> None:
    refused = [
        f"{verb} {group}/{resource}"
        for (group, resource), verbs in NEEDED.items()
        for verb in sorted(verbs)
        if not allowed(api_client, release, verb, group, resource)
    ]
    assert refused == []


@pytest.mark.parametrize(
    ("verb", "group", "resource"),
    [
        ("get", "", "secrets"),
        ("list", "", "secrets"),
        ("create", "apps", "deployments"),
        ("delete", "", "pods"),
        ("update", "apps", "deployments"),
        ("patch", "apps", "deployments/scale"),
        ("create", "gpai.dev", "gpaimodels"),
        ("patch", "gpai.dev", "gpaimodels"),
        ("delete", "gpai.dev", "compliancepolicies"),
        ("patch", "gpai.dev", "riskevaluations/status"),
        ("create", "gpai.dev", "seriousincidents"),  # incidents are the provider's records
        ("patch", "admissionregistration.k8s.io", "validatingwebhookconfigurations"),
        ("create", "coordination.k8s.io", "leases"),  # not outside the release's namespace
        ("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
    ],
)
def test_service_account_may_not_do_what_the_operator_does_not(
    api_client: ApiClient, release: Release, verb: str, group: str, resource: str
) -> None:
    assert not allowed(api_client, release, verb, group, resource)


# --- the operator itself, as the chart's ServiceAccount ---------------------------------------------


@dataclass
class RunningOperator:
    process: subprocess.Popen[bytes]
    log: Path
    metrics: str  # https: served as the chart serves it (metrics.secure)
    webhook_url: str
    ca_bundle: str
    ca_file: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def service_account_kubeconfig(cluster: Cluster, api_client: ApiClient, release: Release, path: Path) -> None:
    """A kubeconfig that is the chart's ServiceAccount: a token from the TokenRequest API."""
    token = (
        CoreV1Api(api_client)
        .create_namespaced_service_account_token(
            FULLNAME, release.namespace, {"spec": {"expirationSeconds": 3600}}
        )
        .status.token
    )
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    admin["users"] = [{"name": FULLNAME, "user": {"token": token}}]
    for context in admin["contexts"]:
        context["context"]["user"] = FULLNAME
    path.write_text(yaml.safe_dump(admin))


@pytest.fixture
def operator_as_service_account(
    cluster: Cluster, api_client: ApiClient, release: Release, tmp_path: Path
) -> Iterator[RunningOperator]:
    """`gpai run` as the Deployment runs it, with the ServiceAccount's token instead of the pod's."""
    kubeconfig = tmp_path / "kubeconfig"
    service_account_kubeconfig(cluster, api_client, release, kubeconfig)
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "tls.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.crt"))
    webhook_port, metrics_port, health_port = free_ports(3)
    log = tmp_path / "operator.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                Path(sys.executable).parent / "gpai",
                "run",
                f"--kubeconfig={kubeconfig}",
                "--webhook-address=127.0.0.1",
                f"--webhook-port={webhook_port}",
                f"--webhook-cert-file={tmp_path / 'tls.pem'}",
                f"--webhook-key-file={tmp_path / 'tls.pem'}",
                "--bind-address=127.0.0.1",
                f"--metrics-port={metrics_port}",
                f"--health-port={health_port}",
                "--leader-elect",
                f"--leader-election-id={FULLNAME}",
                f"--leader-election-namespace={release.namespace}",
                "--log-format=json",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = RunningOperator(
        process,
        log,
        f"https://127.0.0.1:{metrics_port}/metrics",
        f"https://127.0.0.1:{webhook_port}/validate",
        base64.b64encode(ca.cert_pem.bytes()).decode(),
        tmp_path / "ca.crt",
    )
    try:
        deadline = time.monotonic() + 120
        while not _get_ok(f"http://127.0.0.1:{health_port}/readyz"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gpai run did not become ready as {release.username}:\n{running.log_tail()}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def series_names(exposition: str) -> set[str]:
    """Every series name a query may use, from the families a /metrics page declares."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.MULTILINE):
        if kind == "counter":  # prometheus-client declares `x_total` or `x`, by version
            names.add(name if name.endswith("_total") else f"{name}_total")
        elif kind == "histogram":
            names |= {name, f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        else:
            names.add(name)
    return names


def scrape(running: RunningOperator, token: str | None) -> tuple[int, str]:
    """GET /metrics over HTTPS, as Prometheus does with its service account's token."""
    request = urllib.request.Request(
        running.metrics, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    context = ssl.create_default_context(cafile=str(running.ca_file))
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def prometheus_token(api_client: ApiClient, release: Release) -> Iterator[str]:
    """A token of a service account bound to the chart's metrics-reader ClusterRole, as Prometheus's."""
    name = f"{FULLNAME}-test-prometheus"
    core = CoreV1Api(api_client)
    core.create_namespaced_service_account(release.namespace, {"metadata": {"name": "prometheus"}})
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": f"{FULLNAME}-metrics-reader",
        },
        "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": release.namespace}],
    }
    request_json(api_client, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body=binding)
    try:
        token = core.create_namespaced_service_account_token("prometheus", release.namespace, {"spec": {}})
        yield token.status.token
    finally:
        request_json(api_client, "DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")
        core.delete_namespaced_service_account("prometheus", release.namespace)


def test_operator_works_end_to_end_with_only_the_charts_rbac(
    api_client: ApiClient,
    release: Release,
    operator_as_service_account: RunningOperator,
    namespace: str,
    prometheus_token: str,
) -> None:
    running = operator_as_service_account
    configuration = read(api_client, VWC_PATH)
    for hook in configuration["webhooks"]:
        hook["clientConfig"] = {"url": running.webhook_url, "caBundle": running.ca_bundle}
    request_json(api_client, "PUT", VWC_PATH, body=configuration)
    deny = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": f"chart-test-{namespace}"},
        "spec": {
            "validationActions": ["Deny"],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        },
    }
    model = acme_model(namespace)
    apply(api_client, deny, dry_run=False)
    try:
        apply(api_client, model, dry_run=False)
        model_path = f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/gpaimodels/acme"
        deadline = time.monotonic() + 60
        while not read(api_client, model_path).get("status", {}).get("obligations"):
            assert time.monotonic() < deadline, f"no status written:\n{running.log_tail()}"
            time.sleep(0.2)
        # A model without any evidence: the webhook, called by the API server, refuses its Deployment.
        with pytest.raises(ApiException) as denied:
            AppsV1Api(api_client).create_namespaced_deployment(namespace, deployment("chat", model="acme"))
        assert denied.value.status == 403
        assert "acme" in json.loads(denied.value.body)["message"]

        assert "forbidden" not in running.log.read_text().lower(), running.log_tail()
        # /metrics: only for callers the API server authorises, checked with the chart's own RBAC.
        assert scrape(running, None)[0] == 401
        status, exposition = scrape(running, prometheus_token)
        assert status == 200, exposition
        exported = series_names(exposition)
        assert set(CONTRACT_METRICS) <= exported
        dashboard = (CHART / "files" / "dashboard.json").read_text()
        assert set(re.findall(r"\bgpai_[a-z0-9_]+", dashboard)) <= exported
    finally:
        request_json(
            api_client, "DELETE", f"/apis/gpai.dev/v1alpha1/compliancepolicies/chart-test-{namespace}"
        )


# --- what reaches the webhook ---------------------------------------------------------------------


Seen = tuple[str, str, str, str]  # webhook, operation, kind, name


@dataclass
class RecordingWebhook:
    """An HTTPS admission webhook on loopback that allows everything and records what it was asked.

    Each webhook of the configuration is pointed at its own path, named after it.
    """

    base_url: str
    ca_bundle: str
    seen: list[Seen] = field(default_factory=list)

    def take(self) -> set[Seen]:
        """(webhook, operation, kind, name) of every review since the last call."""
        taken, self.seen[:] = set(self.seen), []
        return taken


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingWebhook]:
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            request = review["request"]
            webhook = self.path.partition("?")[0].strip("/")  # the API server adds ?timeout=5s
            seen.append((webhook, request["operation"], request["kind"]["kind"], request["name"]))
            answer = {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": request["uid"], "allowed": True},
            }
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RecordingWebhook(
            base_url=f"https://127.0.0.1:{server.server_address[1]}",
            ca_bundle=base64.b64encode(ca.cert_pem.bytes()).decode(),
            seen=seen,
        )
    finally:
        server.shutdown()
        server.server_close()


def point_webhooks_at(api_client: ApiClient, recorder: RecordingWebhook) -> None:
    """The installed registration, unchanged but for where it sends reviews."""
    configuration = read(api_client, VWC_PATH)
    for hook in configuration["webhooks"]:
        hook["clientConfig"] = {"url": f"{recorder.base_url}/{hook['name']}", "caBundle": recorder.ca_bundle}
    request_json(api_client, "PUT", VWC_PATH, body=configuration)
    recorder.take()


@pytest.fixture
def redirected(api_client: ApiClient, release: Release, recorder: RecordingWebhook) -> RecordingWebhook:
    point_webhooks_at(api_client, recorder)
    return recorder


def deployment(name: str, model: str | None = None, image: str = "registry.example/chat:1") -> dict[str, Any]:
    labels = {"app": name, **({"gpai.dev/model": model} if model else {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "serve", "image": image}]},
            },
        },
    }


def pod(name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {"gpai.dev/model": "acme"}}
    if owner:
        metadata["ownerReferences"] = [{**owner, "uid": str(uuid.uuid4()), "controller": True}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "serve", "image": "registry.example/chat:1"}]},
    }


def job_template(image: str) -> dict[str, Any]:
    return {
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "batch", "image": image}]}}
    }


def cronjob(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": {"gpai.dev/model": "acme"}},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job_template("registry.example/eval:1")}},
    }


def test_creations_and_template_or_model_label_changes_go_to_the_gate(
    api_client: ApiClient, redirected: RecordingWebhook, namespace: str
) -> None:
    apps, core, batch = AppsV1Api(api_client), CoreV1Api(api_client), BatchV1Api(api_client)
    apps.create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    apps.create_namespaced_deployment(
        namespace, deployment("plain")
    )  # unlabelled: requireModelLabel needs it
    core.create_namespaced_pod(namespace, pod("bare"))
    batch.create_namespaced_cron_job(namespace, cronjob("nightly-eval"))
    assert redirected.take() == {
        (GATE, "CREATE", "Deployment", "chat"),
        (GATE, "CREATE", "Deployment", "plain"),
        (GATE, "CREATE", "Pod", "bare"),
        (GATE, "CREATE", "CronJob", "nightly-eval"),
    }
    new_image = {"containers": [{"name": "serve", "image": "registry.example/chat:2"}]}
    apps.patch_namespaced_deployment("chat", namespace, {"spec": {"template": {"spec": new_image}}})
    apps.patch_namespaced_deployment("plain", namespace, {"metadata": {"labels": {"gpai.dev/model": "acme"}}})
    batch.patch_namespaced_cron_job(
        "nightly-eval",
        namespace,
        {"spec": {"jobTemplate": {"spec": job_template("registry.example/eval:2")}}},
    )
    assert redirected.take() == {
        (GATE, "UPDATE", "Deployment", "chat"),
        (GATE, "UPDATE", "Deployment", "plain"),
        (GATE, "UPDATE", "CronJob", "nightly-eval"),
    }


def test_metadata_updates_scaling_and_deletes_only_go_to_advice(
    api_client: ApiClient, redirected: RecordingWebhook, namespace: str
) -> None:
    apps = AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    redirected.take()
    apps.patch_namespaced_deployment(
        "chat", namespace, {"metadata": {"annotations": {"gpai.dev/compliance": "Compliant"}}}
    )
    apps.patch_namespaced_deployment_scale("chat", namespace, {"spec": {"replicas": 0}})
    apps.patch_namespaced_deployment("chat", namespace, {"spec": {"replicas": 3}})
    apps.delete_namespaced_deployment("chat", namespace)
    seen = redirected.take()
    assert {webhook for webhook, *_ in seen} == {ADVICE}
    assert {operation for _, operation, *_ in seen} == {"UPDATE", "DELETE"}
    assert "Scale" in {kind for _, _, kind, _ in seen}


def _nightly_job() -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "nightly-eval-29000000",
            "labels": {"gpai.dev/model": "acme"},
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": "nightly-eval",
                    "uid": str(uuid.uuid4()),
                    "controller": True,
                }
            ],
        },
        "spec": job_template("registry.example/eval:1"),
    }


def test_what_the_controllers_make_from_a_judged_object_is_not_sent(
    api_client: ApiClient, redirected: RecordingWebhook, namespace: str
) -> None:
    apps, core, batch = AppsV1Api(api_client), CoreV1Api(api_client), BatchV1Api(api_client)
    chat = apps.create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    nightly = batch.create_namespaced_cron_job(namespace, cronjob("nightly-eval"))
    run_missed_schedule(batch, "nightly-eval", namespace)

    # The controllers create a ReplicaSet, a Job and a Pod of each: only what the user created was sent.
    replicaset = wait_for_children(
        lambda: apps.list_namespaced_replica_set(namespace), chat, "the ReplicaSet"
    )
    chat_pod = wait_for_children(lambda: core.list_namespaced_pod(namespace), replicaset[0], "its Pod")[0]
    job = wait_for_children(lambda: batch.list_namespaced_job(namespace), nightly, "the CronJob's Job")
    wait_for_children(lambda: core.list_namespaced_pod(namespace), job[0], "the Job's Pod")
    assert redirected.take() == {
        (GATE, "CREATE", "Deployment", "chat"),
        (GATE, "CREATE", "CronJob", "nightly-eval"),
    }

    # A person touching a controller's Pod gets advice (never a refusal); the replacement Pod the
    # ReplicaSet controller makes is not sent.
    name = chat_pod.metadata.name
    core.patch_namespaced_pod(name, namespace, {"metadata": {"annotations": {"restarted": "yes"}}})
    core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    wait_for_children(
        lambda: [
            p for p in core.list_namespaced_pod(namespace).items if p.metadata.uid != chat_pod.metadata.uid
        ],
        replicaset[0],
        "the ReplicaSet's replacement Pod",
    )
    assert redirected.take() == {(ADVICE, "UPDATE", "Pod", name), (ADVICE, "DELETE", "Pod", name)}


def test_the_same_controlled_objects_from_anyone_else_are_sent(
    api_client: ApiClient, redirected: RecordingWebhook, namespace: str
) -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "chat-7d9f"}
    CoreV1Api(api_client).create_namespaced_pod(namespace, pod("chat-7d9f-x2k4", owner=owner))
    BatchV1Api(api_client).create_namespaced_job(namespace, _nightly_job())
    assert redirected.take() == {
        (GATE, "CREATE", "Pod", "chat-7d9f-x2k4"),
        (GATE, "CREATE", "Job", "nightly-eval-29000000"),
    }


def test_the_operators_metadata_patches_are_never_sent_but_its_template_changes_are(
    cluster: Cluster, api_client: ApiClient, release: Release, redirected: RecordingWebhook, namespace: str
) -> None:
    AppsV1Api(api_client).create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    redirected.take()
    with cluster.api_client() as as_operator:
        as_operator.set_default_header("Impersonate-User", release.username)
        apps = AppsV1Api(as_operator)
        apps.patch_namespaced_deployment(
            "chat", namespace, {"metadata": {"annotations": {"gpai.dev/compliance": "NonCompliant"}}}
        )
        assert redirected.take() == set()
        # A template change in its name (it never makes one; a leaked token might) is judged.
        apps.patch_namespaced_deployment(
            "chat",
            namespace,
            {
                "spec": {
                    "template": {"metadata": {"annotations": {"gpai.dev/evaluated": "2026-11-28T00:00:00Z"}}}
                }
            },
        )
    assert redirected.take() == {(GATE, "UPDATE", "Deployment", "chat")}


def test_kube_system_and_the_operators_namespace_are_never_sent(
    api_client: ApiClient, release: Release, redirected: RecordingWebhook
) -> None:
    apps = AppsV1Api(api_client)
    name = f"gpai-chart-test-{uuid.uuid4().hex[:6]}"
    for namespace in ("kube-system", release.namespace):
        apps.create_namespaced_deployment(namespace, deployment(name, model="acme"))
        apps.delete_namespaced_deployment(name, namespace)
    assert redirected.take() == set()


def _wait_until_the_recorder_is_no_longer_asked(apps: AppsV1Api, namespace: str, timeout: float = 15) -> None:
    """kube-apiserver loads a changed webhook configuration within moments, not at once: until it
    has, the recording webhook still allows a dry-run creation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            apps.create_namespaced_deployment(namespace, deployment("probe", model="acme"), dry_run="All")
        except ApiException:
            return
        time.sleep(0.1)


def test_with_no_operator_answering_creations_are_refused_but_scaling_and_deletes_work(
    api_client: ApiClient, release: Release, redirected: RecordingWebhook, namespace: str
) -> None:
    apps = AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    # Back to the chart's own registration: its Service has no operator behind it here.
    ca_bundle = read(api_client, f"/api/v1/namespaces/{release.namespace}/secrets/{FULLNAME}-webhook-tls")[
        "data"
    ]["ca.crt"]
    configuration = read(api_client, VWC_PATH)
    for hook in configuration["webhooks"]:
        hook["clientConfig"] = {
            "service": {"name": FULLNAME, "namespace": release.namespace, "path": "/validate", "port": 443},
            "caBundle": ca_bundle,
        }
    request_json(api_client, "PUT", VWC_PATH, body=configuration)
    _wait_until_the_recorder_is_no_longer_asked(apps, namespace)

    def dry_run_refused() -> bool:
        try:
            apps.create_namespaced_deployment(namespace, deployment("another", model="acme"), dry_run="All")
        except ApiException:
            return True
        return False

    # The API server takes a moment to apply a changed registration; until then the recorder answers.
    wait_for(dry_run_refused, "the API server to send reviews to the chart's Service again")
    with pytest.raises(ApiException) as refused:
        apps.create_namespaced_deployment(namespace, deployment("another", model="acme"))
    assert GATE in json.loads(refused.value.body)["message"]
    apps.patch_namespaced_deployment_scale("chat", namespace, {"spec": {"replicas": 0}})
    apps.patch_namespaced_deployment("chat", namespace, {"metadata": {"annotations": {"team": "ml"}}})
    apps.delete_namespaced_deployment("chat", namespace)


def test_only_labelled_workloads_option_still_sees_a_label_being_removed(
    api_client: ApiClient, helm: Helm, release: Release, recorder: RecordingWebhook, namespace: str
) -> None:
    helm.run(
        "upgrade",
        RELEASE,
        CHART,
        "--namespace",
        release.namespace,
        "--reuse-values",
        "--set",
        "webhook.onlyLabelledWorkloads=true",
        *release.kubeconfig,
        timeout=300,
    )
    point_webhooks_at(api_client, recorder)
    apps = AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, deployment("plain"))
    apps.create_namespaced_deployment(namespace, deployment("chat", model="acme"))
    apps.patch_namespaced_deployment_scale(
        "chat", namespace, {"spec": {"replicas": 0}}
    )  # a Scale has no labels
    apps.patch_namespaced_deployment("chat", namespace, {"metadata": {"labels": {"gpai.dev/model": None}}})
    apps.delete_namespaced_deployment("plain", namespace)
    assert recorder.take() == {(GATE, "CREATE", "Deployment", "chat"), (GATE, "UPDATE", "Deployment", "chat")}


def test_uninstall_removes_the_webhook_and_keeps_the_crds_and_the_evidence(
    api_client: ApiClient, helm: Helm, release: Release, namespace: str
) -> None:
    model = acme_model(namespace)
    apply(api_client, model, dry_run=False)
    helm.run("uninstall", RELEASE, "--namespace", release.namespace, *release.kubeconfig, timeout=300)
    with pytest.raises(ApiException) as gone:
        read(api_client, VWC_PATH)
    assert gone.value.status == 404
    with pytest.raises(ApiException) as role_gone:
        read(api_client, f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{FULLNAME}")
    assert role_gone.value.status == 404
    assert read(api_client, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gpaimodels.gpai.dev")
    assert read(api_client, f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/gpaimodels/acme")
    # Nothing is gated any more.
    AppsV1Api(api_client).create_namespaced_deployment(namespace, deployment("chat", model="acme"))
