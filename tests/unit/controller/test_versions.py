"""status.versions: the history the operator keeps of the versions a model declared."""

from __future__ import annotations

import datetime as dt

from gpai_operator.api.status import VERSIONS_MAX
from gpai_operator.controller.versions import version_history
from tests.unit.engine import builders as b

T0 = "2026-01-10T09:00:00Z"
NOW = b.NOW  # 2026-11-28T12:30:00Z


def wire(history) -> list[dict]:
    return [entry.wire() for entry in history]


def test_a_new_model_records_its_version_when_first_seen():
    assert wire(version_history(None, "3.1", NOW)) == [
        {"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z"}
    ]


def test_an_unchanged_version_keeps_its_entry():
    observed = {"versions": [{"version": "3.1", "firstSeen": T0}]}
    assert wire(version_history(observed, "3.1", NOW)) == observed["versions"]


def test_a_new_version_supersedes_the_old_one_now():
    observed = {"versions": [{"version": "3.0", "firstSeen": T0}]}
    assert wire(version_history(observed, "3.1", NOW)) == [
        {"version": "3.0", "firstSeen": T0, "superseded": "2026-11-28T12:30:00Z"},
        {"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z"},
    ]


def test_a_version_that_comes_back_is_current_again_with_its_first_sighting():
    observed = {
        "versions": [
            {"version": "3.0", "firstSeen": T0, "superseded": "2026-06-01T00:00:00Z"},
            {"version": "3.1", "firstSeen": "2026-06-01T00:00:00Z"},
        ]
    }
    assert wire(version_history(observed, "3.0", NOW)) == [
        {"version": "3.0", "firstSeen": T0},
        {"version": "3.1", "firstSeen": "2026-06-01T00:00:00Z", "superseded": "2026-11-28T12:30:00Z"},
    ]


def test_versions_past_their_ten_years_are_dropped():
    observed = {
        "versions": [
            {"version": "1.0", "firstSeen": "2015-01-01T00:00:00Z", "superseded": "2016-11-27T00:00:00Z"},
            {"version": "2.0", "firstSeen": "2016-11-27T00:00:00Z", "superseded": "2016-11-28T00:00:00Z"},
            {"version": "3.1", "firstSeen": "2016-11-28T00:00:00Z"},
        ]
    }
    # 1.0's ten years ended on 2026-11-27; 2.0's end today, 2026-11-28 (kept through its last day)
    assert [e.version for e in version_history(observed, "3.1", NOW)] == ["2.0", "3.1"]


def test_beyond_the_bound_the_oldest_superseded_versions_go_first():
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    entries = [
        {
            "version": f"0.{i}",
            "firstSeen": (start + dt.timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "superseded": (start + dt.timedelta(days=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for i in range(VERSIONS_MAX)
    ]
    history = version_history({"versions": entries}, "9.9", NOW)
    assert len(history) == VERSIONS_MAX
    assert history[0].version == "0.1"
    assert history[-1].version == "9.9"


def test_an_entry_written_by_hand_that_cannot_be_read_is_left_out():
    observed = {
        "versions": [{"version": "3.0", "firstSeen": "yesterday"}, {"version": "3.1", "firstSeen": T0}]
    }
    assert wire(version_history(observed, "3.1", NOW)) == [{"version": "3.1", "firstSeen": T0}]
