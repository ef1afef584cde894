"""Model statuses are held packed between passes: the same value back, equal when equal, smaller."""

from __future__ import annotations

import sys
from typing import Any

from gpai_operator.controller.bookkeeping import Packed, one_copy
from gpai_operator.controller.status import model_status
from gpai_operator.engine import evaluate_model
from gpai_operator.engine.state import ClusterState
from gpai_operator.objects import apply
from tests.unit.engine import builders as b


def a_status() -> dict[str, Any]:
    state = ClusterState()
    for obj in b.frontier():
        apply(state, obj)
    verdict = evaluate_model(state, (b.NS, b.MODEL), b.NOW)
    return model_status(verdict, workloads=3, observed=None, now=b.NOW)


def deep_size(value: Any) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k) + deep_size(v) for k, v in value.items())
    elif isinstance(value, list):
        size += sum(deep_size(v) for v in value)
    return size


def test_a_packed_status_unpacks_to_the_same_value_and_equals_its_equal():
    status = a_status()
    packed = Packed(status)
    assert packed.unpack() == status
    assert packed == Packed(dict(reversed(list(status.items()))))  # key order does not matter
    assert packed != Packed({**status, "workloads": 4})
    assert Packed({"score": 1.0}) == Packed({"score": 1})  # as the API server may write it back
    assert one_copy(Packed(status), packed) is packed


def test_a_packed_status_is_a_fraction_of_the_objects_it_stands_for():
    status = a_status()
    assert len(status["obligations"]) > 10
    packed = Packed(status)
    held = sys.getsizeof(packed) + sys.getsizeof(packed._data)
    assert held * 4 < deep_size(status), (held, deep_size(status))
