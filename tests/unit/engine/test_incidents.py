"""systemic-risk/incident-timeliness (Art. 55(1)(c); CoP S&S Measure 9.3): each serious incident's
reports by their deadlines: 2, 5, 10 or 15 days by category, every 28 days while unresolved, the
final report 60 days after resolution."""

from __future__ import annotations

import datetime as dt

import pytest

from gpai_operator.engine.incidents import INITIAL_REPORT_DAYS

from .builders import (
    cluster,
    day,
    frontier,
    incident,
    midnight,
    obligation,
    on,
    small_model,
    verdict,
)

TIMELINESS = "systemic-risk/incident-timeliness"


def timeliness(*incidents, now: dt.datetime):
    return obligation(cluster(frontier(), *incidents), TIMELINESS, now=now)


def test_no_incident_is_met():
    found = obligation(cluster(frontier()), TIMELINESS)
    assert found.status == "Met"
    assert "no SeriousIncident is recorded for this model" in found.message
    assert found.expires is None


@pytest.mark.parametrize(
    ("category", "days"), [("CriticalInfrastructure", 2), ("Cybersecurity", 5), ("Death", 10), ("Other", 15)]
)
def test_the_initial_report_is_due_on_its_categorys_day_and_late_the_day_after(category, days):
    assert INITIAL_REPORT_DAYS[category] == days
    aware = day("2026-11-10")
    due = aware + dt.timedelta(days=days)
    unreported = incident(category=category, aware="2026-11-10")

    on_the_day = timeliness(unreported, now=on(due.isoformat(), hour=23))
    assert (on_the_day.status, on_the_day.expires) == ("Met", due)
    assert f"initial report due by {due}" in on_the_day.message

    after = timeliness(unreported, now=midnight((due + dt.timedelta(days=1)).isoformat()))
    assert after.status == "Failed"
    assert f"initial report due by {due} (aware 2026-11-10 + {days} days) not made" in after.message

    on_time = incident(category=category, aware="2026-11-10", initialReport=due.isoformat())
    # on time; the next (intermediate) report is due 28 days later
    kept = timeliness(on_time, now=on((due + dt.timedelta(days=5)).isoformat()))
    assert (kept.status, kept.expires) == ("Met", due + dt.timedelta(days=28))
    late = incident(
        category=category, aware="2026-11-10", initialReport=(due + dt.timedelta(days=1)).isoformat()
    )
    found = timeliness(late, now=midnight("2026-12-01"))
    assert found.status == "Failed"
    assert f"made on {due + dt.timedelta(days=1)}, 1 day late" in found.message


def test_while_unresolved_an_intermediate_report_is_due_28_days_after_the_last():
    reported = incident(aware="2026-10-01", initialReport="2026-10-04", intermediateReports=["2026-11-01"])
    # 2026-11-01 was on time (2026-10-04 + 28 = 2026-11-01); the next is due 2026-11-29
    found = timeliness(reported, now=on("2026-11-29"))
    assert (found.status, found.expires) == ("Met", day("2026-11-29"))
    assert "intermediate report due by 2026-11-29" in found.message
    overdue = timeliness(reported, now=midnight("2026-11-30"))
    assert overdue.status == "Failed"
    assert (
        "intermediate report due by 2026-11-29 (last report 2026-11-01 + 28 days) not made" in overdue.message
    )


def test_the_cadence_counts_from_the_last_report_made_even_early():
    early = incident(aware="2026-10-01", initialReport="2026-10-02", intermediateReports=["2026-10-10"])
    found = timeliness(early, now=on("2026-11-07"))
    assert (found.status, found.expires) == ("Met", day("2026-11-07"))  # 2026-10-10 + 28


def test_a_late_intermediate_report_stays_failed():
    late = incident(aware="2026-10-01", initialReport="2026-10-04", intermediateReports=["2026-11-02"])
    found = timeliness(late, now=on("2026-11-10"))
    assert found.status == "Failed"
    assert (
        "intermediate report due by 2026-11-01 (last report 2026-10-04 + 28 days) made on 2026-11-02, "
        "1 day late" in found.message
    )
    assert (
        "a late report stays Failed: if the AI Office accepted it, record a policy exception" in found.message
    )


def test_the_final_report_is_due_60_days_after_resolution():
    resolved = incident(aware="2026-09-01", initialReport="2026-09-03", resolved="2026-09-20")
    # resolved before the first intermediate deadline (2026-10-01): only the final report is owed
    found = timeliness(resolved, now=on("2026-11-19"))
    assert (found.status, found.expires) == ("Met", day("2026-11-19"))
    assert "final report due by 2026-11-19" in found.message
    assert timeliness(resolved, now=midnight("2026-11-20")).status == "Failed"
    closed = incident(
        aware="2026-09-01", initialReport="2026-09-03", resolved="2026-09-20", finalReport="2026-11-19"
    )
    done = timeliness(closed, now=on("2027-03-01"))
    assert (done.status, done.expires) == ("Met", None)
    assert "closed, every report on time: ml/acme-incident" in done.message


def test_an_intermediate_report_is_owed_only_for_deadlines_before_resolution():
    resolved_on_the_day = incident(aware="2026-09-01", initialReport="2026-09-03", resolved="2026-10-01")
    assert timeliness(resolved_on_the_day, now=on("2026-10-15")).status == "Met"
    resolved_later = incident(aware="2026-09-01", initialReport="2026-09-03", resolved="2026-10-02")
    found = timeliness(resolved_later, now=on("2026-10-15"))
    assert found.status == "Failed"
    assert "intermediate report due by 2026-10-01" in found.message


def test_the_earliest_pending_deadline_of_every_incident_is_when_the_verdict_expires():
    first = incident("first", aware="2026-11-20")  # initial due 2026-11-25
    second = incident("second", category="Other", aware="2026-11-20")  # due 2026-12-05
    state = cluster(frontier(), first, second)
    found = obligation(state, TIMELINESS, now=on("2026-11-22"))
    assert (found.status, found.expires, found.expiring) == ("Met", day("2026-11-25"), True)
    model = verdict(state, now=on("2026-11-22"))
    assert model.next_review == midnight("2026-11-26")
    assert [(i.name, i.next_report, i.next_deadline) for i in model.incidents] == [
        ("first", "Initial", day("2026-11-25")),
        ("second", "Initial", day("2026-12-05")),
    ]


def test_an_incident_of_an_earlier_version_still_counts():
    old = incident(aware="2026-11-01")
    old["spec"]["modelVersion"] = "3.0"
    assert timeliness(old, now=on("2026-11-28")).status == "Failed"


def test_incidents_of_a_model_without_systemic_risk_do_not_count_for_compliance():
    state = cluster(small_model("mini"), incident(model_name="mini", aware="2026-11-01"))
    found = obligation(state, TIMELINESS, name="mini")
    assert found.status == "NotApplicable"
    # the incident's deadlines are still tracked (status, metrics)
    [tracked] = verdict(state, "mini").incidents
    assert (tracked.overdue, tracked.timely) == (True, False)


def test_the_incident_verdict_says_what_is_owed_next():
    state = cluster(
        frontier(), incident(aware="2026-11-20", initialReport="2026-11-22", resolved="2026-11-27")
    )
    [found] = verdict(state).incidents
    assert (found.next_report, found.next_deadline, found.resolved, found.closed) == (
        "Final",
        day("2027-01-26"),
        True,
        False,
    )
    assert found.timely
    assert not found.overdue
