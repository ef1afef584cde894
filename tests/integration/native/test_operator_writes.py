"""The operator writes the native gate's AdmissionVerdicts, and the gate holds without it.

A real operator (`--admission-verdicts`, serving only this test's namespaces) against the real API
server, with the native policies of conftest.py: it writes verdicts for every covered namespace,
rewrites them when the evidence changes, writes nothing when converged (restart included), deletes
those of a namespace that leaves coverage; stopped, it leaves a gate that still denies the
non-compliant and admits the compliant. And in mode `both`, a webhook that cannot be reached
(failurePolicy Ignore) neither opens nor closes that gate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator.admission.configuration import webhook_configuration
from gpai_operator.admission.testing import WebhookCertificates
from gpai_operator.api.verdicts import NAME as VERDICTS
from gpai_operator.controller.derived import MANAGED_BY, MANAGED_BY_LABEL
from gpai_operator.runtime import ManualClock
from gpai_operator.testing.controlplane import Cluster, free_ports
from gpai_operator.testing.rest import request_json
from tests.integration.admission.kube import example_evidence
from tests.integration.admission.workloads import manifest, policy
from tests.integration.native.conftest import COMPLIANT, ROGUE, SELECT_LABEL, Attempt, Gate, Scene
from tests.integration.operator.conftest import NOW, StartOperator, running_operators
from tests.integration.operator.helpers import Kube, stays, wait_for
from tests.integration.security.conftest import rogue_model

pytestmark = pytest.mark.integration

WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"


def verdicts_path(namespace: str) -> str:
    return f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/admissionverdicts/{VERDICTS}"


def read_verdicts(api_client: ApiClient, namespace: str) -> dict[str, Any] | None:
    try:
        return request_json(api_client, "GET", verdicts_path(namespace))
    except ApiException as error:
        if error.status == 404:
            return None
        raise


@pytest.fixture
def kube(api_client: ApiClient) -> Kube:
    return Kube(api_client)


@pytest.fixture
def start_operator(cluster: Cluster) -> Iterator[StartOperator]:
    with running_operators(cluster) as start:
        yield start


@pytest.fixture
def enforce(api_client: ApiClient, kube: Kube, gate: Gate) -> Iterator[dict[str, Any]]:
    """A Deny policy for this module's namespaces only (CompliancePolicies are cluster-wide)."""
    made = policy(
        f"{gate.prefix}-enforce",
        ["Deny"],
        requireModelLabel=True,
        namespaceSelector={"matchLabels": {SELECT_LABEL: gate.selector_value}},
    )
    kube.create(made)
    yield made
    kube.delete(made)


@pytest.fixture
def two_scenes(new_scene: Callable[[], Scene], kube: Kube, enforce: dict[str, Any]) -> tuple[Scene, Scene]:
    """`models`: aurora-2 (compliant, all its evidence) and rogue (no evidence), created for real;
    `empty`: a namespace without models."""
    models, empty = new_scene(), new_scene()
    for obj in (*example_evidence(COMPLIANT, models.namespace), rogue_model(models.namespace)):
        kube.create(obj)
    return models, empty


def writing_operator(start: StartOperator, *scenes: Scene, **overrides: Any) -> Any:
    return start(namespaces=tuple(s.namespace for s in scenes), admission_verdicts=True, **overrides)


def written(api_client: ApiClient, scene: Scene, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The namespace's verdicts once they pass `check` and the API server decides by them (the object
    is written in two steps, itself then its status: what is read may be between the two)."""

    def held() -> dict[str, Any] | None:
        found = read_verdicts(api_client, scene.namespace)
        if found is None or not check(found):
            return None
        return found if scene.held() == f"{VERDICTS} {found['metadata']['resourceVersion']}" else None

    return wait_for(held, f"verdicts in {scene.namespace} that the API server decides by")


def versions(api_client: ApiClient, *scenes: Scene) -> dict[str, str | None]:
    return {
        s.namespace: (found or {}).get("metadata", {}).get("resourceVersion")
        for s in scenes
        for found in [read_verdicts(api_client, s.namespace)]
    }


def test_the_operator_writes_every_covered_namespaces_verdicts_and_rewrites_them_on_new_evidence(
    api_client: ApiClient, kube: Kube, start_operator: StartOperator, two_scenes: tuple[Scene, Scene]
) -> None:
    models, empty = two_scenes
    writing_operator(start_operator, models, empty)

    ours = written(api_client, models, lambda v: "status" in v)
    assert ours["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY
    assert ours["spec"]["models"] == {COMPLIANT: "2.0", ROGUE: "1.0"}
    assert set(ours["spec"]["deny"]["models"]) == {ROGUE}
    assert (ours["status"]["models"], ours["status"]["denied"], ours["status"]["warned"]) == (2, 1, 0)
    assert {f["manager"] for f in ours["metadata"]["managedFields"]} == {"gpai-operator"}
    nothing = written(api_client, empty, lambda v: "status" in v)
    assert nothing["spec"]["models"] == {}
    assert nothing["spec"]["deny"]["unlabelled"] == [f"{models.gate.prefix}-enforce"]

    deployment = manifest("Deployment", models.namespace, COMPLIANT)
    assert models.native_decision(models.send(Attempt.create(deployment))) == "Allow"

    # aurora-2 moves to a version its evidence does not cover: the operator rewrites the verdicts
    [model] = [m for m in example_evidence(COMPLIANT, models.namespace) if m["kind"] == "GPAIModel"]
    kube.patch(model, {"spec": {"version": "2.1"}})
    rewritten = written(api_client, models, lambda v: v["status"]["denied"] == 2)
    assert set(rewritten["spec"]["deny"]["models"]) == {COMPLIANT, ROGUE}
    assert rewritten["spec"]["models"][COMPLIANT] == "2.1"
    reply = models.send(Attempt.create(deployment))
    assert models.native_decision(reply) == "Deny"
    assert f"GPAIModel {models.namespace}/{COMPLIANT} version 2.1" in reply.message


def test_nothing_is_written_when_converged_and_a_namespace_leaving_coverage_loses_its_verdicts(
    api_client: ApiClient,
    start_operator: StartOperator,
    two_scenes: tuple[Scene, Scene],
    caplog: pytest.LogCaptureFixture,
) -> None:
    models, empty = two_scenes
    first = writing_operator(start_operator, models, empty)
    written(api_client, models, lambda v: "status" in v)
    written(api_client, empty, lambda v: "status" in v)
    converged = versions(api_client, models, empty)
    first.stop()

    # An hour later: a write, had there been one, would carry a new status.evaluated.
    caplog.clear()
    caplog.set_level(logging.INFO, logger="gpai_operator.reconciler")
    again = writing_operator(start_operator, models, empty, clock=ManualClock(NOW + dt.timedelta(hours=1)))
    wait_for(lambda: again.operator.reconciler and again.operator.reconciler.passes > 0, "a pass")
    stays(lambda: versions(api_client, models, empty) == converged, "the verdicts as they were")
    assert not [r for r in caplog.records if r.getMessage().startswith("derived object")]
    again.stop()

    # `empty` is no longer covered (the chart's excludeNamespaces): its verdicts go
    excluded = ("kube-system", empty.namespace)
    writing_operator(start_operator, models, empty, verdicts_excluded_namespaces=excluded)
    wait_for(lambda: read_verdicts(api_client, empty.namespace) is None, "the verdicts to be deleted")
    assert versions(api_client, models)[models.namespace] == converged[models.namespace]

    def logged() -> list[str]:  # the line follows the answer, which may come after the test sees it
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("derived object")]

    wait_for(lambda: logged(), "the deletion's log line")
    assert logged() == ["derived object deleted"]


def test_deleted_verdicts_are_written_again(
    api_client: ApiClient, start_operator: StartOperator, two_scenes: tuple[Scene, Scene]
) -> None:
    models, empty = two_scenes
    writing_operator(start_operator, models, empty)
    before = written(api_client, empty, lambda v: "status" in v)
    request_json(api_client, "DELETE", verdicts_path(empty.namespace))
    after = written(api_client, empty, lambda v: v["metadata"]["uid"] != before["metadata"]["uid"])
    assert after["spec"] == before["spec"]


def test_with_the_operator_stopped_the_native_gate_still_denies_the_non_compliant_and_admits_the_compliant(
    api_client: ApiClient, start_operator: StartOperator, two_scenes: tuple[Scene, Scene]
) -> None:
    models, empty = two_scenes
    operator = writing_operator(start_operator, models, empty)
    written(api_client, models, lambda v: "status" in v)
    written(api_client, empty, lambda v: "status" in v)
    operator.stop()

    rogue = models.send(Attempt.create(manifest("Deployment", models.namespace, ROGUE)), dry_run=False)
    assert models.native_decision(rogue) == "Deny"
    assert f"GPAIModel {models.namespace}/{ROGUE} version 1.0" in rogue.message
    compliant = models.send(
        Attempt.create(manifest("Deployment", models.namespace, COMPLIANT)), dry_run=False
    )
    assert compliant.status == 201, compliant.body
    unlabelled = empty.send(Attempt.create(manifest("Deployment", empty.namespace, None)), dry_run=False)
    assert empty.native_decision(unlabelled) == "Deny"


@pytest.fixture
def unreachable_webhook(api_client: ApiClient, gate: Gate, tmp_path: Path) -> Iterator[None]:
    """The webhook of mode `both` for this module's namespaces, failing open (failurePolicy Ignore),
    at an address where nothing listens: the operator is down."""
    certificates = WebhookCertificates.create(tmp_path)
    [port] = free_ports(1)
    configuration = webhook_configuration(
        f"https://127.0.0.1:{port}/validate",
        certificates.ca_pem,
        name=f"{gate.prefix}-webhook",
        namespace_selector={"matchLabels": {SELECT_LABEL: gate.selector_value}},
    )
    for hook in configuration["webhooks"]:
        hook["failurePolicy"] = "Ignore"
    request_json(api_client, "POST", WEBHOOKS, body=configuration)
    yield
    request_json(api_client, "DELETE", f"{WEBHOOKS}/{configuration['metadata']['name']}")


def test_in_mode_both_an_unreachable_webhook_fails_open_and_the_native_gate_decides(
    api_client: ApiClient,
    start_operator: StartOperator,
    two_scenes: tuple[Scene, Scene],
    unreachable_webhook: None,
) -> None:
    models, empty = two_scenes
    operator = writing_operator(start_operator, models, empty)
    written(api_client, models, lambda v: "status" in v)
    operator.stop()

    rogue = models.send(Attempt.create(manifest("Deployment", models.namespace, ROGUE)))
    assert models.native_decision(rogue) == "Deny"
    compliant = models.send(Attempt.create(manifest("Deployment", models.namespace, COMPLIANT)))
    assert compliant.ok, compliant.body
