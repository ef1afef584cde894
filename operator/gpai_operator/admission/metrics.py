"""The admission series of SPEC section 6 (and the refusals), in prometheus_client's default registry.

Labels stay bounded whatever arrives at the webhook: `kind` is one of the workload kinds of SPEC
section 3, `Other` for any other kind, or empty when the body was not a readable AdmissionReview;
`operation` is an AdmissionReview operation or `Other`.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from gpai_operator.admission.outcome import Outcome

REQUESTS = Counter(
    "gpai_admission_requests_total",
    "Admission reviews answered, by workload kind, operation and decision "
    "(Allow, Warn, Deny, Audit: allowed but an Audit policy found a violation, Error: malformed or failed).",
    ("kind", "operation", "decision"),
)
DURATION = Histogram(
    "gpai_admission_duration_seconds",
    "Time from receiving an admission review to having its answer ready, in seconds.",
    # Answers take well under a millisecond; the upper buckets catch pauses (GC, a busy event loop).
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


REFUSED = Counter(
    "gpai_admission_refused_total",
    "Requests to the webhook refused before being reviewed, by reason: body_too_large (413), busy "
    "(429: too many in progress), read_timeout (408), client_certificate (403: not an allowed client).",
    ("reason",),
)
REFUSAL_REASONS = ("body_too_large", "busy", "read_timeout", "client_certificate")
for _reason in REFUSAL_REASONS:  # every reason exists from the start, at 0
    REFUSED.labels(_reason)


def record_refusal(reason: str) -> None:
    REFUSED.labels(reason).inc()


def record(outcome: Outcome, seconds: float) -> None:
    REQUESTS.labels(outcome.kind, outcome.operation, outcome.decision).inc()
    DURATION.observe(seconds)
