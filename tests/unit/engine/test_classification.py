"""Classification: systemic risk, open-source exemption, EU provider, legacy (OBLIGATIONS.md)."""

from __future__ import annotations

import pytest

from .builders import cluster, frontier, model, open_weights_model, patched, policy, verdict


def classification(*objs, name="acme"):
    return verdict(cluster(*objs), name=name).classification


@pytest.mark.parametrize(
    ("flops", "systemic"),
    [(1e25, False), (1.0000000001e25, True), (9.99e24, False), (3.8e25, True), (1e23, False)],
)
def test_systemic_risk_from_training_compute_strictly_above_the_threshold(flops, systemic):
    # Art. 51(2): "greater than 10^(25)": exactly 1e25 FLOP is not presumed to have systemic risk.
    assert classification(model(flops=flops)).systemic_risk is systemic


def test_a_policy_threshold_is_strict_too():
    at_the_threshold = policy("lower", parameters={"systemicRiskFlops": 2e24})
    assert not classification(model(flops=2e24), at_the_threshold).systemic_risk
    assert classification(model(flops=2.1e24), at_the_threshold).systemic_risk


def test_a_model_without_compute_figures_has_no_systemic_risk_unless_designated():
    plain = patched(model(), spec__trainingCompute={})
    assert not classification(plain).systemic_risk
    designated = patched(model(flops=1e20), spec__systemicRisk__designated=True)
    assert classification(designated).systemic_risk


def test_a_policy_may_lower_the_threshold():
    stricter = policy("stricter", parameters={"systemicRiskFlops": 1e24})
    assert classification(model(flops=2e24), stricter).systemic_risk


def test_open_source_exemption_needs_a_free_licence_public_weights_and_no_monetisation():
    assert classification(open_weights_model("acme")).open_source_exempt
    for change in ({"monetised": True}, {"weightsPublic": False}, {"openSource": False}):
        licence = {"name": "Apache-2.0", "openSource": True, "weightsPublic": True, "monetised": False}
        changed = patched(open_weights_model("acme"), spec__license={**licence, **change})
        assert not classification(changed).open_source_exempt, change


def test_systemic_risk_removes_the_open_source_exemption():
    big_open = patched(open_weights_model("acme"), spec__trainingCompute={"flops": 2e25})
    result = classification(big_open)
    assert result.systemic_risk
    assert not result.open_source_exempt


def test_eu_provider_comes_from_the_provider():
    assert classification(model()).eu_provider
    assert not classification(patched(model(), spec__provider__establishedInEU=False)).eu_provider


@pytest.mark.parametrize(
    ("market_date", "legacy"),
    [("2025-08-01", True), ("2025-08-02", False), ("2024-01-15", True), ("2026-01-01", False)],
)
def test_legacy_means_on_the_eu_market_before_the_cutoff_day(market_date, legacy):
    assert classification(patched(model(), spec__euMarketDate=market_date)).legacy is legacy


def test_a_model_without_an_eu_market_date_is_not_legacy():
    plain = model()
    del plain["spec"]["euMarketDate"]
    assert not classification(plain).legacy


def test_a_policy_may_move_the_legacy_cutoff():
    earlier = policy("earlier", parameters={"legacyCutoff": "2025-01-01"})
    assert not classification(patched(model(), spec__euMarketDate="2025-03-01"), earlier).legacy


def test_across_policies_systemic_if_any_finds_it_exempt_and_legacy_only_if_all_do():
    objs = [
        *frontier(),
        patched(
            open_weights_model("acme"), spec__trainingCompute={"flops": 5e24}, spec__euMarketDate="2025-06-01"
        ),
        policy("law"),
        policy("strict", parameters={"systemicRiskFlops": 1e24, "legacyCutoff": "2025-01-01"}),
    ]
    result = classification(*objs)
    assert result.systemic_risk  # only "strict" finds it
    assert not result.open_source_exempt  # "law" exempts, "strict" does not
    assert not result.legacy  # "law" finds it legacy, "strict" does not
    per_policy = {p.policy: p.classification for p in verdict(cluster(*objs)).policies}
    assert per_policy["law"].open_source_exempt
    assert per_policy["law"].legacy
    assert per_policy["strict"].systemic_risk
