"""The compliance engine: pure functions of (cluster state, now). No I/O, no clock, no API client.

This is its public surface: everything outside `engine/` imports from `gpai_operator.engine`, never
from its modules (an import-linter contract in pyproject.toml holds that). The modules behind it
are the engine's own business: the obligation catalogue (data), the checks, the status rules,
classification, the value chain, incidents, policy selection and aggregation.

    verdict = evaluate_model(state, ("ml", "chat"), now)
    decision = decide_workload(state, workload, now, verdict)
    report = evaluate_all(state, now)
"""

from gpai_operator.engine.catalogue import CATALOGUE, Obligation
from gpai_operator.engine.days import ONE_DAY, day_start, utc_day
from gpai_operator.engine.evaluate import (
    decide_from_verdict,
    decide_workload,
    evaluate_all,
    evaluate_model,
    selecting_policies,
    selects,
)
from gpai_operator.engine.kinds import DEFAULT as DEFAULT_KINDS
from gpai_operator.engine.kinds import KindSpecError, WorkloadKind, WorkloadKinds
from gpai_operator.engine.retention import RETENTION_YEARS, Duty, documentation_duty, retained
from gpai_operator.engine.state import (
    MODEL_LABEL,
    ClusterState,
    ControllerRef,
    ModelKey,
    ObjectKey,
    Resource,
    Workload,
    WorkloadKey,
)
from gpai_operator.engine.verdicts import (
    FAILING,
    PASSING,
    Action,
    Classification,
    Decision,
    IncidentVerdict,
    ModelVerdict,
    ObligationVerdict,
    PolicyVerdict,
    Report,
    WorkloadCompliance,
    WorkloadDecision,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_KINDS",
    "FAILING",
    "MODEL_LABEL",
    "ONE_DAY",
    "PASSING",
    "RETENTION_YEARS",
    "Action",
    "Classification",
    "ClusterState",
    "ControllerRef",
    "Decision",
    "Duty",
    "IncidentVerdict",
    "KindSpecError",
    "ModelKey",
    "ModelVerdict",
    "ObjectKey",
    "Obligation",
    "ObligationVerdict",
    "PolicyVerdict",
    "Report",
    "Resource",
    "Workload",
    "WorkloadCompliance",
    "WorkloadDecision",
    "WorkloadKey",
    "WorkloadKind",
    "WorkloadKinds",
    "day_start",
    "decide_from_verdict",
    "decide_workload",
    "documentation_duty",
    "evaluate_all",
    "evaluate_model",
    "retained",
    "selecting_policies",
    "selects",
    "utc_day",
]
