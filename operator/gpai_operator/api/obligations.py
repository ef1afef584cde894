"""Identifiers the API shares with the engine: obligation ids and obligation statuses."""

from __future__ import annotations

from typing import Literal, get_args

# The stable ids of OBLIGATIONS.md that a CompliancePolicy may list. The engine's catalogue
# holds one record for each (a test keeps the two in step).
PolicyObligationId = Literal[
    "transparency/technical-documentation",
    "transparency/downstream-information",
    "transparency/documentation-retention",
    "copyright/policy",
    "copyright/training-content-summary",
    "governance/authorised-representative",
    "governance/code-of-practice",
    "systemic-risk/notification",
    "systemic-risk/framework",
    "systemic-risk/evaluation",
    "systemic-risk/adversarial-testing",
    "systemic-risk/risk-acceptance",
    "systemic-risk/model-report",
    "systemic-risk/incident-reporting",
    "systemic-risk/incident-timeliness",
    "systemic-risk/cybersecurity",
    "value-chain/upstream-information",
]
POLICY_OBLIGATION_IDS: tuple[str, ...] = get_args(PolicyObligationId)

# Workload rules apply per workload, never through a policy's `obligations` list.
WORKLOAD_MODEL_DECLARED = "workload/model-declared"
WORKLOAD_MODEL_EXISTS = "workload/model-exists"

# Obligations whose check reads a list of documentation fields; a policy may require more.
DocumentationObligationId = Literal[
    "transparency/technical-documentation",
    "transparency/downstream-information",
]

ObligationStatus = Literal[
    "Met", "Missing", "Incomplete", "Failed", "Expired", "Grace", "Exempt", "NotApplicable", "Waived"
]
OBLIGATION_STATUSES: tuple[str, ...] = get_args(ObligationStatus)
