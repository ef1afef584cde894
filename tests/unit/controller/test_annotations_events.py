"""The gpai.dev/* annotations and the Events on compliance transitions."""

from __future__ import annotations

import datetime as dt

from gpai_operator.controller.annotations import (
    COMPLIANCE,
    EVALUATED,
    UNMET,
    desired_marks,
    marks_patch,
    observed_marks,
)
from gpai_operator.controller.events import event_body, transition

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_only_our_annotations_are_observed():
    assert observed_marks({COMPLIANCE: "Compliant", "team": "ml"}) == {COMPLIANCE: "Compliant"}
    assert observed_marks(None) == {}


def test_evaluated_moves_only_when_the_other_values_change():
    first = desired_marks("NonCompliant", ["b", "a"], {}, NOW)
    assert first == {COMPLIANCE: "NonCompliant", UNMET: "a,b", EVALUATED: "2026-11-28T12:00:00Z"}
    later = NOW + dt.timedelta(hours=3)
    assert desired_marks("NonCompliant", ["a", "b"], first, later) == first
    changed = desired_marks("Compliant", [], first, later)
    assert changed[EVALUATED] == "2026-11-28T15:00:00Z"
    assert changed[UNMET] == ""


def test_an_unlabelled_workload_carries_none():
    assert desired_marks(None, [], {COMPLIANCE: "Compliant"}, NOW) == {}


def test_the_patch_touches_only_metadata_annotations():
    observed = {COMPLIANCE: "Compliant", UNMET: "", EVALUATED: "x"}
    desired = {COMPLIANCE: "NonCompliant", UNMET: "a", EVALUATED: "y"}
    assert marks_patch(desired, observed) == {"metadata": {"annotations": desired}}
    assert marks_patch(observed, observed) is None
    assert marks_patch({}, observed) == {"metadata": {"annotations": dict.fromkeys(observed)}}


def test_events_only_on_transitions():
    assert transition("ml", "acme", "u", "True", True, ()) is None
    first = transition("ml", "acme", "u", None, False, ("copyright/policy",))
    assert first is not None
    assert first.reason == "BecameNonCompliant"
    body = event_body(first, NOW, "replica-1")
    assert body["type"] == "Warning"
    assert body["involvedObject"] == {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "namespace": "ml",
        "name": "acme",
        "uid": "u",
    }
    assert body["message"] == "1 obligation unmet: copyright/policy"
    back = transition("ml", "acme", "u", "False", True, ())
    assert back is not None
    assert event_body(back, NOW, "r")["type"] == "Normal"
