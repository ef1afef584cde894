"""The admission webhook (SPEC section 4): judge workloads at CREATE and pod-template UPDATE.

- review.py: the decision, a pure function of (AdmissionReview, runtime state, now);
- envelope.py, operations.py, messages.py, outcome.py: reading the request, what is judged, the
  words, the answer;
- memo.py: model verdicts reused while nothing they were computed from has changed;
- server.py: kopf's WebhookServer answering `/validate` over TLS with that function;
- handlers.py: `build_server` (and `bind`), what `gpai run` calls;
- metrics.py: gpai_admission_requests_total and gpai_admission_duration_seconds;
- configuration.py: the ValidatingWebhookConfiguration the chart renders, for tests and the demo;
- testing.py: trustme certificates and the webhook in a thread, for tests, the demo and benchmarks.

docs/admission.md describes the behaviour and the figures.
"""
