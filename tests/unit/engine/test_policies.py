"""Which policies apply where, the built-in default, and aggregation across policies."""

from __future__ import annotations

import pytest

from gpai_operator import objects
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.api.policy import CompliancePolicySpec
from gpai_operator.engine.evaluate import evaluate_model, selecting_policies, selects
from gpai_operator.engine.state import Resource

from .builders import (
    NOW,
    cluster,
    copyright_policy,
    exception,
    excluding,
    fine_tune,
    frontier,
    model,
    namespace,
    obligation,
    patched,
    policy,
    verdict,
)


def spec(**fields) -> CompliancePolicySpec:
    return CompliancePolicySpec.model_validate({"validationActions": ["Deny"], **fields})


PROD = {"kubernetes.io/metadata.name": "ml", "env": "prod", "team": "llm"}


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        (None, True),
        ({}, True),
        ({"matchLabels": {"env": "prod"}}, True),
        ({"matchLabels": {"env": "prod", "team": "vision"}}, False),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]}]}, True),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]}, False),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, False),
        ({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, False),
        (
            {
                "matchLabels": {"team": "llm"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}],
            },
            False,
        ),
    ],
)
def test_namespace_selector_has_label_selector_semantics(selector, selected):
    fields = {} if selector is None else {"namespaceSelector": selector}
    assert selects(spec(**fields), PROD) is selected


def test_a_namespace_the_state_has_not_seen_has_only_its_name_label():
    by_name = policy("ml-only", namespaceSelector={"matchLabels": {"kubernetes.io/metadata.name": "ml"}})
    by_env = policy("prod-only", namespaceSelector={"matchLabels": {"env": "prod"}})
    state = cluster(by_name, by_env)
    assert [p.name for p in selecting_policies(state, "ml")] == ["ml-only"]


def test_namespace_labels_decide_which_policies_select_it():
    state = cluster(
        namespace("ml", env="prod"),
        policy("b-prod", namespaceSelector={"matchLabels": {"env": "prod"}}),
        policy("a-everywhere", ["Audit"]),
        policy("c-dev", namespaceSelector={"matchLabels": {"env": "dev"}}),
    )
    assert [p.name for p in selecting_policies(state, "ml")] == ["a-everywhere", "b-prod"]


def test_without_a_selecting_policy_the_builtin_default_applies():
    state = cluster(policy("dev-only", namespaceSelector={"matchLabels": {"env": "dev"}}))
    (default,) = selecting_policies(state, "ml")
    assert default.name == ""
    assert default.spec.validation_actions == ["Audit"]
    assert default.spec.obligations == []
    result = verdict(cluster(model(), policy("dev", namespaceSelector={"matchLabels": {"env": "dev"}})))
    assert [p.policy for p in result.policies] == [""]
    assert [o.id for o in result.obligations] == list(POLICY_OBLIGATION_IDS)


def test_a_policy_evaluates_only_the_obligations_it_lists():
    only_copyright = policy(
        "copyright", obligations=["copyright/policy", "copyright/training-content-summary"]
    )
    result = verdict(cluster(model(), only_copyright))
    assert [o.id for o in result.obligations] == ["copyright/policy", "copyright/training-content-summary"]
    assert not result.compliant
    assert result.unmet == ("copyright/policy",)


def test_an_obligation_shows_its_worst_status_across_policies():
    objs = [
        *frontier(),
        copyright_policy(review_by="2026-10-31"),  # expired
        policy("strict"),
        policy("lenient", ["Warn"], exceptions=[exception(expires="2027-01-31")]),
    ]
    result = verdict(cluster(objs))
    assert obligation(cluster(objs), "copyright/policy").status == "Expired"
    assert {p.policy: p.compliant for p in result.policies} == {"lenient": True, "strict": False}
    assert not result.compliant


def test_met_is_shown_with_the_earliest_expiry_across_policies():
    objs = [*frontier(), policy("law"), policy("yearly-report", parameters={"modelReportMaxAgeDays": 100})]
    found = obligation(cluster(objs), "systemic-risk/model-report")
    assert found.status == "Met"
    assert found.expires.isoformat() == "2026-12-10"  # 2026-09-01 + 100 days
    assert found.expiring  # within 30 days of NOW under "yearly-report"


def test_a_model_is_compliant_only_if_every_selecting_policy_finds_it_so():
    small_threshold = policy("strict", parameters={"systemicRiskFlops": 1e24})
    mid = patched(model(flops=5e24), spec__copyrightPolicyRef={"name": "acme-copyright"})
    objs = [*excluding(frontier(), "RiskEvaluation"), mid, policy("law"), small_threshold]
    result = verdict(cluster(objs))
    assert {p.policy: p.compliant for p in result.policies} == {"law": True, "strict": False}
    assert not result.compliant
    assert obligation(cluster(objs), "systemic-risk/evaluation").status == "Missing"


def test_put_policy_affects_exactly_the_models_the_old_or_new_policy_selects():
    state = cluster(
        namespace("prod", env="prod"),
        namespace("dev", env="dev"),
        model("a", "prod"),
        model("b", "dev"),
        model("c", "other"),
    )
    prod_policy = policy("p", namespaceSelector={"matchLabels": {"env": "prod"}})
    assert objects.apply(state, prod_policy) == {("prod", "a")}
    assert objects.apply(state, prod_policy) == set()  # unchanged spec
    to_dev = patched(prod_policy, spec__namespaceSelector={"matchLabels": {"env": "dev"}})
    assert objects.apply(state, to_dev) == {("prod", "a"), ("dev", "b")}
    assert objects.remove(state, to_dev) == {("dev", "b")}
    assert state.remove_policy("never-existed") == set()
    everywhere = Resource(namespace="", name="all", spec=spec())
    assert state.put_policy(everywhere) == {("prod", "a"), ("dev", "b"), ("other", "c")}


def test_a_downstream_model_under_a_policy_without_the_upstream_obligation_is_still_judged():
    """The original's downstream information is judged with the policy's field lists even when the
    policy does not list that obligation (it raised KeyError once)."""
    base = model("base")
    tuned = fine_tune("tuned", modification=1e21, model_ref="base")
    state = cluster(base, tuned, policy("docs-only", obligations=["transparency/technical-documentation"]))
    result = evaluate_model(state, ("ml", "tuned"), NOW)
    assert result.classification.role == "Downstream"
