"""When the clock alone can change a verdict: next_review, expires and expiring."""

from __future__ import annotations

from .builders import (
    cluster,
    copyright_policy,
    evaluation,
    exception,
    excluding,
    frontier,
    midnight,
    model,
    obligation,
    on,
    patched,
    policy,
    red_team,
    small_model,
    verdict,
    without,
)


def test_next_review_is_the_start_of_the_first_expiry_warning_window():
    # Framework assessed 2026-03-01 counts through 2027-03-01; the 30-day warning starts 2027-01-30.
    assert verdict(cluster(frontier())).next_review == midnight("2027-01-30")


def test_next_review_moves_to_the_expiry_itself_once_warned():
    result = verdict(cluster(frontier()), now=on("2027-02-15"))
    framework = {o.id: o for o in result.obligations}["systemic-risk/framework"]
    assert framework.expiring
    assert "Expiring: it counts only through 2027-03-01." in framework.message
    # Warnings for the report and summary (through 2027-03-03) start 2027-02-01: already past.
    assert result.next_review == midnight("2027-03-02")


def test_next_review_is_the_day_after_an_evaluation_expires():
    only_evals = patched(
        policy("evals", obligations=["systemic-risk/evaluation"]), spec__parameters={"expiryWarningDays": 0}
    )
    result = verdict(cluster(frontier(), only_evals))
    assert result.next_review == midnight("2027-05-31")  # the warning day (0 days) is the last valid day
    result = verdict(cluster(frontier(), only_evals), now=on("2027-05-31"))
    assert result.next_review == midnight("2027-06-01")


def test_a_future_completed_date_is_a_review_point():
    only_evals = policy("evals", obligations=["systemic-risk/evaluation"])
    planned = evaluation("planned", ["HarmfulManipulation"], completed="2026-12-15", valid_until="2027-12-15")
    partial = evaluation("acme-evals", ["Cbrn", "LossOfControl", "CyberOffence"])
    result = verdict(cluster(frontier(), partial, planned, only_evals))
    assert {o.id: o.status for o in result.obligations} == {"systemic-risk/evaluation": "Incomplete"}
    assert result.next_review == midnight("2026-12-15")


def test_copyright_review_date_and_document_age_are_review_points():
    only_copyright = policy("c", obligations=["copyright/policy"], parameters={"expiryWarningDays": 0})
    result = verdict(cluster(frontier(), copyright_policy(review_by="2026-12-05"), only_copyright))
    assert result.next_review == midnight("2026-12-05")
    result = verdict(cluster(frontier(), copyright_policy(review_by="2026-12-05"), only_copyright),
                     now=on("2026-12-05"))  # fmt: skip
    assert result.next_review == midnight("2026-12-06")


def test_the_legacy_deadline_is_a_review_point():
    legacy = patched(model(), spec__euMarketDate="2024-05-01")
    only_evals = policy(
        "evals", obligations=["systemic-risk/evaluation"], parameters={"expiryWarningDays": 0}
    )
    result = verdict(
        cluster(excluding(frontier(), "RiskEvaluation"), legacy, only_evals), now=on("2027-08-01")
    )
    assert result.next_review == midnight("2027-08-02")


def test_an_exception_expiry_is_a_review_point():
    waiving = policy(
        "eu",
        obligations=["systemic-risk/evaluation"],
        exceptions=[exception(expires="2026-12-10")],
        parameters={"expiryWarningDays": 0},
    )
    result = verdict(cluster(excluding(frontier(), "RiskEvaluation"), waiving))
    assert result.obligations[0].status == "Waived"
    assert result.next_review == midnight("2026-12-10")  # warning on its last day, then ...
    result = verdict(cluster(excluding(frontier(), "RiskEvaluation"), waiving), now=on("2026-12-10"))
    assert result.next_review == midnight("2026-12-11")


def test_nothing_dated_means_no_next_review():
    undated = without(small_model(), "spec.trainingContentSummary.updated")
    assert verdict(cluster(undated), name="mini").next_review is None


def test_expires_is_the_last_day_the_evidence_counts():
    state = cluster(frontier(), red_team(valid_until="2027-01-15"))
    found = obligation(state, "systemic-risk/adversarial-testing")
    assert found.expires.isoformat() == "2027-01-15"
    assert not found.expiring  # 48 days ahead, the window is 30
    assert obligation(state, "systemic-risk/adversarial-testing", now=on("2026-12-16")).expiring
    assert not obligation(state, "systemic-risk/adversarial-testing", now=on("2026-12-15")).expiring


def test_failing_verdicts_carry_no_expiry():
    found = obligation(cluster(excluding(frontier(), "RiskEvaluation")), "systemic-risk/evaluation")
    assert (found.expires, found.expiring) == (None, False)


def test_grace_expires_the_day_before_the_deadline_and_warns_ahead():
    legacy = patched(model(), spec__euMarketDate="2024-05-01")
    state = cluster(excluding(frontier(), "RiskEvaluation"), legacy)
    found = obligation(state, "systemic-risk/evaluation", now=on("2027-07-15"))
    assert found.status == "Grace"
    assert found.expires.isoformat() == "2027-08-01"
    assert found.expiring
