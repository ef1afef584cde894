"""transparency/documentation-retention (Art. 53(1)(a), 54(3)(b); CoP Transparency M1.1): the
documentation of every version on the market in the last ten years is kept. The versions come from
status.versions, the history the operator keeps; an earlier version's ten years run from the day it
was superseded."""

from __future__ import annotations

import pytest

from gpai_operator import objects
from gpai_operator.engine.retention import documentation_duty, years_after
from gpai_operator.engine.state import ClusterState

from .builders import (
    NS,
    cluster,
    day,
    documentation,
    fine_tune,
    frontier,
    midnight,
    model,
    obligation,
    on,
    open_weights_model,
    verdict,
    with_history,
)

RETENTION = "transparency/documentation-retention"


def history(superseded: str | None = "2026-05-01T10:00:00Z"):
    """acme: version 3.0 from 2025-09-01 until `superseded`, then 3.1 (its current version)."""
    return with_history(
        model(),
        ("3.0", "2025-09-01T08:00:00Z", superseded),
        ("3.1", "2026-05-01T10:00:00Z", None),
    )


def retention(*objs, now=None):
    return obligation(cluster(frontier(), *objs), RETENTION, **({"now": now} if now else {}))


def test_a_model_without_earlier_versions_has_nothing_more_to_keep():
    found = obligation(cluster(frontier()), RETENTION)
    assert found.status == "Met"
    assert "no earlier version on record (status.versions, the history the operator keeps)" in found.message


def test_an_earlier_version_without_its_documentation_is_missing():
    found = retention(history())
    assert found.status == "Missing"
    assert (
        "no ModelDocumentation for version 3.0 (on the market until 2026-05-01, to be kept through "
        "2036-05-01)" in found.message
    )
    assert (
        "To fix: restore the ModelDocumentation of each version in namespace ml (modelRef.name acme, "
        'modelVersion "3.0")' in found.message
    )
    assert not verdict(cluster(frontier(), history())).compliant


def test_an_earlier_version_with_its_documentation_kept_is_met():
    found = retention(history(), documentation(version="3.0", last_updated="2026-04-01"))
    assert found.status == "Met"
    assert (
        "the ModelDocumentation of every earlier version is kept: version 3.0 (on the market until 2026-05-01"
        in (found.message)
    )


def test_ten_years_after_it_was_superseded_the_duty_ends_the_next_day():
    old = history(superseded="2016-11-28T09:00:00Z")
    last_day = retention(old, now=on("2026-11-28", hour=23))
    assert last_day.status == "Missing"
    assert "to be kept through 2026-11-28" in last_day.message
    assert verdict(cluster(frontier(), old), now=on("2026-11-28")).next_review == midnight("2026-11-29")
    after = retention(old, now=midnight("2026-11-29"))
    assert after.status == "Met"
    assert "every earlier version is past its ten years: 3.0" in after.message


def test_ten_years_after_29_february_is_28_february():
    assert years_after(day("2024-02-29"), 10) == day("2034-02-28")
    assert years_after(day("2024-03-01"), 10) == day("2034-03-01")


def test_an_earlier_version_without_a_recorded_end_is_kept_as_if_on_the_market():
    found = retention(history(superseded=None))
    assert found.status == "Missing"
    assert "version 3.0 (no longer current; when it was superseded is not recorded)" in found.message


def test_an_open_source_exempt_or_downstream_model_owes_no_retention():
    exempt = with_history(open_weights_model(), ("0.9", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
    assert obligation(cluster(exempt), RETENTION, name="openmodel").status == "Exempt"
    downstream = with_history(fine_tune(), ("0.9", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"))
    assert obligation(cluster(downstream), RETENTION, name="acme-ft").status == "NotApplicable"


def test_the_history_is_read_from_the_status_and_a_malformed_entry_names_its_field():
    state = ClusterState()
    objects.apply(state, history())
    assert [v.version for v in state.versions_of((NS, "acme"))] == ["3.0", "3.1"]
    broken = with_history(model(), ("3.0", "yesterday", None))
    with pytest.raises(objects.InvalidObject) as error:
        objects.apply(state, broken)
    assert "status.versions[0].firstSeen: Value error, must be an RFC 3339 date-time" in str(error.value)
    assert [v.version for v in state.versions_of((NS, "acme"))] == ["3.0", "3.1"], "nothing half-applied"


def test_a_manifest_without_status_keeps_no_history():
    state = cluster(history())
    objects.apply(state, model())
    assert state.versions_of((NS, "acme")) == ()


# ---- what the admission webhook asks: must this ModelDocumentation be kept? -----------------------
def _duty(state: ClusterState, version: str, today: str = "2026-11-28"):
    doc = objects.resource_from(documentation(version=version))[1].spec
    return documentation_duty(state, NS, doc, day(today))


def test_the_current_versions_documentation_and_an_earlier_ones_within_ten_years_must_be_kept():
    state = cluster(frontier(), history())
    current = _duty(state, "3.1")
    assert (current.version, current.current) == ("3.1", True)
    earlier = _duty(state, "3.0")
    assert (earlier.current, earlier.on_market_until, earlier.kept_through) == (
        False,
        day("2026-05-01"),
        day("2036-05-01"),
    )
    assert _duty(state, "3.0", today="2036-05-02") is None
    assert _duty(state, "2.0") is None, "a version never seen on the market"
    assert (
        documentation_duty(
            ClusterState(), NS, objects.resource_from(documentation())[1].spec, day("2026-11-28")
        )
        is None
    )
