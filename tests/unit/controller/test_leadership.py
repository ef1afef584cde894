"""Who writes among replicas: the election rule over a peering object's entries."""

from __future__ import annotations

import datetime as dt

from gpai_operator.controller.leadership import elect, parse_peers

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _entry(seconds_ago: int, since_minutes_ago: int, priority: int = 0, lifetime: int = 60) -> dict:
    return {
        "priority": priority,
        "lifetime": lifetime,
        "lastseen": (NOW - dt.timedelta(seconds=seconds_ago)).isoformat(),
        "since": (NOW - dt.timedelta(minutes=since_minutes_ago)).isoformat(),
    }


def test_the_oldest_live_replica_leads_and_a_newcomer_does_not_take_over():
    peers = parse_peers({"b-new": _entry(1, 1), "a-old": _entry(5, 30)})
    leader = elect(peers, NOW)
    assert leader is not None
    assert leader.identity == "a-old"


def test_a_dead_replica_does_not_lead():
    peers = parse_peers({"a-old": _entry(120, 30), "b-new": _entry(1, 1)})
    leader = elect(peers, NOW)
    assert leader is not None
    assert leader.identity == "b-new"


def test_a_higher_priority_leads_as_in_kopf():
    peers = parse_peers({"a-old": _entry(1, 30), "dev": _entry(1, 0, priority=666)})
    leader = elect(peers, NOW)
    assert leader is not None
    assert leader.identity == "dev"


def test_kopf_entries_without_since_and_garbage_are_tolerated():
    status = {"kopf-peer": {"priority": 0, "lifetime": 60, "lastseen": NOW.isoformat()}, "junk": "x"}
    assert [p.identity for p in parse_peers(status)] == ["kopf-peer"]
    assert elect([], NOW) is None
