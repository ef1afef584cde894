"""What an Audit policy finds reaches the API server's audit log, as the engine's `audited` says.

A client never sees an audit record, so this module runs its own kube-apiserver with an audit log
(the session's has none) and reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from gpai_operator.engine.evaluate import decide_workload
from gpai_operator.objects import workload_from
from gpai_operator.testing.controlplane import BinariesUnavailable, ControlPlane
from tests.integration.admission.kube import example_evidence
from tests.integration.admission.workloads import manifest, policy
from tests.integration.conftest import install_test_crds
from tests.integration.native.conftest import NOW, Attempt, Scene
from tests.integration.operator.helpers import wait_for
from tests.integration.security.conftest import rogue_model
from tests.unavailable import unavailable

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "Metadata", "resources": [{"group": "apps", "resources": ["deployments"]}]},
        {"level": "None"},
    ],
}


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit") / "audit.log"


@pytest.fixture(scope="module")
def cluster(audit_log: Path) -> Iterator[ControlPlane]:
    """A control plane of this module's own, writing an audit log."""
    policy_file = audit_log.with_name("policy.json")
    policy_file.write_text(json.dumps(AUDIT_POLICY))
    plane = ControlPlane(
        extra_apiserver_args=(f"--audit-policy-file={policy_file}", f"--audit-log-path={audit_log}")
    )
    try:
        plane.start()
    except BinariesUnavailable as error:
        unavailable(f"no Kubernetes control plane for the audit test: {error}")
    try:
        with plane.api_client() as client:
            install_test_crds(client)
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def api_client(cluster: ControlPlane) -> Iterator[ApiClient]:
    with cluster.api_client() as client:
        yield client


def audit_annotations(audit_log: Path, namespace: str, name: str) -> dict[str, str]:
    """The annotations of the completed creation of Deployment namespace/name, from the audit log."""
    for line in audit_log.read_text().splitlines():
        event = json.loads(line)
        ref = event.get("objectRef") or {}
        if (
            event.get("stage") == "ResponseComplete"
            and event.get("verb") == "create"
            and ref.get("namespace") == namespace
            and ref.get("name") == name
        ):
            return dict(event.get("annotations") or {})
    raise AssertionError(f"no audit event for the creation of {namespace}/{name} yet")


def test_audit_findings_are_recorded_whatever_the_decision(new_scene: Any, audit_log: Path) -> None:
    scene: Scene = new_scene()
    scene.add(
        policy("count", ["Audit"], requireModelLabel=True),
        policy("evaluations", ["Deny"], obligations=["systemic-risk/evaluation"]),
        *example_evidence("aurora-2", scene.namespace),
        *example_evidence("kestrel-7b", scene.namespace),
        rogue_model(scene.namespace),
    )
    scene.publish()
    key = f"{scene.gate.prefix}-deny/audit"
    names = {"aurora-2": "compliant", "kestrel-7b": "audited", "rogue": "denied", None: "unlabelled"}
    recorded, audited, decided = {}, {}, {}

    for model, name in names.items():
        deployment = manifest("Deployment", scene.namespace, model, name=name)
        decided[name] = scene.judge(Attempt.create(deployment))[0]
        engine = decide_workload(scene.state, workload_from(deployment), NOW)
        audited[name] = engine.audited

        def audit_event(name: str = name) -> Any:
            return audit_annotations(audit_log, scene.namespace, name)

        annotations = wait_for(audit_event, f"the audit event of {name}")
        recorded[name] = annotations.get(key, "")

    assert decided == {"compliant": "Allow", "audited": "Allow", "denied": "Deny", "unlabelled": "Allow"}
    assert {name: bool(record) for name, record in recorded.items()} == audited
    assert audited == {"compliant": False, "audited": True, "denied": True, "unlabelled": True}
    ns = scene.namespace
    assert recorded["audited"] == (
        f"Deployment {ns}/audited is audited by policy count: it serves GPAIModel {ns}/kestrel-7b "
        "version 0.9, which leaves 1 obligation unmet: governance/authorised-representative. "
        f"In full: kubectl describe gpai kestrel-7b -n {ns}"
    )
    assert recorded["unlabelled"].startswith(
        f"Deployment {ns}/unlabelled is audited by policy count: it has no gpai.dev/model label"
    )
