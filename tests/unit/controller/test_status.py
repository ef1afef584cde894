"""GPAIModel status from a verdict: conditions, their transition times, and the patch."""

from __future__ import annotations

import datetime as dt

from gpai_operator.controller.status import (
    compliant_status,
    invalid_status,
    model_status,
    rfc3339,
    status_patch,
)
from tests.unit.engine import builders as b

LATER = b.NOW + dt.timedelta(days=1)


def _conditions(status: dict) -> dict[str, dict]:
    return {c["type"]: c for c in status["conditions"]}


def test_rfc3339_is_utc_whole_seconds_with_z():
    when = dt.datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert rfc3339(when) == "2026-05-01T08:00:00Z"


def test_a_compliant_verdict_becomes_a_compliant_condition_and_met_obligations():
    verdict = b.verdict(b.cluster(*b.frontier()))
    status = model_status(verdict, workloads=2, observed=None, now=b.NOW)
    compliant = _conditions(status)["Compliant"]
    assert compliant["status"] == "True"
    assert compliant["reason"] == "ObligationsMet"
    assert compliant["observedGeneration"] == 0
    assert status["workloads"] == 2
    assert [o["id"] for o in status["obligations"]] == [o.id for o in verdict.obligations]
    assert status["nextReview"] == rfc3339(verdict.next_review)


def test_transition_time_stays_while_the_status_stays_and_moves_when_it_flips():
    compliant = b.verdict(b.cluster(*b.frontier()))
    first = model_status(compliant, workloads=0, observed=None, now=b.NOW)
    again = model_status(compliant, workloads=0, observed=first, now=LATER)
    assert again == first
    assert status_patch(again, first) is None

    missing = b.verdict(b.cluster(b.model()))
    flipped = model_status(missing, workloads=0, observed=first, now=LATER)
    assert _conditions(flipped)["Compliant"]["lastTransitionTime"] == rfc3339(LATER)
    assert _conditions(flipped)["Ready"]["lastTransitionTime"] == rfc3339(b.NOW)
    assert compliant_status(first) == "True"
    assert compliant_status(flipped) == "False"


def test_the_patch_nulls_what_the_status_no_longer_has():
    observed = {"nextReview": "2027-01-01T00:00:00Z", "workloads": 1}
    desired = {"workloads": 1}
    assert status_patch(desired, observed) == {"status": {"workloads": 1, "nextReview": None}}


def test_an_unreadable_spec_is_not_ready():
    status = invalid_status("spec.modelName: Field required", generation=3, observed=None, now=b.NOW)
    assert status["observedGeneration"] == 3
    for condition in _conditions(status).values():
        assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")
        assert "spec.modelName" in condition["message"]
