"""systemic-risk/notification (Art. 52(1)): only the compute route, within two weeks of meeting the
threshold; and the rebuttal of the compute presumption (Art. 52(2)-(3))."""

from __future__ import annotations

import datetime as dt

import pytest

from .builders import (
    NOW,
    SYSTEMIC_RISK_OBLIGATIONS,
    cluster,
    exception,
    frontier,
    midnight,
    model,
    obligation,
    on,
    patched,
    policy,
    small_model,
    status,
    verdict,
    without,
)

NOTIFICATION = "systemic-risk/notification"
SYSTEMIC = SYSTEMIC_RISK_OBLIGATIONS


def met_threshold(on_day: str, notified: str | None = None, **changes: object) -> dict:
    """The frontier model, threshold met `on_day`, notified on `notified` (None: not yet)."""
    obj = patched(model(), spec__systemicRisk__thresholdMet=on_day, **changes)
    if notified is None:
        return without(obj, "spec.systemicRisk.notified")
    return patched(obj, spec__systemicRisk__notified=notified)


def notification(obj: dict, now: dt.datetime | None = None, *objs: dict):
    return obligation(cluster(frontier(), obj, *objs), NOTIFICATION, now or NOW)


# ---- the two weeks -------------------------------------------------------------------------------
def test_notified_within_two_weeks_is_met():
    found = notification(met_threshold("2026-10-01", notified="2026-10-08"))
    assert found.status == "Met"
    assert (
        "the Commission was notified on 2026-10-08, by the deadline 2026-10-15 "
        "(spec.systemicRisk.thresholdMet 2026-10-01 + 14 days)" in found.message
    )


def test_notified_on_the_fourteenth_day_is_on_time_and_the_day_after_is_late():
    assert notification(met_threshold("2026-10-01", notified="2026-10-15")).status == "Met"
    late = notification(met_threshold("2026-10-01", notified="2026-10-16"))
    assert late.status == "Failed"
    assert (
        "spec.systemicRisk.notified is 2026-10-16, 1 day after the deadline 2026-10-15 "
        "(spec.systemicRisk.thresholdMet 2026-10-01 + 14 days)" in late.message
    )
    assert "record that in a policy exception" in late.message


def test_notified_before_the_threshold_was_met_is_met():
    # "or it becomes known that it will be met": notifying ahead is on time.
    assert notification(met_threshold("2026-10-01", notified="2026-09-20")).status == "Met"


def test_without_a_threshold_date_a_notification_date_is_enough():
    assert notification(model()).status == "Met"  # notified 2025-07-20, thresholdMet not recorded


def test_neither_date_is_missing():
    found = notification(without(model(), "spec.systemicRisk.notified"))
    assert found.status == "Missing"
    assert "nor spec.systemicRisk.thresholdMet" in found.message


def test_not_yet_notified_is_grace_through_the_fourteenth_day():
    pending = met_threshold("2026-11-20")  # deadline 2026-12-04
    first_day = notification(pending, on("2026-11-20"))
    assert first_day.status == "Grace"
    last_day = notification(pending, on("2026-12-04", hour=23))
    assert last_day.status == "Grace"
    assert last_day.expires == dt.date(2026, 12, 4)
    assert (
        "not due yet: it must be met by 2026-12-04; until then it may be Missing: "
        "spec.systemicRisk.notified is not set; the notification is due by 2026-12-04" in last_day.message
    )
    after = notification(pending, on("2026-12-05", hour=0))
    assert after.status == "Missing"
    assert "the notification was due by 2026-12-04" in after.message


def test_the_grace_window_expires_at_the_deadline_so_it_warns_and_sets_the_next_review():
    found = notification(met_threshold("2026-11-20"), on("2026-11-28"))
    assert found.expiring  # 14 days are inside the 30-day warning window from the first day
    assert "Expiring: it counts only through 2026-12-04." in found.message
    result = verdict(cluster(frontier(), met_threshold("2026-11-20")))
    assert result.compliant
    assert result.next_review == midnight("2026-12-05")


def test_the_warning_starts_with_the_policys_window():
    short_warning = policy("eu", parameters={"expiryWarningDays": 3})
    pending = met_threshold("2026-11-20")
    assert not notification(pending, on("2026-11-30"), short_warning).expiring
    assert notification(pending, on("2026-12-01"), short_warning).expiring
    result = verdict(cluster(frontier(), pending, short_warning))
    assert result.next_review == midnight("2026-12-01")


def test_a_late_notification_can_be_waived():
    waiving = policy("eu", exceptions=[exception([NOTIFICATION], reason="accepted by the AI Office")])
    found = notification(met_threshold("2026-10-01", notified="2026-10-30"), None, waiving)
    assert found.status == "Waived"
    assert "without it, it would be Failed" in found.message


def test_a_legacy_model_notified_late_is_in_grace_until_the_legacy_deadline():
    legacy_late = met_threshold("2025-03-01", notified="2025-04-01", spec__euMarketDate="2025-05-01")
    found = notification(legacy_late)
    assert found.status == "Grace"
    assert found.expires == dt.date(2027, 8, 1)
    assert "until then it may be Failed" in found.message
    assert notification(legacy_late, on("2027-08-02")).status == "Failed"


def test_a_legacy_model_inside_its_two_weeks_keeps_the_longer_grace():
    legacy_pending = met_threshold("2027-07-25", spec__euMarketDate="2025-05-01")  # due 2027-08-08
    found = notification(legacy_pending, on("2027-07-30"))
    assert (found.status, found.expires) == ("Grace", dt.date(2027, 8, 8))
    assert notification(legacy_pending, on("2027-08-05")).status == "Grace"
    assert notification(legacy_pending, on("2027-08-09")).status == "Missing"


# ---- only the compute route ----------------------------------------------------------------------
def test_a_model_designated_only_owes_no_notification_and_the_message_says_so():
    designated = patched(small_model(), spec__systemicRisk={"designated": True})
    found = obligation(cluster(designated), NOTIFICATION, name="mini")
    assert found.status == "NotApplicable"
    assert "systemic risk by Commission designation only" in found.message
    assert "its training compute is not above the threshold" in found.message
    assert status(cluster(designated), "systemic-risk/framework", name="mini") == "Missing"


def test_a_model_both_designated_and_above_the_threshold_owes_the_notification():
    both = met_threshold("2026-10-01", spec__systemicRisk__designated=True)
    assert notification(both).status == "Missing"


def test_exactly_the_threshold_owes_nothing():
    at_threshold = model(flops=1e25)
    found = obligation(cluster(at_threshold), NOTIFICATION)
    assert found.status == "NotApplicable"
    assert "no systemic risk" in found.message


# ---- rebuttal (Art. 52(2)-(3)) -------------------------------------------------------------------
def rebutting(outcome: str, designated: bool = False) -> dict:
    return patched(
        model(),
        spec__systemicRisk__rebuttal={"submitted": "2025-07-25", "outcome": outcome},
        spec__systemicRisk__designated=designated,
    )


@pytest.mark.parametrize("outcome", ["Pending", "Rejected"])
def test_a_pending_or_rejected_rebuttal_changes_nothing(outcome):
    result = verdict(cluster(frontier(), rebutting(outcome)))
    assert result.classification.systemic_risk
    assert result.compliant
    assert {o.id: o.status for o in result.obligations}[NOTIFICATION] == "Met"


@pytest.mark.parametrize("obligation_id", SYSTEMIC)
def test_an_accepted_rebuttal_removes_every_systemic_risk_duty(obligation_id):
    found = obligation(cluster(rebutting("Accepted")), obligation_id)
    assert found.status == "NotApplicable"
    assert "the Commission accepted the provider's rebuttal" in found.message


def test_an_accepted_rebuttal_can_restore_the_open_source_exemption():
    open_big = patched(
        rebutting("Accepted"),
        spec__license={"name": "Apache-2.0", "openSource": True, "weightsPublic": True, "monetised": False},
    )
    classification = verdict(cluster(open_big)).classification
    assert (classification.systemic_risk, classification.open_source_exempt) == (False, True)


@pytest.mark.parametrize("outcome", ["Pending", "Accepted", "Rejected"])
def test_a_rebuttal_does_not_undo_a_designation(outcome):
    state = cluster(frontier(), rebutting(outcome, designated=True))
    assert verdict(state).classification.systemic_risk
    assert status(state, "systemic-risk/evaluation") == "Met"
    expected = "NotApplicable" if outcome == "Accepted" else "Met"  # designated only, once accepted
    found = obligation(state, NOTIFICATION)
    assert found.status == expected
    if outcome == "Accepted":
        assert "designation only (the Commission accepted the rebuttal" in found.message


def test_a_rebuttal_below_the_threshold_changes_nothing():
    small = patched(small_model(), spec__systemicRisk={"rebuttal": {"outcome": "Rejected"}})
    assert not verdict(cluster(small), name="mini").classification.systemic_risk
