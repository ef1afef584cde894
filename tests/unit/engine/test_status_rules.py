"""The status rules around every check: time, the legacy grace period, exceptions."""

from __future__ import annotations

import datetime as dt

import pytest

from .builders import (
    cluster,
    exception,
    excluding,
    frontier,
    model,
    obligation,
    on,
    patched,
    policy,
    status,
    verdict,
)

EVALUATION = "systemic-risk/evaluation"


def legacy_model_without_evaluations():
    legacy = patched(model(), spec__euMarketDate="2024-05-01")
    return [*excluding(frontier(), "RiskEvaluation"), legacy]


# ---- time ----------------------------------------------------------------------------------------
def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        verdict(cluster(frontier()), now=dt.datetime(2026, 11, 28, 12))


def test_dates_compare_with_the_utc_day_of_now():
    state = cluster(frontier())  # evaluations valid until 2027-05-31
    late_evening_in_brazil = dt.datetime(2027, 5, 31, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    assert status(state, EVALUATION, now=late_evening_in_brazil) == "Expired"  # 2027-06-01 01:00 UTC
    early_morning_in_berlin = dt.datetime(2027, 6, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert status(state, EVALUATION, now=early_morning_in_berlin) == "Met"  # 2027-05-31 23:00 UTC


# ---- legacy grace --------------------------------------------------------------------------------
def test_legacy_models_are_in_grace_until_the_day_before_the_deadline():
    state = cluster(legacy_model_without_evaluations())
    found = obligation(state, EVALUATION, now=on("2027-08-01", hour=23))
    assert found.status == "Grace"
    assert found.expires == dt.date(2027, 8, 1)
    assert (
        "legacy model (on the EU market since 2024-05-01, before 2025-08-02) must comply by 2027-08-02"
        in (found.message)
    )
    assert "until then it may be Missing" in found.message
    assert "create a RiskEvaluation for model acme version 3.1" in found.message
    assert verdict(state, now=on("2027-08-01")).compliant


def test_from_the_deadline_on_legacy_models_get_the_normal_status():
    state = cluster(legacy_model_without_evaluations())
    assert status(state, EVALUATION, now=on("2027-08-02", hour=0)) == "Missing"
    assert not verdict(state, now=on("2027-08-02")).compliant


def test_grace_replaces_failed_too_but_not_met():
    legacy = patched(model(), spec__euMarketDate="2024-05-01")
    bad = patched(frontier()[3], spec__outcome="Unacceptable")
    state = cluster(frontier(), legacy, bad)
    assert status(state, "systemic-risk/risk-acceptance") == "Grace"
    assert status(state, "systemic-risk/framework") == "Met"


def test_a_model_placed_on_the_cutoff_day_gets_no_grace():
    state = cluster(
        excluding(frontier(), "RiskEvaluation"), patched(model(), spec__euMarketDate="2025-08-02")
    )
    assert status(state, EVALUATION) == "Missing"


def test_a_policy_may_move_the_deadline():
    later = policy("later", parameters={"legacyDeadline": "2028-01-01"})
    state = cluster(legacy_model_without_evaluations(), later)
    assert status(state, EVALUATION, now=on("2027-12-31")) == "Grace"


# ---- exceptions ----------------------------------------------------------------------------------
def excepted(*exceptions, objs=None):
    return cluster(objs or excluding(frontier(), "RiskEvaluation"), policy("eu", exceptions=list(exceptions)))


def test_an_exception_waives_the_failing_obligations_it_lists():
    state = excepted(exception([EVALUATION]))
    found = obligation(state, EVALUATION)
    assert found.status == "Waived"
    assert found.expires == dt.date(2026, 12, 31)
    assert (
        "an exception of policy eu (for any version: pin one) waives it through 2026-12-31" in found.message
    )
    assert "(evaluation scheduled" in found.message
    assert "without it, it would be Missing" in found.message
    assert status(state, "systemic-risk/adversarial-testing") == "Missing"  # not listed


def test_an_exception_without_obligations_waives_every_failing_one():
    state = excepted(exception())
    result = verdict(state)
    assert result.compliant
    assert {o.status for o in result.obligations} == {"Waived", "Met", "NotApplicable"}


def test_an_exception_leaves_passing_statuses_as_they_are():
    state = excepted(exception(), objs=frontier())
    assert {o.status for o in verdict(state).obligations} == {"Met", "NotApplicable"}


def test_an_exception_expiring_today_is_still_active_and_ends_tomorrow():
    state = excepted(exception(expires="2026-11-28"))
    assert status(state, EVALUATION, now=on("2026-11-28", hour=23)) == "Waived"
    assert status(state, EVALUATION, now=on("2026-11-29", hour=0)) == "Missing"


@pytest.mark.parametrize("other", [{"namespace": "prod"}, {"model": "other-model"}])
def test_an_exception_needs_both_namespace_and_model_to_match(other):
    state = excepted(exception(**other))
    assert status(state, EVALUATION) == "Missing"


def test_an_exception_pinned_to_the_models_version_waives_and_says_so():
    state = excepted(exception([EVALUATION], version="3.1"))  # the frontier model's version
    found = obligation(state, EVALUATION)
    assert found.status == "Waived"
    assert "an exception of policy eu for version 3.1 waives it through 2026-12-31" in found.message


def test_an_exception_pinned_to_another_version_does_not_follow_the_name():
    objs = [*excluding(frontier(), "RiskEvaluation")]
    state = excepted(exception([EVALUATION], version="3.0"), objs=objs)
    found = obligation(state, EVALUATION)
    assert found.status == "Missing"
    assert "An exception of policy eu waives version 3.0 only, not version 3.1." in found.message


def test_of_two_pinned_exceptions_the_one_for_this_version_waives():
    state = excepted(
        exception([EVALUATION], version="3.0", expires="2027-06-30"),
        exception([EVALUATION], version="3.1", expires="2026-12-15"),
    )
    found = obligation(state, EVALUATION)
    assert (found.status, found.expires) == ("Waived", dt.date(2026, 12, 15))


def test_an_exception_belongs_to_its_policy():
    state = cluster(
        excluding(frontier(), "RiskEvaluation"),
        policy("lenient", ["Warn"], exceptions=[exception()]),
        policy("strict", ["Deny"]),
    )
    result = verdict(state)
    statuses = {p.policy: {o.id: o.status for o in p.obligations} for p in result.policies}
    assert statuses["lenient"][EVALUATION] == "Waived"
    assert statuses["strict"][EVALUATION] == "Missing"
    assert {o.id: o.status for o in result.obligations}[EVALUATION] == "Missing"


def test_grace_comes_before_an_exception():
    state = excepted(exception(), objs=legacy_model_without_evaluations())
    assert status(state, EVALUATION) == "Grace"


# ---- exempt and not applicable stay what they are ------------------------------------------------
def test_not_applicable_and_exempt_are_not_waived():
    state = excepted(exception(), objs=frontier())
    assert status(state, "governance/authorised-representative") == "NotApplicable"
