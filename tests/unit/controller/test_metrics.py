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
