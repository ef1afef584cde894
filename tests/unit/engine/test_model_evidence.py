"""Obligations met by what the GPAIModel carries itself: representative, notification, framework,
model report, incident reporting, cybersecurity."""

from __future__ import annotations

import pytest

from .builders import (
    SYSTEMIC_RISK_OBLIGATIONS,
    cluster,
    frontier,
    model,
    obligation,
    on,
    open_weights_model,
    patched,
    policy,
    small_model,
    status,
    without,
)

REPRESENTATIVE = "governance/authorised-representative"
SYSTEMIC = SYSTEMIC_RISK_OBLIGATIONS
INCIDENT_TIMELINESS = "systemic-risk/incident-timeliness"


def without_evidence(obligation_id: str) -> str:
    """A systemic-risk duty's status before any evidence: Missing, but no incident is no late report."""
    return "Met" if obligation_id == INCIDENT_TIMELINESS else "Missing"


def non_eu(obj):
    return patched(obj, spec__provider__establishedInEU=False)


def test_a_non_eu_provider_needs_an_authorised_representative():
    found = obligation(cluster(frontier(), non_eu(model())), REPRESENTATIVE)
    assert found.status == "Missing"
    assert "spec.provider.authorisedRepresentative is not set" in found.message
    assert "Art. 54" in found.message
    assert "set spec.provider.authorisedRepresentative {name, contact} on GPAIModel ml/acme" in found.message


def test_a_representative_without_contact_is_incomplete():
    named = patched(non_eu(model()), spec__provider__authorisedRepresentative={"name": "Acme EU B.V."})
    found = obligation(cluster(frontier(), named), REPRESENTATIVE)
    assert found.status == "Incomplete"
    assert "spec.provider.authorisedRepresentative.contact" in found.message


def test_a_named_and_reachable_representative_is_met():
    rep = {"name": "Acme EU B.V.", "contact": "eu-rep@acme.example"}
    full = patched(non_eu(model()), spec__provider__authorisedRepresentative=rep)
    assert status(cluster(frontier(), full), REPRESENTATIVE) == "Met"


def test_representative_does_not_apply_to_eu_providers_and_not_to_open_source_models():
    assert status(cluster(frontier()), REPRESENTATIVE) == "NotApplicable"
    assert status(cluster(non_eu(open_weights_model())), REPRESENTATIVE, name="openmodel") == "Exempt"


@pytest.mark.parametrize("obligation_id", SYSTEMIC)
def test_systemic_risk_duties_do_not_apply_below_the_threshold(obligation_id):
    found = obligation(cluster(small_model()), obligation_id, name="mini")
    assert found.status == "NotApplicable"
    assert "no systemic risk" in found.message


@pytest.mark.parametrize("obligation_id", SYSTEMIC)
def test_systemic_risk_duties_apply_to_open_source_models_above_the_threshold(obligation_id):
    big_open = patched(open_weights_model(), spec__trainingCompute={"flops": 2e25})
    assert status(cluster(big_open), obligation_id, name="openmodel") == without_evidence(obligation_id)


@pytest.mark.parametrize(
    ("obligation_id", "path"),
    [
        ("systemic-risk/notification", "spec.systemicRisk.notified"),
        ("systemic-risk/framework", "spec.systemicRisk.framework"),
        ("systemic-risk/model-report", "spec.systemicRisk.modelReport"),
        ("systemic-risk/incident-reporting", "spec.systemicRisk.incidentReporting"),
        ("systemic-risk/cybersecurity", "spec.systemicRisk.cybersecurity"),
    ],
)
def test_systemic_risk_evidence_on_the_model_missing_is_named(obligation_id, path):
    found = obligation(cluster(frontier(), without(model(), path)), obligation_id)
    assert found.status == "Missing"
    assert f"{path} is not set" in found.message
    assert f"set {path}" in found.message


def test_incident_reporting_needs_contact_and_procedure():
    found = obligation(
        cluster(frontier(), without(model(), "spec.systemicRisk.incidentReporting.procedure")),
        "systemic-risk/incident-reporting",
    )
    assert found.status == "Incomplete"
    assert "spec.systemicRisk.incidentReporting.procedure" in found.message


def test_framework_is_current_for_a_year_after_its_assessment():
    state = cluster(frontier())  # assessed 2026-03-01, 365 days
    assert status(state, "systemic-risk/framework", now=on("2027-03-01")) == "Met"
    expired = obligation(state, "systemic-risk/framework", now=on("2027-03-02"))
    assert expired.status == "Expired"
    assert "assessed is 2026-03-01, older than 365 days: expired since 2027-03-02" in expired.message


def test_framework_without_assessment_date_is_incomplete():
    undated = without(model(), "spec.systemicRisk.framework.assessed")
    found = obligation(cluster(frontier(), undated), "systemic-risk/framework")
    assert found.status == "Incomplete"
    assert "spec.systemicRisk.framework.assessed" in found.message


def test_model_report_is_current_for_six_months_and_a_policy_may_change_that():
    state = cluster(frontier())  # updated 2026-09-01, 183 days: through 2027-03-03
    assert status(state, "systemic-risk/model-report", now=on("2027-03-03")) == "Met"
    assert status(state, "systemic-risk/model-report", now=on("2027-03-04")) == "Expired"
    bimonthly = policy("bimonthly", parameters={"modelReportMaxAgeDays": 60})  # through 2026-10-31
    assert status(cluster(frontier(), bimonthly), "systemic-risk/model-report") == "Expired"


@pytest.mark.parametrize("obligation_id", [o for o in SYSTEMIC if o != "systemic-risk/notification"])
def test_a_designated_model_has_the_systemic_risk_duties_whatever_its_compute(obligation_id):
    designated = patched(small_model(), spec__systemicRisk={"designated": True})
    assert status(cluster(designated), obligation_id, name="mini") == without_evidence(obligation_id)
