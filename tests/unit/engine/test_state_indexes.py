"""The state's indexes forget a name once nothing refers to it: churning names leave nothing behind."""

from __future__ import annotations

from gpai_operator import objects
from gpai_operator.engine import ClusterState

from .builders import documentation, model, workload


def _indexes(state: ClusterState) -> dict[str, int]:
    return {
        name: len(value)
        for name, value in vars(state).items()
        if name.startswith("_") and name.endswith(("_by_model", "_by_namespace", "_by", "_from"))
    }


def test_models_evidence_and_workloads_created_and_deleted_leave_no_index_entries():
    state = ClusterState()
    before = _indexes(state)
    assert before  # the test looks at real indexes
    for i in range(50):
        name = f"generated-{i}"
        created = [
            model(name=name),
            documentation(model_name=name, name=f"{name}-doc"),
            workload(name=f"w-{i}", model_name=name, controller="ReplicaSet"),
        ]
        for obj in created:
            objects.apply(state, obj)
        for obj in reversed(created):
            objects.remove(state, obj)
    assert _indexes(state) == before
