"""What kube-apiserver's own /metrics say about admission: which webhooks and admission policies it
consulted, how often, and (webhooks) for how long.

The benchmarks use it to see that a phase's admission path, and only that one, judges a request
before timing it, and to report the webhook call time as kube-apiserver measures it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

WEBHOOK_SECONDS = "apiserver_admission_webhook_admission_duration_seconds"
POLICY_CHECKS = "apiserver_validating_admission_policy_check_total"


@dataclass(frozen=True)
class WebhookCalls:
    calls: float = 0.0
    seconds: float = 0.0

    def __add__(self, other: WebhookCalls) -> WebhookCalls:
        return WebhookCalls(self.calls + other.calls, self.seconds + other.seconds)

    def __sub__(self, other: WebhookCalls) -> WebhookCalls:
        return WebhookCalls(self.calls - other.calls, self.seconds - other.seconds)

    @property
    def mean_seconds(self) -> float:
        return self.seconds / self.calls if self.calls else float("nan")


@dataclass(frozen=True)
class AdmissionCounts:
    """Cumulative counts since kube-apiserver started; subtract two readings for an interval."""

    webhooks: dict[str, WebhookCalls] = field(default_factory=dict)  # by webhook name
    policies: dict[str, float] = field(default_factory=dict)  # checks by ValidatingAdmissionPolicy name

    def __add__(self, other: AdmissionCounts) -> AdmissionCounts:
        return self._combine(other, 1.0)

    def __sub__(self, other: AdmissionCounts) -> AdmissionCounts:
        return self._combine(other, -1.0)

    def _combine(self, other: AdmissionCounts, sign: float) -> AdmissionCounts:
        webhooks = {}
        for name in self.webhooks.keys() | other.webhooks.keys():
            mine, theirs = self.webhooks.get(name, WebhookCalls()), other.webhooks.get(name, WebhookCalls())
            webhooks[name] = mine + theirs if sign > 0 else mine - theirs
        policies = {
            name: self.policies.get(name, 0.0) + sign * other.policies.get(name, 0.0)
            for name in self.policies.keys() | other.policies.keys()
        }
        return AdmissionCounts(webhooks, policies)

    def consulted(self) -> set[str]:
        """Who was consulted at least once: `webhook:<name>` and `policy:<name>`."""
        return {f"webhook:{name}" for name, calls in self.webhooks.items() if calls.calls > 0} | {
            f"policy:{name}" for name, count in self.policies.items() if count > 0
        }

    def webhook_calls(self, names: Iterable[str]) -> WebhookCalls:
        return sum((self.webhooks.get(name, WebhookCalls()) for name in names), WebhookCalls())


def parse_admission_counts(text: str, operation: str | None = None) -> AdmissionCounts:
    """The admission series of a Prometheus text exposition, every outcome summed; the webhooks' for
    one `operation` (CREATE, UPDATE, ...) if given, else for all."""
    webhooks: dict[str, list[float]] = {}
    policies: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if operation and sample.labels.get("operation", operation) != operation:
                continue
            if sample.name == f"{WEBHOOK_SECONDS}_count":
                webhooks.setdefault(sample.labels["name"], [0.0, 0.0])[0] += sample.value
            elif sample.name == f"{WEBHOOK_SECONDS}_sum":
                webhooks.setdefault(sample.labels["name"], [0.0, 0.0])[1] += sample.value
            elif sample.name == POLICY_CHECKS:
                name = sample.labels["policy"]
                policies[name] = policies.get(name, 0.0) + sample.value
    return AdmissionCounts({name: WebhookCalls(*values) for name, values in webhooks.items()}, policies)


def histogram_totals(text: str, name: str, **labels: str) -> WebhookCalls:
    """Observations and their sum of histogram `name` in a Prometheus text exposition, over the series
    with `labels` (the webhooks' own measure of their reviews: gpai_admission_duration_seconds,
    Kyverno's kyverno_admission_review_duration_seconds)."""
    calls = seconds = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if any(sample.labels.get(key) != value for key, value in labels.items()):
                continue
            if sample.name == f"{name}_count":
                calls += sample.value
            elif sample.name == f"{name}_sum":
                seconds += sample.value
    return WebhookCalls(calls, seconds)


def metrics_text(api_client: Any) -> str:
    """kube-apiserver's /metrics (the admin may read them) in the text format, through `api_client`."""
    method, url, headers, body, _ = api_client.param_serialize(
        "GET", "/metrics", header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"]
    )
    return str(api_client.call_api(method, url, headers, body).read().decode())


def admission_counts(api_client: Any, operation: str | None = None) -> AdmissionCounts:
    return parse_admission_counts(metrics_text(api_client), operation)
