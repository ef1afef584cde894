"""Model verdicts for admission, reused for as long as nothing they were computed from has changed.

Evaluating a systemic-risk model with its full evidence takes about half a millisecond; looking up
whether its inputs changed takes a few microseconds. The inputs are what the engine reads for one
model (engine/evidence.py `gather`, engine/policies.py `selecting_policies`): the GPAIModel, its
ModelDocumentations, RiskEvaluations, SeriousIncidents, version history and CopyrightPolicy, every
CompliancePolicy, the labels of its namespace, the day, and for a model made from another one the
model and documentation of every model up its value chain (its classification and upstream
information read them). Watch handlers replace an object in the state whenever it changes, so
comparing the inputs by identity is exact, and keeping them referenced here means no identity can be
reused by a new object. A verdict also ends at its `next_review`, when the clock alone changes it.

Why not `runtime.verdicts`: the reconciler fills those after it has worked through its queue, so
right after a watch event (an evaluation added, a policy changed) they lag behind the state the
webhook must judge by; the memo is never older than the state.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict, evaluate_model

Inputs = tuple[Any, ...]


class VerdictMemo:
    def __init__(self) -> None:
        self._entries: dict[ModelKey, tuple[Inputs, ModelVerdict]] = {}
        self.hits = 0
        self.misses = 0

    def verdict(self, state: ClusterState, key: ModelKey, now: dt.datetime) -> ModelVerdict | None:
        """The model's verdict at `now`, or None when the model does not exist."""
        inputs = _inputs(state, key, now)
        if inputs is None:
            self._entries.pop(key, None)
            return None
        entry = self._entries.get(key)
        if entry is not None and _same(entry[0], inputs):
            verdict = entry[1]
            if verdict.next_review is None or now < verdict.next_review:
                self.hits += 1
                return verdict
        self.misses += 1
        verdict = evaluate_model(state, key, now)
        self._entries[key] = (inputs, verdict)
        return verdict


def _inputs(state: ClusterState, key: ModelKey, now: dt.datetime) -> Inputs | None:
    model = state.models.get(key)
    if model is None:
        return None
    return (
        now.astimezone(dt.UTC).date(),
        model,
        tuple(state.documentation_for(key)),
        tuple(state.evaluations_for(key)),
        state.copyright_policy_for(key),
        tuple(state.policies.values()),
        state.namespaces.get(key[0]),
        tuple(state.incidents_for(key)),
        state.versions_of(key),
        _value_chain(state, key),
    )


def _value_chain(state: ClusterState, key: ModelKey) -> tuple[Any, ...]:
    """Each model up the value chain (spec.derivedFrom.modelRef), with its documentation."""
    chain: list[Any] = []
    seen = {key}
    original = state.original_of(key)
    while original is not None and original not in seen:
        seen.add(original)
        chain += [state.models.get(original), *state.documentation_for(original)]
        original = state.original_of(original)
    return tuple(chain)


def _same(old: Inputs, new: Inputs) -> bool:
    if old[0] != new[0] or len(old) != len(new):
        return False
    for before, after in zip(old[1:], new[1:], strict=True):
        if isinstance(before, tuple) and isinstance(after, tuple):
            if len(before) != len(after) or any(b is not a for b, a in zip(before, after, strict=True)):
                return False
        elif before is not after:
            return False
    return True
