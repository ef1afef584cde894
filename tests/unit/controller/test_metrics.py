"""The Prometheus families built at scrape time: names, labels, and deleted models gone."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from gpai_operator.controller.metrics import ModelFacts, OperatorCollector, Snapshot, families
from tests.unit.engine import builders as b

KEY = (b.NS, b.MODEL)


def _samples(snapshot: Snapshot) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in families(snapshot):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _snapshot(*objs: dict) -> Snapshot:
    state = b.cluster(*objs)
    verdict = b.verdict(state)
    return Snapshot(
        verdicts={KEY: verdict},
        models={KEY: ModelFacts(provider="Acme AI GmbH", version="3.1")},
        model_workloads={KEY: 2},
        workloads={(b.NS, "Compliant"): 2},
        ready=True,
        leading=True,
    )


def test_every_series_of_the_contract_is_there():
    samples = _samples(_snapshot(*b.frontier()))
    assert samples["gpai_model_info"] == [
        (
            {
                "namespace": "ml",
                "model": "acme",
                "provider": "Acme AI GmbH",
                "version": "3.1",
                "systemic_risk": "true",
                "open_source_exempt": "false",
                "role": "Provider",
            },
            1,
        )
    ]
    assert samples["gpai_model_compliant"] == [({"namespace": "ml", "model": "acme"}, 1)]
    statuses = {s[0]["obligation"]: s[0]["status"] for s in samples["gpai_model_obligation_status"]}
    assert statuses["systemic-risk/evaluation"] == "Met"
    assert samples["gpai_model_workloads"] == [({"namespace": "ml", "model": "acme"}, 2)]
    assert samples["gpai_workloads"] == [({"namespace": "ml", "compliance": "Compliant"}, 2)]
    assert samples["gpai_operator_ready"] == [({}, 1)]
    assert samples["gpai_build_info"][0][1] == 1
    assert samples["gpai_model_next_review_timestamp_seconds"][0][1] > b.NOW.timestamp()
    expiries = {s[0]["obligation"]: s[1] for s in samples["gpai_model_obligation_expiry_timestamp_seconds"]}
    # the evaluation is valid through 2027-05-31: it stops counting at 2027-06-01T00:00Z
    assert expiries["systemic-risk/evaluation"] == 1811808000.0
    expiring = {s[0]["obligation"]: s[1] for s in samples["gpai_model_obligation_expiring"]}
    assert set(expiring) == set(expiries)


def test_a_deleted_model_has_no_series():
    samples = _samples(Snapshot())
    for name in ("gpai_model_info", "gpai_model_compliant", "gpai_model_obligation_status"):
        assert name not in samples


def test_the_collector_renders_in_a_registry():
    registry = CollectorRegistry()
    collector = OperatorCollector()
    registry.register(collector)
    collector.bind(lambda: _snapshot(b.model()))
    text = generate_latest(registry).decode()
    assert 'gpai_model_compliant{model="acme",namespace="ml"} 0.0' in text
    collector.bind(None)
    assert "gpai_model_compliant{" not in generate_latest(registry).decode()


def test_each_incident_has_its_series_and_the_deadline_of_its_next_report():
    snapshot = _snapshot(
        *b.frontier(),
        b.incident("open", aware="2026-11-24"),
        b.incident("late", category="Other", aware="2026-10-01"),
        b.incident(
            "closed",
            aware="2026-08-01",
            initialReport="2026-08-02",
            resolved="2026-08-10",
            finalReport="2026-09-01",
        ),
    )
    samples = _samples(snapshot)
    info = {
        s[0]["incident"]: (s[0]["category"], s[0]["state"]) for s in samples["gpai_serious_incident_info"]
    }
    assert info == {
        "closed": ("Cybersecurity", "Closed"),
        "late": ("Other", "Open"),
        "open": ("Cybersecurity", "Open"),
    }
    due = {
        s[0]["incident"]: (s[0]["report"], s[1])
        for s in samples["gpai_serious_incident_report_due_timestamp_seconds"]
    }
    # open: initial report due by 2026-11-29, so the deadline passes at 2026-11-30T00:00Z
    assert due == {"open": ("Initial", 1795996800.0), "late": ("Initial", 1792195200.0)}
    timely = {s[0]["incident"]: s[1] for s in samples["gpai_serious_incident_timely"]}
    assert timely == {"open": 1, "late": 0, "closed": 1}
    assert all(
        s[0]["model"] == "acme" and s[0]["namespace"] == "ml" for s in samples["gpai_serious_incident_timely"]
    )


def test_no_incident_no_incident_series():
    samples = _samples(_snapshot(*b.frontier()))
    assert "gpai_serious_incident_info" not in samples
