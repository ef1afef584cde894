"""copyright/policy and copyright/training-content-summary (Art. 53(1)(c)-(d)): every GPAI model."""

from __future__ import annotations

import pytest

from .builders import (
    cluster,
    copyright_policy,
    excluding,
    frontier,
    obligation,
    on,
    open_weights_model,
    patched,
    status,
    without,
)

POLICY = "copyright/policy"
SUMMARY = "copyright/training-content-summary"


def test_a_complete_referenced_policy_is_met_until_its_review_date():
    found = obligation(cluster(frontier()), POLICY)
    assert found.status == "Met"
    assert found.expires.isoformat() == "2027-06-30"


def test_a_model_that_names_no_policy_is_missing_one():
    model_without_ref = without(frontier()[0], "spec.copyrightPolicyRef")
    found = obligation(cluster(frontier(), model_without_ref), POLICY)
    assert found.status == "Missing"
    assert "spec.copyrightPolicyRef names no CopyrightPolicy" in found.message
    assert "create a CopyrightPolicy in namespace ml" in found.message


def test_a_reference_to_a_policy_that_does_not_exist_is_missing():
    found = obligation(cluster(excluding(frontier(), "CopyrightPolicy")), POLICY)
    assert found.status == "Missing"
    assert "CopyrightPolicy ml/acme-copyright (spec.copyrightPolicyRef) does not exist" in found.message
    assert "create CopyrightPolicy ml/acme-copyright" in found.message


def test_a_policy_in_another_namespace_does_not_count():
    elsewhere = copyright_policy(namespace="other")
    assert status(cluster(excluding(frontier(), "CopyrightPolicy"), elsewhere), POLICY) == "Missing"


@pytest.mark.parametrize(
    "field",
    [
        "crawling.respectsRobotsTxt",
        "crawling.respectsPaywalls",
        "crawling.excludesInfringingSites",
        "outputSafeguards.termsProhibitInfringement",
    ],
)
def test_a_duty_recorded_as_false_fails_and_absent_is_incomplete(field):
    section, name = field.split(".")
    off = patched(copyright_policy(), **{f"spec__{section}__{name}": False})
    found = obligation(cluster(frontier(), off), POLICY)
    assert found.status == "Failed"
    assert f"{field} set to false where the duty needs true" in found.message
    absent = without(copyright_policy(), f"spec.{field}")
    found = obligation(cluster(frontier(), absent), POLICY)
    assert found.status == "Incomplete"
    assert f"missing {field}" in found.message


def test_opt_out_protocols_and_a_complaint_contact_are_required():
    lacking = without(copyright_policy(), "spec.crawling.optOutProtocols", "spec.complaints")
    found = obligation(cluster(frontier(), lacking), POLICY)
    assert found.status == "Incomplete"
    assert "missing crawling.optOutProtocols, complaints.contact" in found.message


def test_review_date_is_the_last_day_the_policy_counts():
    state = cluster(frontier())
    assert status(state, POLICY, now=on("2027-06-30", hour=23)) == "Met"
    found = obligation(state, POLICY, now=on("2027-07-01", hour=0))
    assert found.status == "Expired"
    assert "past its reviewBy 2027-06-30: expired since 2027-07-01" in found.message
    assert "move reviewBy forward" in found.message


def test_failed_outranks_expired_in_one_policy_and_the_message_names_both():
    off_and_old = patched(copyright_policy(review_by="2026-01-01"), spec__crawling__respectsRobotsTxt=False)
    found = obligation(cluster(frontier(), off_and_old), POLICY)
    assert found.status == "Failed"
    assert "respectsRobotsTxt set to false" in found.message
    assert "expired since 2026-01-02" in found.message


def test_a_policy_without_review_date_does_not_expire():
    found = obligation(cluster(frontier(), without(copyright_policy(), "spec.reviewBy")), POLICY)
    assert found.status == "Met"
    assert found.expires is None


def test_open_source_models_need_a_copyright_policy_too():
    state = cluster(open_weights_model())
    assert status(state, POLICY, name="openmodel") == "Missing"
    assert status(state, SUMMARY, name="openmodel") == "Met"


def test_training_content_summary_is_current_for_183_days_after_its_update():
    state = cluster(frontier())  # updated 2026-09-01
    found = obligation(state, SUMMARY, now=on("2027-03-03"))
    assert found.status == "Met"
    assert found.expires.isoformat() == "2027-03-03"
    expired = obligation(state, SUMMARY, now=on("2027-03-04"))
    assert expired.status == "Expired"
    assert "spec.trainingContentSummary.updated is 2026-09-01, older than 183 days" in expired.message
    assert "expired since 2027-03-04" in expired.message


def test_training_content_summary_missing_or_undated():
    missing = obligation(cluster(frontier(), without(frontier()[0], "spec.trainingContentSummary")), SUMMARY)
    assert missing.status == "Missing"
    assert "spec.trainingContentSummary is not set" in missing.message
    assert "Art. 53(1)(d)" in missing.message
    undated = obligation(
        cluster(frontier(), without(frontier()[0], "spec.trainingContentSummary.updated")), SUMMARY
    )
    assert undated.status == "Incomplete"
    assert "spec.trainingContentSummary.updated" in undated.message
