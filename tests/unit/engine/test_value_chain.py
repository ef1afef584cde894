"""The value chain (OBLIGATIONS.md, additions of 2026-11-30): a modifier becomes the provider of the
modified model only above a third of the original's training compute; below it, it is downstream,
owes none of the provider's duties and needs the upstream provider's information."""

from __future__ import annotations

import pytest

from gpai_operator import objects
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS

from .builders import (
    NS,
    cluster,
    documentation,
    fine_tune,
    frontier,
    model,
    obligation,
    open_weights_model,
    patched,
    policy,
    small_model,
    status,
    verdict,
    without,
)

UPSTREAM = "value-chain/upstream-information"
PROVIDER_DUTIES = [i for i in POLICY_OBLIGATION_IDS if i != UPSTREAM]
FT = "acme-ft"


def role(*objs, name: str = FT) -> str:
    return verdict(cluster(*objs), name).classification.role


# ---- the role ------------------------------------------------------------------------------------
def test_a_model_made_from_scratch_is_its_providers_and_owes_no_upstream_information():
    assert role(frontier(), name="acme") == "Provider"
    found = obligation(cluster(frontier()), UPSTREAM)
    assert found.status == "NotApplicable"
    assert "declares no spec.derivedFrom" in found.message


def test_exactly_a_third_of_the_originals_compute_stays_downstream_and_a_little_more_is_a_provider():
    assert role(fine_tune(modification=1e24, original_flops=3e24)) == "Downstream"
    assert role(fine_tune(modification=1.0000001e24, original_flops=3e24)) == "ModifierProvider"
    # a third that is not a round number compares exactly too
    assert role(fine_tune(modification=1.4e23, original_flops=4.2e23)) == "Downstream"
    assert role(fine_tune(modification=1.41e23, original_flops=4.2e23)) == "ModifierProvider"


def test_the_reason_names_both_computes_and_the_original():
    found = verdict(cluster(fine_tune(modification=2e23, original_flops=3e24)), FT).classification
    assert found.role == "Downstream"
    assert found.role_reason == (
        "Base-LLM 2.0 by Base Labs modified with 2e+23 FLOP, not more than a third of the original's "
        "3e+24 FLOP (spec.derivedFrom.trainingFlops)"
    )


def test_without_the_originals_compute_a_third_of_1e23_is_the_line():
    assert role(fine_tune(modification=3.3e22, original_flops=None)) == "Downstream"
    found = verdict(cluster(fine_tune(modification=3.4e22, original_flops=None)), FT).classification
    assert found.role == "ModifierProvider"
    assert "more than a third of 1e+23 FLOP (the original's compute is unknown)" in found.role_reason


def test_without_the_compute_of_an_original_with_systemic_risk_a_third_of_the_threshold_is_the_line():
    designated = without(patched(model("base"), spec__systemicRisk__designated=True), "spec.trainingCompute")
    below = fine_tune(modification=3.3e24, original_flops=None, model_ref="base")
    above = fine_tune(modification=3.4e24, original_flops=None, model_ref="base")
    assert role(designated, below) == "Downstream"
    found = verdict(cluster(designated, above), FT).classification
    assert found.role == "ModifierProvider"
    assert "a third of the systemic-risk threshold 1e+25 FLOP" in found.role_reason


def test_the_originals_compute_comes_from_its_gpaimodel_when_the_spec_does_not_say():
    base = patched(small_model("base"), spec__trainingCompute__flops=6e24)
    assert role(base, fine_tune(modification=1.9e24, original_flops=None, model_ref="base")) == "Downstream"
    above = fine_tune(modification=2.1e24, original_flops=None, model_ref="base")
    found = verdict(cluster(base, above), FT).classification
    assert found.role == "ModifierProvider"
    assert "the original's 6e+24 FLOP (GPAIModel ml/base)" in found.role_reason


def test_an_undeclared_modification_cannot_claim_to_stay_below_the_line():
    found = verdict(cluster(fine_tune(modification=None)), FT).classification
    assert found.role == "ModifierProvider"
    assert "compute not declared (spec.modificationCompute.flops)" in found.role_reason


def test_under_several_policies_the_providers_duties_win():
    # The original's compute is unknown and it has systemic risk: each policy's threshold sets the line.
    designated = without(patched(model("base"), spec__systemicRisk__designated=True), "spec.trainingCompute")
    ft = fine_tune(modification=5e24, original_flops=None, model_ref="base")
    law = policy("law", ("Audit",))
    lenient = policy("lenient", ("Audit",), parameters={"systemicRiskFlops": 3e25})
    found = verdict(cluster(designated, ft, law, lenient), FT)
    assert [p.classification.role for p in found.policies] == ["ModifierProvider", "Downstream"]
    assert found.classification.role == "ModifierProvider"


def test_a_cycle_of_derived_models_does_not_loop():
    a = fine_tune("a", modification=1e22, original_flops=None, model_ref="b")
    b = fine_tune("b", modification=1e22, original_flops=None, model_ref="a")
    state = cluster(a, b)
    assert verdict(state, "a").classification.role == "Downstream"
    assert verdict(state, "b").classification.role == "Downstream"


# ---- downstream: no provider's duties, the upstream information instead --------------------------
@pytest.mark.parametrize("obligation_id", PROVIDER_DUTIES)
def test_a_downstream_model_owes_none_of_the_providers_duties(obligation_id):
    found = obligation(cluster(fine_tune(modification=1e23)), obligation_id, name=FT)
    assert found.status == "NotApplicable"
    assert (
        "the model is a downstream modification, not a new model (Base-LLM 2.0 by Base Labs" in found.message
    )
    assert "the provider's duties stay with the original's provider" in found.message


def test_downstream_without_upstream_information_is_missing_and_says_what_to_set():
    found = obligation(cluster(fine_tune()), UPSTREAM, name=FT)
    assert found.status == "Missing"
    assert (
        "neither spec.derivedFrom.modelRef nor spec.derivedFrom.documentation points at the information "
        "Base Labs provides for downstream providers of Base-LLM" in found.message
    )
    assert "To fix: set spec.derivedFrom.documentation {url} on GPAIModel ml/acme-ft" in found.message
    assert not verdict(cluster(fine_tune()), FT).compliant


def test_downstream_with_a_link_to_the_upstream_information_is_met():
    found = obligation(cluster(fine_tune(documentation="https://base.example/model-card")), UPSTREAM, name=FT)
    assert found.status == "Met"
    assert "the upstream provider's information is at https://base.example/model-card" in found.message
    assert verdict(cluster(fine_tune(documentation="https://base.example/model-card")), FT).compliant


def test_downstream_of_a_gpaimodel_whose_downstream_information_passes_is_met():
    base = frontier("base")
    found = obligation(cluster(base, fine_tune(model_ref="base")), UPSTREAM, name=FT)
    assert found.status == "Met"
    assert (
        "GPAIModel ml/base (spec.derivedFrom.modelRef) has its transparency/downstream-information Met"
        in (found.message)
    )


def test_downstream_of_an_open_source_exempt_model_is_met_by_the_exemption():
    base = open_weights_model("base")
    found = obligation(cluster(base, fine_tune(modification=1e22, model_ref="base")), UPSTREAM, name=FT)
    assert found.status == "Met"
    assert "transparency/downstream-information Exempt" in found.message


def test_downstream_of_a_gpaimodel_without_downstream_information_is_incomplete():
    base = small_model("base")  # no ModelDocumentation
    found = obligation(cluster(base, fine_tune(model_ref="base")), UPSTREAM, name=FT)
    assert found.status == "Incomplete"
    assert (
        "GPAIModel ml/base (spec.derivedFrom.modelRef) has its transparency/downstream-information Missing"
        in (found.message)
    )


def test_downstream_of_a_gpaimodel_that_does_not_exist_is_missing():
    found = obligation(cluster(fine_tune(model_ref="nowhere")), UPSTREAM, name=FT)
    assert found.status == "Missing"
    assert "GPAIModel ml/nowhere (spec.derivedFrom.modelRef) does not exist" in found.message


def test_downstream_of_a_model_that_is_itself_downstream_gets_no_information_from_it():
    base = frontier("base")
    middle = fine_tune("middle", model_ref="base", original_flops=None, modification=1e22)
    found = obligation(
        cluster(base, middle, fine_tune(model_ref="middle", original_flops=None)), UPSTREAM, name=FT
    )
    assert found.status == "Missing"
    assert "it is itself a modification" in found.message


def test_the_originals_documentation_arriving_changes_the_downstream_verdict():
    base = [o for o in frontier("base") if o["kind"] != "ModelDocumentation"]
    state = cluster(*base, fine_tune(model_ref="base"))
    assert status(state, UPSTREAM, name=FT) == "Incomplete"
    affected = objects.apply(state, documentation("base"))
    assert (NS, FT) in affected, "the derived model is re-evaluated when its original's evidence changes"
    assert status(state, UPSTREAM, name=FT) == "Met"


# ---- a modifier that became the provider -----------------------------------------------------------
def _modifier_with(dependencies: list[str]) -> list:
    ft = patched(fine_tune(modification=2e24), spec__copyrightPolicyRef={"name": "acme-copyright"})
    doc = patched(documentation(FT), spec__general__dependencies=dependencies)
    return [*frontier()[1:3], ft, doc]


def test_a_modifier_provider_owes_the_providers_duties():
    found = verdict(cluster(_modifier_with([])), FT)
    assert found.classification.role == "ModifierProvider"
    statuses = {o.id: o.status for o in found.obligations}
    assert statuses[UPSTREAM] == "NotApplicable"
    assert (
        "the modifier is the provider of the modified model"
        in obligation(cluster(_modifier_with([])), UPSTREAM, name=FT).message
    )
    assert statuses["copyright/policy"] == "Met"


def test_a_modifier_providers_documentation_must_list_the_original():
    found = obligation(
        cluster(_modifier_with(["tokenizer v3"])), "transparency/technical-documentation", name=FT
    )
    assert found.status == "Incomplete"
    assert (
        "ModelDocumentation ml/acme-ft-3.1: general.dependencies does not list the original model "
        "Base-LLM 2.0 by Base Labs that this modification was made from" in found.message
    )
    assert 'To fix: add "Base-LLM 2.0 by Base Labs" to general.dependencies' in found.message
    listed = obligation(
        cluster(_modifier_with(["base-llm 2.0 (Base Labs)"])), "transparency/technical-documentation", name=FT
    )
    assert listed.status == "Met"


def test_a_provider_made_from_scratch_needs_no_dependency():
    assert status(cluster(frontier()), "transparency/technical-documentation") == "Met"


# ---- systemic risk of a modified model: its own cumulative compute ----------------------------------
def test_a_modification_that_takes_the_total_above_the_threshold_has_systemic_risk():
    above = verdict(cluster(fine_tune(modification=3.1e24, original_flops=9e24)), FT).classification
    assert (above.role, above.systemic_risk, above.compute) == ("ModifierProvider", True, 1.21e25)
    # 7e24 + 3e24 is exactly the threshold: not above it (Art. 51(2) is strict)
    at = verdict(cluster(fine_tune(modification=3e24, original_flops=7e24)), FT).classification
    assert (at.role, at.compute, at.systemic_risk) == ("ModifierProvider", 1e25, False)


def test_a_light_fine_tune_of_a_systemic_risk_model_has_its_systemic_risk_and_none_of_its_duties():
    found = verdict(
        cluster(frontier("base"), fine_tune(modification=1e23, original_flops=None, model_ref="base")), FT
    )
    assert found.classification.systemic_risk
    assert found.classification.role == "Downstream"
    statuses = {o.id: o.status for o in found.obligations}
    assert statuses["systemic-risk/evaluation"] == "NotApplicable"
    assert statuses[UPSTREAM] == "Met"
    assert found.compliant
