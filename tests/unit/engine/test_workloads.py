"""Workload decisions: every workload kind, the strongest action, the two workload rules."""

from __future__ import annotations

import pytest

from gpai_operator import objects
from gpai_operator.engine.evaluate import decide_workload, evaluate_all, evaluate_model

from .builders import (
    NOW,
    NS,
    WORKLOAD_API_VERSIONS,
    cluster,
    decision,
    exception,
    excluding,
    frontier,
    model,
    namespace,
    policy,
    workload,
)

KINDS = list(WORKLOAD_API_VERSIONS)


def non_compliant():
    return excluding(frontier(), "RiskEvaluation")


@pytest.mark.parametrize("kind", KINDS)
def test_every_workload_kind_serving_a_non_compliant_model_is_denied_under_deny(kind):
    chat = workload(kind)
    result = decision(cluster(non_compliant(), policy("eu"), chat), chat)
    assert result.decision == "Deny"
    assert result.compliance == "NonCompliant"
    assert (result.api_version, result.kind, result.namespace, result.name) == (
        WORKLOAD_API_VERSIONS[kind], kind, "ml", "chat",
    )  # fmt: skip
    assert result.unmet == (
        "systemic-risk/adversarial-testing",
        "systemic-risk/evaluation",
        "systemic-risk/risk-acceptance",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_workload_kind_serving_a_compliant_model_is_allowed(kind):
    chat = workload(kind)
    result = decision(cluster(frontier(), policy("eu"), chat), chat)
    assert (result.decision, result.compliance, result.unmet, result.audited) == (
        "Allow",
        "Compliant",
        (),
        False,
    )
    assert result.message == f"{kind} ml/chat serves GPAIModel ml/acme version 3.1, which is compliant"


@pytest.mark.parametrize("kind", KINDS)
def test_controlled_workloads_are_judged_like_any_other(kind):
    """Who made an object is for admission to know; the engine judges every workload."""
    pod = workload(kind, "chat-7d9f-x2x", controller="ReplicaSet")
    result = decision(cluster(non_compliant(), policy("eu"), pod), pod)
    assert (result.decision, result.compliance) == ("Deny", "NonCompliant")


def test_the_deny_message_names_workload_model_obligations_articles_and_fixes():
    chat = workload()
    result = decision(cluster(non_compliant(), policy("eu-ai-act"), chat), chat)
    first_line, *items = result.message.splitlines()
    assert first_line == (
        "Deployment ml/chat is denied by policy eu-ai-act: it serves GPAIModel ml/acme version 3.1, "
        "which leaves 3 obligations unmet:"
    )
    assert items[1].startswith(
        "- systemic-risk/evaluation (Art. 55(1)(a); CoP S&S Commitments 2-3) is Missing:"
    )
    assert "create a RiskEvaluation for model acme version 3.1 covering Cbrn" in items[1]
    assert len(result.reasons) == 3
    assert all(r.startswith("GPAIModel ml/acme version 3.1: systemic-risk/") for r in result.reasons)


def test_the_strongest_action_wins_among_policies_under_which_the_model_fails():
    chat = workload()
    state = cluster(
        non_compliant(), policy("audit", ["Audit"]), policy("warn", ["Warn"]), policy("deny", ["Deny"]), chat
    )
    result = decision(state, chat)
    assert result.decision == "Deny"
    assert result.audited
    assert "denied by policy deny" in result.message


def test_a_policy_under_which_the_model_is_compliant_does_not_act():
    chat = workload()
    state = cluster(
        non_compliant(),
        policy("deny-but-waived", ["Deny"], exceptions=[exception()]),
        policy("warn", ["Warn"]),
        chat,
    )
    result = decision(state, chat)
    assert result.decision == "Warn"
    assert not result.audited
    assert "is allowed with a warning by policy warn" in result.message


def test_unmet_lists_only_the_ids_behind_the_decision():
    chat = workload()
    state = cluster(
        non_compliant(),
        policy("deny-evaluation", ["Deny"], obligations=["systemic-risk/evaluation"]),
        policy("warn-all", ["Warn"]),
        chat,
    )
    assert decision(state, chat).unmet == ("systemic-risk/evaluation",)


def test_audit_allows_and_lists_what_it_audited():
    chat = workload()
    result = decision(cluster(non_compliant(), policy("audit", ["Audit"]), chat), chat)
    assert result.decision == "Allow"
    assert result.audited
    assert result.compliance == "NonCompliant"
    assert "systemic-risk/evaluation" in result.unmet
    assert "is allowed (audited) by policy audit" in result.message


def test_warn_and_audit_together_warn_and_count():
    chat = workload()
    result = decision(cluster(non_compliant(), policy("both", ["Warn", "Audit"]), chat), chat)
    assert (result.decision, result.audited) == ("Warn", True)


def test_without_any_policy_the_default_audits_and_allows():
    chat = workload()
    result = decision(cluster(non_compliant(), chat), chat)
    assert (result.decision, result.compliance, result.audited) == ("Allow", "NonCompliant", True)
    assert "the built-in default policy" in result.message


def test_a_label_naming_a_missing_model_is_unknown_under_every_policy():
    ghost = workload("Deployment", "chat", model_name="foo")
    result = decision(cluster(frontier(), policy("eu"), ghost), ghost)
    assert (result.decision, result.compliance, result.unmet) == (
        "Deny",
        "UnknownModel",
        ("workload/model-exists",),
    )
    assert "GPAIModel ml/foo does not exist; create it or fix the gpai.dev/model label" in result.message
    assert result.reasons == ("GPAIModel ml/foo does not exist; create it or fix the gpai.dev/model label.",)


def test_a_model_in_another_namespace_does_not_count():
    elsewhere = workload(namespace="prod")
    result = decision(cluster(frontier(), policy("eu"), elsewhere), elsewhere)
    assert result.compliance == "UnknownModel"


def test_an_unlabelled_workload_is_allowed_unless_a_policy_requires_the_label():
    job = workload("Job", "batch", model_name=None)
    result = decision(cluster(frontier(), policy("eu"), job), job)
    assert (result.decision, result.compliance, result.unmet) == ("Allow", None, ())
    strict = policy("strict", requireModelLabel=True)
    result = decision(cluster(frontier(), strict, job), job)
    assert (result.decision, result.compliance, result.unmet) == ("Deny", None, ("workload/model-declared",))
    assert "Job ml/batch is denied by policy strict: it has no gpai.dev/model label" in result.message
    assert "add the label gpai.dev/model: <GPAIModel name>" in result.message


def test_require_model_label_applies_only_where_the_policy_selects():
    strict = policy("strict", requireModelLabel=True, namespaceSelector={"matchLabels": {"env": "prod"}})
    job = workload("Job", "batch", model_name=None, namespace="dev")
    result = decision(cluster(namespace("dev", env="dev"), strict, job), job)
    assert result.decision == "Allow"


def test_a_given_verdict_is_used_instead_of_evaluating_again():
    chat = workload()
    state = cluster(non_compliant(), policy("eu"), chat)
    stale = evaluate_model(cluster(frontier(), policy("eu")), ("ml", "acme"), NOW)
    result = decide_workload(state, objects.workload_from(chat), NOW, verdict=stale)
    assert result.decision == "Allow"


def test_evaluate_all_reports_models_and_every_workload_in_order():
    state = cluster(
        frontier("zeta", "b"),
        frontier("alpha", "b"),
        model("acme", "a"),
        policy("eu"),
        workload("Pod", "p1", "alpha", "b"),
        workload("Deployment", "d1", "zeta", "b"),
        workload("Deployment", "d0", "acme", "a"),
        workload("Pod", "d1-abc", "zeta", "b", controller="ReplicaSet"),
        workload("Job", "unlabelled", None, "a"),
    )
    report = evaluate_all(state, NOW)
    assert [(m.namespace, m.name) for m in report.models] == [("a", "acme"), ("b", "alpha"), ("b", "zeta")]
    assert [(w.namespace, w.kind, w.name) for w in report.workloads] == [
        ("a", "Deployment", "d0"),
        ("a", "Job", "unlabelled"),
        ("b", "Deployment", "d1"),
        ("b", "Pod", "d1-abc"),
        ("b", "Pod", "p1"),
    ]
    assert [w.decision for w in report.workloads] == ["Deny", "Allow", "Allow", "Allow", "Allow"]
    assert report.denied == (report.workloads[0],)
    assert report.models[0].compliant is False


# ---- controller references: what the operator may rely on ---------------------------------------
def _with_uid(obj, uid):
    obj["metadata"]["uid"] = uid
    return obj


def test_a_controller_reference_resolves_only_to_that_workload_with_that_uid():
    owner = _with_uid(workload("ReplicaSet", "chat-5d8"), "rs-1")
    genuine = workload(
        "Pod", "chat-5d8-a", controller="ReplicaSet", controller_name="chat-5d8", controller_uid="rs-1"
    )
    recreated = workload(
        "Pod", "chat-5d8-b", controller="ReplicaSet", controller_name="chat-5d8", controller_uid="rs-0"
    )
    missing = workload(
        "Pod", "chat-x-c", controller="ReplicaSet", controller_name="gone", controller_uid="rs-9"
    )
    config_map = workload(
        "Pod", "mine", controller="ConfigMap", controller_name="mine", controller_uid="cm-1"
    )
    state = cluster(owner, genuine, recreated, missing, config_map)

    def resolved(obj):
        return state.controller_of(state.workloads[("Pod", NS, obj["metadata"]["name"])])

    assert resolved(genuine) == state.workloads[("ReplicaSet", NS, "chat-5d8")]
    assert [resolved(o) for o in (recreated, missing, config_map)] == [None, None, None]
    assert state.claimed_by(("ReplicaSet", NS, "chat-5d8")) == {
        ("Pod", NS, "chat-5d8-a"),
        ("Pod", NS, "chat-5d8-b"),
    }


def test_claims_are_forgotten_with_the_claimant():
    pod = workload("Pod", "chat-5d8-a", controller="ReplicaSet", controller_name="chat-5d8")
    state = cluster(pod)
    state.remove_workload("Pod", NS, "chat-5d8-a")
    assert state.claimed_by(("ReplicaSet", NS, "chat-5d8")) == set()
