"""Admission through the real API server: what a user sees when creating, changing, scaling and
deleting workloads, with the webhook registered the way the chart registers it."""

from __future__ import annotations

import pytest

from tests.integration.admission.conftest import OPERATOR, Gate
from tests.integration.admission.kube import call, collection, create, delete, example_evidence, feed, patch
from tests.integration.admission.workloads import KINDS, bare_model, manifest, policy
from tests.integration.security.conftest import wait_until_allowed

DENIED_BY = 'admission webhook "validate.gpai.dev" denied the request: '


def test_a_deployment_is_denied_until_its_model_has_its_evidence_then_admitted(gate: Gate) -> None:
    evidence = example_evidence("aurora-2", gate.namespace)
    model, artifacts = evidence[0], evidence[1:]
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), model)
    deployment = manifest("Deployment", gate.namespace, "aurora-2")

    denied = create(gate.api_client, deployment)

    assert denied.status == 403
    assert denied.body["reason"] == "Forbidden"
    assert denied.message.startswith(
        f"{DENIED_BY}Deployment {gate.namespace}/chat is denied by policy eu-ai-act: "
        f"it serves GPAIModel {gate.namespace}/aurora-2 version 2.0, which leaves 6 obligations unmet:\n"
    )
    assert (
        "\n- systemic-risk/evaluation (Art. 55(1)(a); CoP S&S Commitments 2-3) is Missing" in denied.message
    )
    assert "To fix: create a RiskEvaluation for model aurora-2 version 2.0 covering Cbrn" in denied.message
    assert "\n- transparency/technical-documentation (Art. 53(1)(a)" in denied.message

    feed(gate.runtime.state, *artifacts)  # what the watches deliver once the team files the evidence
    admitted = create(gate.api_client, deployment)

    assert admitted.status == 201, admitted.body
    assert admitted.warnings == []


def test_a_denial_names_the_code_of_practice_chapter_that_falls_short(gate: Gate) -> None:
    model, *artifacts = example_evidence("aurora-2", gate.namespace)  # complete, every chapter signed
    # The provider now says it did not sign the Copyright chapter, and shows no alternative means.
    model["spec"]["provider"]["codeOfPractice"] = {
        "transparency": "Signatory",
        "copyright": "NonSignatory",
        "safetyAndSecurity": "Signatory",
    }
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), model, *artifacts)
    deployment = manifest("Deployment", gate.namespace, "aurora-2")

    denied = create(gate.api_client, deployment)

    assert denied.status == 403
    assert denied.message.endswith(
        "which leaves 1 obligation unmet:\n"
        "- governance/code-of-practice (Art. 53(4), 55(2)) is Incomplete: Copyright chapter not signed and "
        "no alternative adequate means documented (spec.provider.alternativeMeans has no entry for it); "
        "Transparency chapter signed; Safety and Security chapter signed. To fix: document alternative "
        "adequate means in spec.provider.alternativeMeans ({chapter: Copyright, document: {url}, updated}) "
        f"on GPAIModel {gate.namespace}/aurora-2."
    )

    # Alternative adequate means satisfy the law: admitted ...
    model["spec"]["provider"]["alternativeMeans"] = [
        {"chapter": "Copyright", "document": {"url": "https://aurora-labs.example/copyright-measures"}}
    ]
    feed(gate.runtime.state, model)
    assert create(gate.api_client, deployment, dry_run=True).status == 201

    # ... but not a platform that admits only signatories of the chapter.
    signatories = policy("eu-ai-act", ["Deny"], parameters={"requireSignatory": ["Copyright"]})
    feed(gate.runtime.state, signatories)
    refused = create(gate.api_client, deployment)
    assert refused.status == 403
    assert (
        "- governance/code-of-practice (Art. 53(4), 55(2)) is Failed: Copyright chapter not signed, and the "
        "policy admits only its signatories (parameters.requireSignatory lists Copyright)" in refused.message
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_workload_kind_is_gated(gate: Gate, kind: str) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), bare_model("aurora-2", gate.namespace))

    denied = create(gate.api_client, manifest(kind, gate.namespace, "aurora-2"))

    assert denied.status == 403, denied.body
    assert denied.message.startswith(f"{DENIED_BY}{kind} {gate.namespace}/chat is denied by policy eu-ai-act")

    feed(gate.runtime.state, *example_evidence("aurora-2", gate.namespace))
    assert create(gate.api_client, manifest(kind, gate.namespace, "aurora-2")).status == 201


def test_warn_shows_one_warning_per_unmet_obligation(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Warn"]), bare_model("aurora-2", gate.namespace))

    reply = create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2"))

    assert reply.status == 201
    header, *obligations = reply.warnings
    assert header.startswith(
        f"Deployment {gate.namespace}/chat is allowed with a warning by policy eu-ai-act"
    )
    assert header.endswith(f"(in full: kubectl describe gpai aurora-2 -n {gate.namespace})")
    assert len(obligations) == 13
    assert any(
        w.startswith(
            f"GPAIModel {gate.namespace}/aurora-2 version 2.0: systemic-risk/evaluation (Art. 55(1)(a)"
        )
        for w in obligations
    )
    assert all(len(w) <= 256 or sum(map(len, reply.warnings)) <= 4096 for w in reply.warnings)


def test_audit_allows_without_a_word(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Audit"]), bare_model("aurora-2", gate.namespace))

    reply = create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2"))

    assert reply.status == 201
    assert reply.warnings == []


def test_a_namespace_selector_limits_where_a_policy_applies(gate: Gate) -> None:
    # this test's namespace is labelled env=dev; the policy only denies in env=prod
    only_prod = policy("prod-only", ["Deny"], namespaceSelector={"matchLabels": {"env": "prod"}})
    feed(gate.runtime.state, only_prod, bare_model("aurora-2", gate.namespace))

    assert create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2")).status == 201


def test_a_namespace_selector_selects_prod(gate: Gate) -> None:
    only_prod = policy("prod-only", ["Deny"], namespaceSelector={"matchLabels": {"env": "prod"}})
    feed(gate.runtime.state, only_prod, bare_model("aurora-2", gate.namespace))

    assert create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2")).status == 403


def test_an_exception_waives_the_obligations_it_names(gate: Gate) -> None:
    exception = {
        "namespace": gate.namespace,
        "model": "aurora-2",
        "reason": "evaluations booked for December, approved by the AI governance board",
        "expires": "2026-12-31",
    }
    feed(
        gate.runtime.state,
        policy("eu-ai-act", ["Deny"], exceptions=[exception]),
        bare_model("aurora-2", gate.namespace),
    )

    assert create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2")).status == 201


def test_the_strongest_action_wins(gate: Gate) -> None:
    feed(
        gate.runtime.state,
        policy("advisory", ["Warn", "Audit"]),
        policy("enforcing", ["Deny"], obligations=["systemic-risk/evaluation"]),
        bare_model("aurora-2", gate.namespace),
    )

    reply = create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2"))

    assert reply.status == 403
    assert "is denied by policy enforcing" in reply.message
    assert "1 obligation unmet" in reply.message


def test_a_non_compliant_deployment_can_always_be_scaled_down_and_deleted(gate: Gate) -> None:
    # Compliant when created; then an evaluation is withdrawn and the model is no longer compliant.
    evidence = example_evidence("aurora-2", gate.namespace)
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), *evidence)
    deployment = manifest("Deployment", gate.namespace, "aurora-2")
    assert create(gate.api_client, deployment).status == 201
    feed(gate.runtime.state, deployment)  # the watches have seen it
    gate.runtime.state.remove_evaluation(gate.namespace, "aurora-2-red-team")

    scaled = patch(gate.api_client, deployment, {"spec": {"replicas": 0}}, subresource="scale")
    assert scaled.status == 200, scaled.body
    [warning] = scaled.warnings
    assert warning == (
        f"Deployment {gate.namespace}/chat serves GPAIModel aurora-2, which is not compliant "
        "(1 obligation unmet: systemic-risk/adversarial-testing); allowed: scaling is never blocked"
    )

    edited = patch(
        gate.api_client, deployment, {"spec": {"replicas": 1}, "metadata": {"labels": {"team": "chat"}}}
    )
    assert edited.status == 200
    assert edited.warnings[0].endswith(
        "allowed: updates that keep the pod template, model label and controller are never blocked"
    )

    changed_image = {
        "spec": {"template": {"spec": {"containers": [{"name": "server", "image": "acme/server:2.0"}]}}}
    }
    rollout = patch(gate.api_client, deployment, changed_image)
    assert rollout.status == 403
    assert "systemic-risk/adversarial-testing" in rollout.message

    deleted = delete(gate.api_client, deployment)
    assert deleted.status == 200
    assert deleted.warnings[0].endswith("allowed: deleting is never blocked")


def test_the_operators_annotation_patch_is_never_denied(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Audit"]), bare_model("aurora-2", gate.namespace))
    deployment = manifest("Deployment", gate.namespace, "aurora-2")
    assert create(gate.api_client, deployment).status == 201
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]))  # now enforced

    annotations = {
        "gpai.dev/compliance": "NonCompliant",
        "gpai.dev/unmet": "systemic-risk/evaluation",
        "gpai.dev/evaluated": "2026-11-28T12:00:00Z",
    }
    reply = patch(gate.api_client, deployment, {"metadata": {"annotations": annotations}})

    assert reply.status == 200, reply.body


def test_the_operators_own_template_change_is_judged_like_anyones(gate: Gate) -> None:
    """Its service account patches annotations only; a leaked token must not mean ungated rollouts."""
    feed(gate.runtime.state, policy("eu-ai-act", ["Audit"]), bare_model("aurora-2", gate.namespace))
    deployment = manifest("Deployment", gate.namespace, "aurora-2")
    assert create(gate.api_client, deployment).status == 201
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]))
    grant = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "operator-edits", "namespace": gate.namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "name": OPERATOR}],
    }
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{gate.namespace}/rolebindings"
    assert call(gate.api_client, "POST", path, grant).ok
    wait_until_allowed(gate.api_client, OPERATOR, "patch", "apps", "deployments", gate.namespace)
    image = {"spec": {"template": {"spec": {"containers": [{"name": "server", "image": "acme/server:2.0"}]}}}}
    annotations = {"metadata": {"annotations": {"gpai.dev/compliance": "NonCompliant"}}}

    as_operator = patch(gate.api_client, deployment, image, impersonate=OPERATOR)
    annotating = patch(gate.api_client, deployment, annotations, impersonate=OPERATOR)

    assert as_operator.status == 403, as_operator.body
    assert "is denied by policy eu-ai-act" in as_operator.message
    assert annotating.status == 200, annotating.body


def test_changing_the_model_label_is_judged(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), *example_evidence("aurora-2", gate.namespace))
    feed(gate.runtime.state, bare_model("borealis-1", gate.namespace))
    deployment = manifest("Deployment", gate.namespace, "aurora-2")
    assert create(gate.api_client, deployment).status == 201

    reply = patch(gate.api_client, deployment, {"metadata": {"labels": {"gpai.dev/model": "borealis-1"}}})

    assert reply.status == 403
    assert f"serves GPAIModel {gate.namespace}/borealis-1" in reply.message


REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller"


def test_pods_a_trusted_controller_makes_are_not_gated_themselves(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), bare_model("aurora-2", gate.namespace))
    pod = manifest("Pod", gate.namespace, "aurora-2", name="chat-5d8f7-x2k9q")
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "chat-5d8f7",
        "uid": "8d0b3d8e-0000-4000-8000-000000000001",
    }
    pod["metadata"]["ownerReferences"] = [{**owner, "controller": True}]

    by_anyone_else = create(gate.api_client, pod)
    by_the_controller = call(gate.api_client, "POST", collection(pod), pod, impersonate=REPLICASET_CONTROLLER)

    assert by_anyone_else.status == 403, by_anyone_else.body
    assert by_the_controller.status == 201, by_the_controller.body


def test_a_server_side_dry_run_gets_the_same_answer(gate: Gate) -> None:
    feed(gate.runtime.state, policy("eu-ai-act", ["Deny"]), bare_model("aurora-2", gate.namespace))

    reply = create(gate.api_client, manifest("Deployment", gate.namespace, "aurora-2"), dry_run=True)

    assert reply.status == 403
    assert "is denied by policy eu-ai-act" in reply.message
