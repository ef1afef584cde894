"""What one admission review produced: the HTTP answer, and the facts metrics and logs need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Allow: allowed, nothing to report. Warn: allowed with warnings. Deny: refused (HTTP 403 semantics).
# Audit: allowed without warnings, but an Audit policy found a violation. Error: the review could not
# be judged (a malformed body, or the operator not ready or failing): refused.
AdmissionDecision = Literal["Allow", "Warn", "Deny", "Audit", "Error"]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # bounded metric label: a workload kind, "Other", or "" when unreadable
    operation: str  # CREATE, UPDATE, DELETE, CONNECT, or "Other"
    decision: AdmissionDecision


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP answer to one POST: 200 with an AdmissionReview, or 400 with a metav1.Status."""

    status: int
    body: dict[str, Any]
    outcome: Outcome
    # key=value facts for the audit log line; empty when the decision is not worth a line
    log: Mapping[str, str] = field(default_factory=dict)
