"""The peer benchmark's pure parts: percentiles, kube-apiserver's admission series, the phase order."""

from __future__ import annotations

import argparse

import pytest
from bench.apiserver import AdmissionCounts, WebhookCalls, histogram_totals, parse_admission_counts
from bench.measure import latency_summary, percentile
from bench.peer import AdmissionPath, _paths, _rotation

WEBHOOK = "apiserver_admission_webhook_admission_duration_seconds"


def _webhook(name: str, rejected: str, calls: int, seconds: float, operation: str = "CREATE") -> str:
    labels = f'name="{name}",operation="{operation}",rejected="{rejected}",type="validating"'
    return (
        f'{WEBHOOK}_bucket{{{labels},le="0.005"}} {calls}\n'
        f"{WEBHOOK}_sum{{{labels}}} {seconds}\n{WEBHOOK}_count{{{labels}}} {calls}\n"
    )


METRICS = (
    f"# TYPE {WEBHOOK} histogram\n"
    + _webhook("validate.gpai.dev", "false", 10, 0.25)
    + _webhook("validate.gpai.dev", "true", 2, 0.05)
    + _webhook("validate.kyverno.svc-fail", "false", 0, 0.0)
    + _webhook("validate.kyverno.svc-fail", "false", 5, 0.5, operation="UPDATE")
    + "# TYPE apiserver_validating_admission_policy_check_total counter\n"
    'apiserver_validating_admission_policy_check_total{enforcement_action="deny",error_type="no_error",'
    'policy="gpai-gate",policy_binding="gpai-gate"} 3\n'
)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.9) == 90
    assert percentile(values, 0.99) == 99
    assert percentile(values, 0.29) == 29  # 0.29 * 100 is 28.999... in binary
    assert percentile([7.0], 0.99) == 7
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_latency_summary_reports_milliseconds():
    figures = latency_summary([0.001 * v for v in range(100, 0, -1)])
    assert figures["count"] == 100
    assert figures["median_ms"] == pytest.approx(50.5)
    assert figures["p90_ms"] == pytest.approx(90)
    assert figures["p99_ms"] == pytest.approx(99)


def test_webhook_calls_and_policy_checks_are_summed_over_outcomes():
    counts = parse_admission_counts(METRICS)
    validate = counts.webhooks["validate.gpai.dev"]
    assert validate.calls == 12
    assert validate.seconds == pytest.approx(0.30)
    assert counts.webhook_calls(["validate.gpai.dev"]).mean_seconds == pytest.approx(0.025)
    assert counts.policies == {"gpai-gate": 3}
    assert counts.consulted() == {
        "webhook:validate.gpai.dev",
        "policy:gpai-gate",
        "webhook:validate.kyverno.svc-fail",
    }


def test_creations_alone_can_be_counted():
    counts = parse_admission_counts(METRICS, operation="CREATE")
    assert counts.consulted() == {"webhook:validate.gpai.dev", "policy:gpai-gate"}  # not a 0-call webhook
    assert counts.webhooks["validate.kyverno.svc-fail"] == WebhookCalls(0, 0.0)


def test_a_webhooks_own_histogram_is_summed_over_the_chosen_series():
    text = (
        "# TYPE kyverno_admission_review_duration_seconds histogram\n"
        'kyverno_admission_review_duration_seconds_sum{resource_request_operation="create"} 0.3\n'
        'kyverno_admission_review_duration_seconds_count{resource_request_operation="create"} 3\n'
        'kyverno_admission_review_duration_seconds_sum{resource_request_operation="update"} 9\n'
        'kyverno_admission_review_duration_seconds_count{resource_request_operation="update"} 9\n'
    )
    name = "kyverno_admission_review_duration_seconds"
    assert histogram_totals(text, name, resource_request_operation="create") == WebhookCalls(3, 0.3)
    assert histogram_totals(text, name) == WebhookCalls(12, 9.3)


def test_an_interval_is_the_difference_of_two_readings():
    earlier = AdmissionCounts({"validate.gpai.dev": WebhookCalls(10, 0.2)}, {})
    later = AdmissionCounts(
        {"validate.gpai.dev": WebhookCalls(10, 0.2), "validate.kyverno.svc-fail": WebhookCalls(4, 0.1)},
        {"gpai-gate": 1},
    )
    interval = later - earlier
    assert interval.consulted() == {"webhook:validate.kyverno.svc-fail", "policy:gpai-gate"}
    assert (interval + earlier).webhooks["validate.gpai.dev"] == WebhookCalls(10, 0.2)


def test_rounds_rotate_the_phase_order():
    paths = [AdmissionPath(name, name) for name in ("none", "gpai", "kyverno")]
    orders = [[p.name for p in _rotation(r, paths)] for r in range(4)]
    assert orders == [
        ["none", "gpai", "kyverno"],
        ["gpai", "kyverno", "none"],
        ["kyverno", "none", "gpai"],
        ["none", "gpai", "kyverno"],
    ]


def test_the_baseline_is_always_measured_and_names_are_checked():
    assert _paths("kyverno,gpai") == ("none", "kyverno", "gpai")
    assert _paths("none,gpai,gpai") == ("none", "gpai")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown opa"):
        _paths("gpai,opa")
