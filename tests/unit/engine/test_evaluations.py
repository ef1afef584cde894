"""systemic-risk/evaluation, /adversarial-testing and /risk-acceptance: the RiskEvaluation rules."""

from __future__ import annotations

from gpai_operator.engine.verdicts import ObjectRef

from .builders import (
    cluster,
    evaluation,
    excluding,
    frontier,
    model,
    obligation,
    on,
    patched,
    red_team,
    status,
)

EVALUATION = "systemic-risk/evaluation"
ADVERSARIAL = "systemic-risk/adversarial-testing"
ACCEPTANCE = "systemic-risk/risk-acceptance"


def without_evaluations():
    return excluding(frontier(), "RiskEvaluation")


def test_no_evaluation_of_the_current_version_is_missing_with_what_to_create():
    found = obligation(cluster(without_evaluations()), EVALUATION)
    assert found.status == "Missing"
    assert (
        "create a RiskEvaluation for model acme version 3.1 covering Cbrn, LossOfControl, " in found.message
    )
    assert "Art. 55(1)(a)" in found.message


def test_evaluations_of_another_version_leave_the_current_one_missing():
    old = evaluation("acme-3.0-evals", version="3.0")
    state = cluster(without_evaluations(), old, red_team(version="3.0"))
    found = obligation(state, EVALUATION)
    assert found.status == "Missing"
    assert "only for version 3.0" in found.message
    assert status(state, ADVERSARIAL) == "Missing"
    assert status(state, ACCEPTANCE) == "Missing"


def test_a_new_model_version_needs_new_evaluations():
    assert status(cluster(frontier(), patched(model(), spec__version="3.2")), EVALUATION) == "Missing"


def test_evaluations_together_cover_the_four_specified_risks():
    state = cluster(
        without_evaluations(),
        evaluation("cbrn", ["Cbrn", "LossOfControl"], valid_until="2027-02-28"),
        evaluation("cyber", ["CyberOffence"]),
        red_team(risks=["HarmfulManipulation"], valid_until="2027-04-30"),
    )
    found = obligation(state, EVALUATION)
    assert found.status == "Met"
    assert found.expires.isoformat() == "2027-02-28"  # coverage of Cbrn ends first


def test_an_evaluation_is_valid_on_its_valid_until_day_and_expired_the_day_after():
    state = cluster(frontier())  # validUntil 2027-05-31
    assert status(state, EVALUATION, now=on("2027-05-31", hour=23)) == "Met"
    found = obligation(state, EVALUATION, now=on("2027-06-01", hour=0))
    assert found.status == "Expired"
    assert "was valid until 2027-05-31, expired since 2027-06-01" in found.message
    assert status(state, ADVERSARIAL, now=on("2027-06-01")) == "Expired"
    assert status(state, ACCEPTANCE, now=on("2027-06-01")) == "Missing"


def test_an_evaluation_counts_from_its_completed_day():
    pending = evaluation("acme-evals", completed="2026-12-01", valid_until="2027-12-01")
    state = cluster(frontier(), pending)
    found = obligation(state, EVALUATION, now=on("2026-11-30"))
    assert found.status == "Incomplete"
    assert "RiskEvaluation ml/acme-evals counts only from 2026-12-01" in found.message
    assert status(state, EVALUATION, now=on("2026-12-01", hour=0)) == "Met"


def test_an_uncovered_risk_is_incomplete_and_named():
    state = cluster(without_evaluations(), evaluation("partial", ["Cbrn", "LossOfControl"]), red_team())
    found = obligation(state, EVALUATION)
    assert found.status == "Incomplete"
    assert "no valid RiskEvaluation covers HarmfulManipulation" in found.message
    assert "create a RiskEvaluation for model acme version 3.1 covering HarmfulManipulation" in found.message


def test_a_risk_only_an_expired_evaluation_covered_is_expired():
    state = cluster(
        without_evaluations(),
        evaluation("current", ["Cbrn", "LossOfControl", "HarmfulManipulation"]),
        evaluation("old-cyber", ["CyberOffence"], completed="2025-06-01", valid_until="2026-06-01"),
        red_team(risks=["Cbrn"]),
    )
    found = obligation(state, EVALUATION)
    assert found.status == "Expired"
    assert "CyberOffence is no longer covered (RiskEvaluation ml/old-cyber was valid until 2026-06-01" in (
        found.message
    )
    assert found.subject == ObjectRef("RiskEvaluation", "ml", "old-cyber")  # what SARIF points at
    assert "covering CyberOffence" in found.message


def test_expired_and_never_covered_together_show_expired_and_name_both():
    state = cluster(
        without_evaluations(),
        evaluation("current", ["Cbrn", "LossOfControl"]),
        evaluation("old-cyber", ["CyberOffence"], completed="2025-06-01", valid_until="2026-06-01"),
    )
    found = obligation(state, EVALUATION)
    assert found.status == "Expired"
    assert "no valid RiskEvaluation covers HarmfulManipulation" in found.message


def test_one_valid_red_team_run_suffices_for_adversarial_testing():
    state = cluster(without_evaluations(), evaluation("evals"), red_team(risks=["Other"]))
    found = obligation(state, ADVERSARIAL)
    assert found.status == "Met"
    assert found.expires.isoformat() == "2027-05-31"


def test_evaluations_that_are_not_red_team_runs_do_not_count_as_adversarial_testing():
    found = obligation(cluster(without_evaluations(), evaluation("evals")), ADVERSARIAL)
    assert found.status == "Missing"
    assert "create a RiskEvaluation of type AdversarialTesting for model acme version 3.1" in found.message


def test_an_expired_red_team_run_is_expired():
    old = red_team(completed="2025-01-01", valid_until="2025-12-31")
    found = obligation(cluster(without_evaluations(), evaluation("evals"), old), ADVERSARIAL)
    assert found.status == "Expired"
    assert "expired since 2026-01-01" in found.message


def test_a_red_team_run_not_yet_completed_is_missing():
    planned = red_team(completed="2027-01-15", valid_until="2028-01-15")
    found = obligation(cluster(without_evaluations(), evaluation("evals"), planned), ADVERSARIAL)
    assert found.status == "Missing"
    assert "counts only from 2027-01-15" in found.message


def test_a_valid_unacceptable_outcome_fails_risk_acceptance():
    bad = evaluation("cbrn-uplift", ["Cbrn"], outcome="Unacceptable")
    found = obligation(cluster(frontier(), bad), ACCEPTANCE)
    assert found.status == "Failed"
    assert (
        "RiskEvaluation ml/cbrn-uplift (Cbrn, completed 2026-06-01) records outcome Unacceptable"
        in found.message
    )
    assert "CoP S&S Commitment 4" in found.message
    assert status(cluster(frontier(), bad), EVALUATION) == "Met"  # coverage counts outcomes alike


def test_an_expired_unacceptable_outcome_no_longer_fails():
    old_bad = evaluation(
        "old", ["Cbrn"], outcome="Unacceptable", completed="2025-01-01", valid_until="2025-12-31"
    )
    assert status(cluster(frontier(), old_bad), ACCEPTANCE) == "Met"


def test_risk_acceptance_without_a_valid_evaluation_is_missing():
    found = obligation(cluster(without_evaluations()), ACCEPTANCE)
    assert found.status == "Missing"
    assert "with outcome Acceptable" in found.message
