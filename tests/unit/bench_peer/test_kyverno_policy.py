"""Kyverno's ClusterPolicy in the peer benchmark judges what our validating webhook judges."""

from __future__ import annotations

from bench.kyverno import cluster_policy

from gpai_operator.admission.configuration import VALIDATE, webhook_configuration
from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.engine import DEFAULT_KINDS as DEFAULT

SELECTOR = {"matchLabels": {"gpai.dev/enforce": "true"}}


def _ours() -> dict:
    configuration = webhook_configuration("https://127.0.0.1:9443/validate", b"ca")
    return next(w for w in configuration["webhooks"] if w["name"] == VALIDATE)


def test_with_match_conditions_kyverno_is_sent_the_requests_our_gate_is_sent():
    ours = {c["name"]: c["expression"] for c in _ours()["matchConditions"]}
    policy = cluster_policy(SELECTOR, match_conditions=True)
    theirs = {c["name"]: c["expression"] for c in policy["spec"]["webhookConfiguration"]["matchConditions"]}
    assert theirs["not-a-trusted-controllers-object"] == ours["not-a-trusted-controllers-object"]
    # Ours also gates pods/ephemeralcontainers (a subresource rule Kyverno's policy has no kind for).
    subresource_clause = ours["create-or-what-runs-changed"].split(" || ")[1]
    assert "ephemeralcontainers" in subresource_clause
    assert theirs["create-or-what-runs-changed"] == ours["create-or-what-runs-changed"].replace(
        f" || {subresource_clause}", "", 1
    )


def test_written_plainly_the_policy_has_no_match_conditions():
    assert "webhookConfiguration" not in cluster_policy(SELECTOR)["spec"]


def test_every_workload_kind_in_the_enforced_namespaces_is_matched_on_create_and_update():
    rules = cluster_policy(SELECTOR)["spec"]["rules"]
    assert [rule["name"] for rule in rules] == ["model-label-required", "model-compliant"]
    for rule in rules:
        (resources,) = [entry["resources"] for entry in rule["match"]["any"]]
        assert len(resources["kinds"]) == len(list(DEFAULT))
        assert "Deployment" in resources["kinds"]
        assert "serving.kserve.io/*/InferenceService" in resources["kinds"]
        assert resources["operations"] == ["CREATE", "UPDATE"]
        assert resources["namespaceSelector"] == SELECTOR
        assert rule["validate"]["failureAction"] == "Enforce"


def test_the_compliance_rule_reads_the_named_models_condition_at_admission():
    rule = cluster_policy(SELECTOR)["spec"]["rules"][1]
    (context,) = rule["context"]
    assert context["apiCall"]["urlPath"] == (
        "/apis/gpai.dev/v1alpha1/namespaces/{{request.namespace}}/gpaimodels/"
        '{{request.object.metadata.labels."gpai.dev/model"}}'
    )
    assert "Compliant" in context["apiCall"]["jmesPath"]
    assert rule["validate"]["deny"]["conditions"]["any"] == [
        {"key": "{{compliant}}", "operator": "NotEquals", "value": "True"}
    ]


def test_the_trusted_controllers_are_left_alone_as_by_our_gate():
    for rule in cluster_policy(SELECTOR)["spec"]["rules"]:
        (excluded,) = rule["exclude"]["any"]
        subjects = excluded["subjects"]
        assert {
            "kind": "ServiceAccount",
            "namespace": "kube-system",
            "name": "replicaset-controller",
        } in subjects
        assert {"kind": "User", "name": "system:kube-controller-manager"} in subjects
        assert len(subjects) == len(DEFAULT_TRUST.usernames)
