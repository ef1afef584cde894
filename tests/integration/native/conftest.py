"""The native gate against the real API server, beside the engine.

No operator runs here, which is the point: the ValidatingAdmissionPolicies of admission/native.py,
registered for this module's namespaces only (a label with a random value), decide alone, from the
AdmissionVerdicts object that admission_verdicts.py computes from a cluster state each test builds.
Every request is also fed to the webhook's decision function (admission/review.py, the reference with
`gpai check`) on the same state, and the two decisions must be the same.

Requests are sent as `mallory`, a namespace user with rights on workloads and ConfigMaps only
(impersonation), as server-side dry runs unless a test needs the object to exist.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, get_args

import pytest
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator import objects
from gpai_operator.admission.native import native_policies, policy_name
from gpai_operator.admission.operations import PassReason
from gpai_operator.admission.review import review
from gpai_operator.admission_verdicts import verdicts_for
from gpai_operator.api.verdicts import NAME as VERDICTS
from gpai_operator.engine.state import ClusterState
from gpai_operator.engine.verdicts import Decision
from gpai_operator.runtime import ManualClock, Runtime
from gpai_operator.testing.controlplane import Cluster
from gpai_operator.testing.namespaces import TEST_LABEL, create_namespace, delete_namespace
from gpai_operator.testing.rest import request_json
from tests.integration.admission.kube import MERGE_PATCH, Reply, call, collection, example_evidence, path_of
from tests.integration.admission.workloads import policy
from tests.integration.operator.helpers import wait_for
from tests.integration.security.conftest import (
    MALLORY,
    WORKLOAD_RIGHTS,
    grant_workload_rights,
    rogue_model,
)
from tests.unit.admission.builders import KINDS as REVIEW_KINDS

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)  # the examples' evidence is current on this day
SELECT_LABEL = "gpai.dev/native-test"
COMPLIANT = "aurora-2"  # examples/models/aurora-2.yaml with all its evidence: compliant on NOW
ROGUE = "rogue"  # systemic risk, no evidence at all
ADMISSION = "/apis/admissionregistration.k8s.io/v1"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
PLURALS = {
    "ValidatingAdmissionPolicy": "validatingadmissionpolicies",
    "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
    "ClusterRole": "clusterroles",
}
PASS_REASONS = tuple(f"allowed: {reason}" for reason in get_args(PassReason))


@dataclass(frozen=True)
class Gate:
    """The native policies registered for this module: their name prefix and namespace label."""

    prefix: str
    selector_value: str

    def deny_prefix(self) -> str:
        deny = policy_name(self.prefix, "Deny")
        return f"ValidatingAdmissionPolicy '{deny}' with binding '{deny}' denied request: "

    def warn_prefix(self) -> str:
        warn = policy_name(self.prefix, "Warn")
        return f"Validation failed for ValidatingAdmissionPolicy '{warn}' with binding '{warn}': "


def sentinel(prefix: str, selector_value: str) -> list[dict[str, Any]]:
    """A test-only policy that tells which AdmissionVerdicts object the API server holds for a
    namespace: a dry-run ConfigMap `verdicts-probe` gets the warning `gpai-verdicts <resourceVersion>`.
    The gate's policies read the same informer, so once the warning names what a test wrote, they
    decide by it."""
    name = f"{prefix}-sentinel"
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Ignore",
                "paramKind": {"apiVersion": "gpai.dev/v1alpha1", "kind": "AdmissionVerdicts"},
                "matchConstraints": {
                    "namespaceSelector": {"matchLabels": {SELECT_LABEL: selector_value}},
                    "resourceRules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "resources": ["configmaps"],
                            "operations": ["CREATE"],
                            "scope": "Namespaced",
                        }
                    ],
                },
                "matchConditions": [
                    {"name": "probe", "expression": 'object.metadata.name == "verdicts-probe"'}
                ],
                "validations": [
                    {
                        "expression": "false",
                        "messageExpression": f'"{VERDICTS} " + params.metadata.resourceVersion',
                    }
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "paramRef": {"name": VERDICTS, "parameterNotFoundAction": "Allow"},
                "validationActions": ["Warn"],
            },
        },
    ]


def _path(obj: dict[str, Any]) -> str:
    root = RBAC if obj["kind"] == "ClusterRole" else ADMISSION
    return f"{root}/{PLURALS[obj['kind']]}"


@pytest.fixture(scope="module")
def gate(cluster: Cluster, api_client: ApiClient) -> Iterator[Gate]:
    """The native policies, the sentinel and the workload rights, for this module's namespaces."""
    selector_value = secrets.token_hex(4)
    prefix = f"gpai-native-test-{selector_value}"
    rights = {**WORKLOAD_RIGHTS, "metadata": {"name": f"{prefix}-workloads"}}
    registered = [
        rights,
        *native_policies(name=prefix, namespace_selector={"matchLabels": {SELECT_LABEL: selector_value}}),
        *sentinel(prefix, selector_value),
    ]
    try:
        for obj in registered:
            request_json(api_client, "POST", _path(obj), body=obj)
        made = Gate(prefix, selector_value)
        _wait_until_enforced(cluster, api_client, made)
        yield made
    finally:
        for obj in reversed(registered):
            try:
                request_json(api_client, "DELETE", f"{_path(obj)}/{obj['metadata']['name']}")
            except ApiException as error:
                if error.status != 404:
                    raise


def _wait_until_enforced(cluster: Cluster, api_client: ApiClient, gate: Gate) -> None:
    """Until the API server applies the policies: the deny policy refuses without verdicts, then it
    and the warn policy decide by them."""
    namespace = create_namespace(api_client, "native-readiness", labels={SELECT_LABEL: gate.selector_value})
    try:
        scene = Scene(namespace, api_client, gate)
        unlabelled = Attempt.create(_pod(namespace, None))
        wait_for(lambda: "no params found" in scene.send(unlabelled, user=None).message, "the native gate")
        for actions in (["Deny"], ["Warn"]):
            scene.add(policy("readiness", actions, requireModelLabel=True))
            scene.publish()
            decided = actions[0]

            def native_decides(decided: str = decided) -> bool:
                return scene.native_decision(scene.send(unlabelled, user=None)) == decided

            wait_for(native_decides, f"the native {decided} policy")
    finally:
        delete_namespace(api_client, namespace, purge=not cluster.runs_controllers)


def _pod(namespace: str, model: str | None) -> dict[str, Any]:
    labels = {"gpai.dev/model": model} if model else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


@dataclass(frozen=True)
class Attempt:
    """One request a user makes: CREATE of `obj`, or UPDATE of the stored `obj` (its main resource or
    `subresource`) with `changes`: paths (dotted, or a tuple where a key holds dots; list indices as
    numbers) to new values, None deleting."""

    operation: str
    obj: dict[str, Any]
    changes: dict[str | tuple[str, ...], Any] = field(default_factory=dict)
    subresource: str = ""

    @classmethod
    def create(cls, obj: dict[str, Any]) -> Attempt:
        return cls("CREATE", obj)

    @classmethod
    def update(
        cls, obj: dict[str, Any], changes: dict[str | tuple[str, ...], Any], subresource: str = ""
    ) -> Attempt:
        return cls("UPDATE", obj, changes, subresource)

    def changed(self, stored: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(stored)
        for path, value in self.changes.items():
            parts = path if isinstance(path, tuple) else path.split(".")
            *parents, last = [int(p) if p.isdigit() else p for p in parts]
            at: Any = new
            for part in parents:
                at = at[part] if isinstance(part, int) else at.setdefault(part, {})
            if value is None:
                at.pop(last, None)
            else:
                at[last] = copy.deepcopy(value)
        return new


@dataclass
class Scene:
    """One test's namespace behind the native gate, and the cluster state its verdicts come from."""

    namespace: str
    api_client: ApiClient
    gate: Gate
    state: ClusterState = field(default_factory=ClusterState)

    def __post_init__(self) -> None:
        labels = {TEST_LABEL: "true", SELECT_LABEL: self.gate.selector_value}
        self.state.put_namespace(self.namespace, {**labels, "kubernetes.io/metadata.name": self.namespace})

    # ---- the state and the verdicts the operator would write ---------------------------------------
    def add(self, *manifests: dict[str, Any]) -> None:
        """Objects the operator's watches would have seen (GPAIModels, evidence, CompliancePolicies)."""
        for manifest in manifests:
            manifest = copy.deepcopy(manifest)
            if manifest["kind"] != "CompliancePolicy":
                manifest["metadata"]["namespace"] = self.namespace
            objects.apply(self.state, manifest)

    def remove(self, kind: str, name: str) -> None:
        objects.remove(
            self.state,
            {
                "apiVersion": "gpai.dev/v1alpha1",
                "kind": kind,
                "metadata": {"name": name, "namespace": self.namespace},
            },
        )

    def publish(self) -> None:
        """Writes the namespace's AdmissionVerdicts, as the operator would, and waits until the API
        server decides by them."""
        manifest = verdicts_for(self.state, self.namespace, NOW).manifest()
        path = f"/apis/gpai.dev/v1alpha1/namespaces/{self.namespace}/admissionverdicts/{VERDICTS}"
        written = request_json(
            self.api_client,
            "PATCH",
            path,
            body=manifest,
            query=[("fieldManager", "gpai-operator"), ("force", "true")],
            content_type="application/apply-patch+yaml",
        )
        expected = f"{VERDICTS} {written['metadata']['resourceVersion']}"
        wait_for(lambda: self.held() == expected, f"the API server to hold {expected}")

    def withdraw(self) -> None:
        """Deletes the namespace's AdmissionVerdicts and waits until the API server has let it go."""
        path = f"/apis/gpai.dev/v1alpha1/namespaces/{self.namespace}/admissionverdicts/{VERDICTS}"
        request_json(self.api_client, "DELETE", path)
        wait_for(lambda: self.held() == "", "the API server to let the verdicts go")

    def held(self) -> str:
        """`gpai-verdicts <resourceVersion>` of the verdicts the API server holds ("" for none), as the
        sentinel policy tells it."""
        probe = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "verdicts-probe", "namespace": self.namespace},
        }
        reply = call(self.api_client, "POST", collection(probe), probe, query=[("dryRun", "All")])
        assert reply.ok, reply.body
        told = f"ValidatingAdmissionPolicy '{self.gate.prefix}-sentinel'"
        return next((w.rpartition(": ")[2] for w in reply.warnings if told in w), "")

    # ---- requests ----------------------------------------------------------------------------------
    def make(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Creates `obj` for real, as the cluster admin (who is gated too), and returns it as stored."""
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = self.namespace
        reply = call(self.api_client, "POST", collection(obj), obj)
        assert reply.status == 201, reply.body
        return reply.body

    def send(self, attempt: Attempt, user: str | None = MALLORY, dry_run: bool = True) -> Reply:
        return self._sent(attempt, user, dry_run)[2]

    def _sent(
        self, attempt: Attempt, user: str | None, dry_run: bool
    ) -> tuple[dict[str, Any], dict[str, Any] | None, Reply]:
        """(the object sent, the stored one it replaces, the reply); an UPDATE that meets a
        controller's concurrent write (409) is read and sent again."""
        for _ in range(5):
            new, old = self._objects(attempt)
            reply = self._send(attempt, new, user, dry_run)
            if reply.status != 409:
                break
        return new, old, reply

    def _objects(self, attempt: Attempt) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(the object under review, the stored one for an UPDATE)."""
        obj = copy.deepcopy(attempt.obj)
        obj["metadata"]["namespace"] = self.namespace
        if attempt.operation == "CREATE":
            return obj, None
        stored = request_json(self.api_client, "GET", path_of(obj))
        return attempt.changed(stored), stored

    def _send(self, attempt: Attempt, obj: dict[str, Any], user: str | None, dry_run: bool) -> Reply:
        query = [("dryRun", "All")] if dry_run else []
        if attempt.operation == "CREATE":
            return call(self.api_client, "POST", collection(obj), obj, query=query, impersonate=user)
        path = path_of(obj) + (f"/{attempt.subresource}" if attempt.subresource else "")
        return call(self.api_client, "PUT", path, obj, query=query, impersonate=user)

    def judge(self, attempt: Attempt, user: str = MALLORY) -> tuple[Decision, Reply]:
        """The native gate's decision on the request, required to be the engine's (through the
        webhook's decision function on the same state); both returned with the API server's reply."""
        new, old, reply = self._sent(attempt, user, dry_run=True)
        reference = self.reference(attempt, new, old, user)
        native = self.native_decision(reply)
        assert native == reference, f"native {native}, engine {reference}: {reply.message or reply.warnings}"
        return native, reply

    def native_decision(self, reply: Reply) -> Decision:
        if reply.status == 403:
            assert self.gate.deny_prefix() in reply.message, reply.body
            assert reply.body["reason"] == "Forbidden"
            return "Deny"
        assert reply.ok, reply.body
        ours = [w for w in reply.warnings if w.startswith(self.gate.warn_prefix())]
        return "Warn" if ours else "Allow"

    def reference(
        self, attempt: Attempt, new: dict[str, Any], old: dict[str, Any] | None, user: str
    ) -> Decision:
        """What the webhook's gate (validate.gpai.dev) decides on the same request and state."""
        body = _admission_review(attempt.operation, new, old, attempt.subresource, user)
        runtime = Runtime(state=self.state, clock=ManualClock(NOW), synced=True)
        answer = review(body, runtime, NOW)
        response = answer.body["response"]
        if not response["allowed"]:
            return "Deny"
        warnings = response.get("warnings", [])
        if warnings and not any(w.endswith(PASS_REASONS) for w in warnings):
            return "Warn"
        return "Allow"  # allowed, audited, or an always-allowed request (advice, not the gate)


def _admission_review(
    operation: str, obj: dict[str, Any], old: dict[str, Any] | None, subresource: str, user: str
) -> dict[str, Any]:
    group, version, plural = REVIEW_KINDS[obj["kind"]]
    version = obj["apiVersion"].rpartition("/")[2]
    kind = {"group": group, "version": version, "kind": obj["kind"]}
    resource = {"group": group, "version": version, "resource": plural}
    request: dict[str, Any] = {
        "uid": secrets.token_hex(8),
        "kind": kind,
        "resource": resource,
        "requestKind": kind,
        "requestResource": resource,
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"]["namespace"],
        "operation": operation,
        "userInfo": {"username": user, "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": True,
    }
    if subresource:
        request["subResource"] = subresource
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


@pytest.fixture
def new_scene(
    cluster: Cluster, api_client: ApiClient, gate: Gate, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Scene]]:
    """Makes scenes: fresh namespaces behind the native gate, where mallory and the operator's
    identity may work on workloads; each deleted afterwards."""
    made: list[str] = []

    def scene() -> Scene:
        namespace = create_namespace(
            api_client, request.node.name, labels={SELECT_LABEL: gate.selector_value}
        )
        made.append(namespace)
        grant_workload_rights(api_client, namespace, f"{gate.prefix}-workloads")
        return Scene(namespace, api_client, gate)

    yield scene
    for namespace in made:
        delete_namespace(api_client, namespace, purge=not cluster.runs_controllers)


@pytest.fixture
def scene(new_scene: Callable[[], Scene]) -> Scene:
    """A scene under a Deny policy that requires the model label, with aurora-2 (compliant, all its
    evidence) and rogue (systemic risk, no evidence at all), its verdicts written."""
    made = new_scene()
    made.add(
        policy("gate", ["Deny"], requireModelLabel=True),
        *example_evidence(COMPLIANT, made.namespace),
        rogue_model(made.namespace),
    )
    made.publish()
    return made


def no_longer_compliant(scene: Scene) -> None:
    """aurora-2's version moves on without its evidence, and the operator's verdicts say so."""
    [model] = [m for m in example_evidence(COMPLIANT, scene.namespace) if m["kind"] == "GPAIModel"]
    model["spec"]["version"] = "2.1"
    scene.add(model)
    scene.publish()


def scale(scene: Scene, obj: dict[str, Any], replicas: int) -> Reply:
    """Scales `obj` through its `scale` subresource, as kubectl scale and autoscalers do."""
    body = {"spec": {"replicas": replicas}}
    return call(scene.api_client, "PATCH", path_of(obj) + "/scale", body, content_type=MERGE_PATCH)


def pinned_exception(namespace: str, model: str = "legacy", version: str = "2.3") -> dict[str, Any]:
    return {
        "namespace": namespace,
        "model": model,
        "version": version,
        "reason": f"granted for {version} while its evaluation is redone",
        "expires": "2026-12-31",
    }
