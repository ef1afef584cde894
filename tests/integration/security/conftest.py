"""The gate attacked as a namespace user would, against the real API server and the real operator.

One operator per module runs in-process with its admission webhook on TLS, registered with the
API server for this module's namespaces only (a label with a random value), and a Deny policy that
requires the model label there. Each test gets a fresh namespace in which `mallory`, a user with
rights on workloads and ConfigMaps only, tries to run a model that lacks evidence. A compliant
model (examples/models/aurora-2.yaml, with all its evidence) is there too, so every refusal is
shown beside what the same user may do.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.client import AdmissionregistrationV1Api, ApiClient

from gpai_operator.admission.configuration import webhook_configuration, webhook_url
from gpai_operator.admission.testing import WebhookCertificates
from gpai_operator.app import OperatorThread
from gpai_operator.testing.controlplane import Cluster, free_ports
from gpai_operator.testing.namespaces import create_namespace, delete_namespace
from gpai_operator.testing.rest import request_json
from tests.integration.admission.kube import Reply, call, collection, example_evidence, path_of
from tests.integration.admission.workloads import manifest
from tests.integration.operator.conftest import running_operators
from tests.integration.operator.helpers import Kube, compliant, wait_for

MALLORY = "mallory"  # a namespace user: workloads and ConfigMaps, nothing of gpai.dev
OPERATOR = "system:serviceaccount:gpai-system:gpai-operator"  # as the chart names the operator
SELECT_LABEL = "gpai.dev/security-test"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
CLUSTER_ROLES = f"{RBAC}/clusterroles"
COMPLIANT = "aurora-2"  # examples/models/aurora-2.yaml: every piece of evidence, current on NOW
ROGUE = "rogue"  # a model with systemic risk and no evidence at all
WORKLOAD_RIGHTS: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "gpai-security-test-workloads"},
    "rules": [
        {
            "apiGroups": ["", "apps", "batch", "serving.kserve.io"],
            "resources": [
                "pods",
                "pods/ephemeralcontainers",
                "deployments/scale",
                "replicationcontrollers",
                "configmaps",
                "deployments",
                "statefulsets",
                "daemonsets",
                "replicasets",
                "jobs",
                "cronjobs",
                "inferenceservices",
            ],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
    ],
}


@dataclass
class Arena:
    """One test's namespace, the users' ways in, and the models in it."""

    namespace: str
    api_client: ApiClient
    kube: Kube

    def as_user(self, method: str, path: str, body: Any = None, user: str = MALLORY, **kwargs: Any) -> Reply:
        return call(self.api_client, method, path, body, impersonate=user, **kwargs)

    def create(self, obj: dict[str, Any], user: str = MALLORY) -> Reply:
        obj["metadata"]["namespace"] = self.namespace
        return self.as_user("POST", collection(obj), obj, user=user)

    def patch(
        self, obj: dict[str, Any], change: dict[str, Any], subresource: str = "", user: str = MALLORY
    ) -> Reply:
        path = path_of(obj) + (f"/{subresource}" if subresource else "")
        return self.as_user("PATCH", path, change, user=user, content_type="application/merge-patch+json")


@pytest.fixture(scope="module")
def selector_value() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="module")
def guarded_operator(
    cluster: Cluster,
    api_client: ApiClient,
    selector_value: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorThread]:
    """The operator with its webhook, the policy, the user's role, and the webhook registration."""
    certs = WebhookCertificates.create(tmp_path_factory.mktemp("security-webhook"))
    (port,) = free_ports(1)
    kube = Kube(api_client)
    kube.create(gate_policy(selector_value))
    request_json(api_client, "POST", CLUSTER_ROLES, body=WORKLOAD_RIGHTS)
    configuration = webhook_configuration(
        webhook_url("127.0.0.1", port),
        certs.ca_pem,
        name=f"gpai-security-test-{selector_value}",
        operator_username=OPERATOR,
        namespace_selector={"matchLabels": {SELECT_LABEL: selector_value}},
    )
    admission = AdmissionregistrationV1Api(api_client)
    try:
        with running_operators(cluster) as start:
            thread = start(
                webhook=True,
                webhook_address="127.0.0.1",
                webhook_port=port,
                webhook_cert_file=str(certs.cert_file),
                webhook_key_file=str(certs.key_file),
            )
            admission.create_validating_webhook_configuration(configuration)
            try:
                yield thread
            finally:
                admission.delete_validating_webhook_configuration(configuration["metadata"]["name"])
    finally:
        kube.delete(gate_policy(selector_value))
        request_json(api_client, "DELETE", f"{CLUSTER_ROLES}/{WORKLOAD_RIGHTS['metadata']['name']}")


def gate_policy(selector_value: str, exceptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Deny, and every workload must name its model, in this module's namespaces."""
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": f"security-test-{selector_value}"},
        "spec": {
            "validationActions": ["Deny"],
            "namespaceSelector": {"matchLabels": {SELECT_LABEL: selector_value}},
            "requireModelLabel": True,
            "exceptions": exceptions or [],
        },
    }


@pytest.fixture
def arena(
    cluster: Cluster,
    api_client: ApiClient,
    guarded_operator: OperatorThread,
    selector_value: str,
    request: pytest.FixtureRequest,
) -> Iterator[Arena]:
    """A fresh namespace behind the gate, with the compliant model and its evidence, the rogue model,
    and mallory's workload rights there."""
    namespace = create_namespace(api_client, request.node.name, labels={SELECT_LABEL: selector_value})
    kube = Kube(api_client)
    grant_workload_rights(api_client, namespace, WORKLOAD_RIGHTS["metadata"]["name"])
    for obj in [*example_evidence(COMPLIANT, namespace), rogue_model(namespace)]:
        kube.create(obj)
    wait_for(
        lambda: compliant(kube.get(model_ref(COMPLIANT, namespace))) == "True",
        "the compliant model's verdict",
    )
    wait_for(lambda: compliant(kube.get(model_ref(ROGUE, namespace))) == "False", "the rogue model's verdict")
    arena = Arena(namespace, api_client, kube)
    _wait_until_gated(arena)
    yield arena
    delete_namespace(api_client, namespace, purge=not cluster.runs_controllers)


def grant_workload_rights(api_client: ApiClient, namespace: str, cluster_role: str) -> None:
    """mallory, and the identity the chart gives the operator, get `cluster_role` in `namespace`."""
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "workloads", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": MALLORY},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": OPERATOR},
        ],
    }
    request_json(api_client, "POST", f"{RBAC}/namespaces/{namespace}/rolebindings", body=binding)
    for user in (MALLORY, OPERATOR):
        wait_until_allowed(api_client, user, "create", "apps", "deployments", namespace)


def wait_until_allowed(
    api_client: ApiClient, user: str, verb: str, group: str, resource: str, namespace: str
) -> None:
    """Until the API server's authorizer lets `user` do it: its RBAC cache takes a moment to see a new
    binding, longer under load, and a request sent before is refused (403, like a gate's denial)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": resource,
                "namespace": namespace,
            },
        },
    }
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    wait_for(
        lambda: request_json(api_client, "POST", path, body=review)["status"]["allowed"], f"{user} to {verb}"
    )


def model_ref(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": namespace},
    }


def rogue_model(namespace: str, name: str = ROGUE, version: str = "1.0") -> dict[str, Any]:
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "modelName": name.title(),
            "version": version,
            "provider": {"name": "Rogue Labs", "establishedInEU": True},
            "trainingCompute": {"flops": 3.8e25},
        },
    }


def _wait_until_gated(arena: Arena) -> None:
    """Until the API server calls the webhook for the namespace: a dry-run rogue Pod is refused."""
    probe = manifest("Pod", arena.namespace, ROGUE, name="probe")

    def refused() -> bool:
        reply = arena.as_user("POST", collection(probe), probe, query=[("dryRun", "All")])
        return reply.status == 403

    wait_for(refused, "the webhook to gate the namespace", timeout=15)
