"""The admission memo gives exactly the verdict a fresh evaluation gives, whatever changed."""

from __future__ import annotations

import copy
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from gpai_operator import objects
from gpai_operator.admission.memo import VerdictMemo
from gpai_operator.engine import ClusterState, decide_from_verdict, decide_workload, evaluate_model
from gpai_operator.loader import load

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
KEY = ("prod-chat", "aurora-2")


def example_manifests() -> list[dict[str, Any]]:
    loaded = load([str(EXAMPLES)])
    assert not loaded.errors
    return [m.obj for m in loaded.manifests]


def example_state() -> ClusterState:
    state = ClusterState()
    for manifest in example_manifests():
        objects.apply(state, manifest)
    return state


def of_kind(kind: str, name: str | None = None) -> dict[str, Any]:
    return next(m for m in example_manifests() if m["kind"] == kind and name in (None, m["metadata"]["name"]))


def test_an_unchanged_model_is_evaluated_once() -> None:
    state, memo = example_state(), VerdictMemo()

    first = memo.verdict(state, KEY, NOW)
    second = memo.verdict(state, KEY, NOW + dt.timedelta(hours=1))

    assert second is first
    assert (memo.misses, memo.hits) == (1, 1)
    assert first == evaluate_model(state, KEY, NOW)


def test_a_missing_model_has_no_verdict() -> None:
    assert VerdictMemo().verdict(example_state(), ("prod-chat", "nope"), NOW) is None


def change_evaluation(state: ClusterState) -> None:
    state.remove_evaluation("prod-chat", "aurora-2-red-team")


def change_documentation(state: ClusterState) -> None:
    doc = copy.deepcopy(of_kind("ModelDocumentation", "aurora-2-documentation"))
    del doc["spec"]["contact"]
    objects.apply(state, doc)


def change_copyright_policy(state: ClusterState) -> None:
    state.remove_copyright_policy("prod-chat", "aurora-labs-copyright")


def change_model(state: ClusterState) -> None:
    model = copy.deepcopy(of_kind("GPAIModel", "aurora-2"))
    model["spec"]["version"] = "2.1"
    objects.apply(state, model)


def change_policies(state: ClusterState) -> None:
    objects.apply(
        state,
        {
            "apiVersion": "gpai.dev/v1alpha1",
            "kind": "CompliancePolicy",
            "metadata": {"name": "short-reports"},
            "spec": {"validationActions": ["Deny"], "parameters": {"modelReportMaxAgeDays": 10}},
        },
    )


def change_incident(state: ClusterState) -> None:
    state.remove_incident("prod-chat", "aurora-2-credential-leak")


def change_history(state: ClusterState) -> None:
    model = copy.deepcopy(of_kind("GPAIModel", "aurora-2"))
    model["status"] = {"versions": [{"version": "1.5", "firstSeen": "2025-06-01T00:00:00Z"}]}
    objects.apply(state, model)


def change_namespace(state: ClusterState) -> None:
    objects.apply(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod-chat"}})


@pytest.mark.parametrize(
    "change",
    [
        change_evaluation,
        change_documentation,
        change_copyright_policy,
        change_model,
        change_policies,
        change_namespace,
        change_incident,
        change_history,
    ],
)
def test_any_changed_input_is_evaluated_again(change: Any) -> None:
    state, memo = example_state(), VerdictMemo()
    before = memo.verdict(state, KEY, NOW)

    change(state)
    after = memo.verdict(state, KEY, NOW)

    assert after == evaluate_model(state, KEY, NOW)
    assert after != before
    assert memo.misses == 2


def test_a_fine_tune_is_evaluated_again_when_its_original_changes() -> None:
    state, memo = example_state(), VerdictMemo()
    fine_tune = ("ml-research", "lumen-8b-support")
    before = memo.verdict(state, fine_tune, NOW)
    assert before is not None
    assert before.compliant

    original = copy.deepcopy(of_kind("GPAIModel", "lumen-8b"))
    original["spec"]["license"]["monetised"] = True  # no longer exempt: its downstream information is owed
    objects.apply(state, original)
    after = memo.verdict(state, fine_tune, NOW)

    assert after == evaluate_model(state, fine_tune, NOW)
    assert after != before
    assert memo.misses == 2


def test_a_new_day_or_the_next_review_evaluates_again() -> None:
    state, memo = example_state(), VerdictMemo()
    verdict = memo.verdict(state, KEY, NOW)
    assert verdict is not None
    assert verdict.next_review is not None

    memo.verdict(state, KEY, NOW + dt.timedelta(days=1))
    assert memo.misses == 2
    late = verdict.next_review + dt.timedelta(seconds=1)
    assert memo.verdict(state, KEY, late) == evaluate_model(state, KEY, late)


def test_the_memo_agrees_with_fresh_evaluations_through_random_changes() -> None:
    rng = random.Random(20261128)
    manifests = example_manifests()
    state, memo = ClusterState(), VerdictMemo()
    keys = sorted(
        {(m["metadata"]["namespace"], m["metadata"]["name"]) for m in manifests if m["kind"] == "GPAIModel"}
    )
    now = NOW
    for _step in range(400):
        manifest = rng.choice(manifests)
        if rng.random() < 0.3:
            objects.remove(state, manifest)
        else:
            objects.apply(state, manifest)
        if rng.random() < 0.05:
            now += dt.timedelta(days=rng.choice([1, 30, 200]))
        key = rng.choice(keys)
        expected = evaluate_model(state, key, now) if key in state.models else None
        verdict = memo.verdict(state, key, now)
        assert verdict == expected
        for workload in state.workloads.values():
            if workload.model_key == key and verdict is not None and not workload.controlled:
                # the shortcut review.py takes with a verdict in hand
                assert decide_from_verdict(workload, verdict) == decide_workload(state, workload, now)
    assert memo.hits > 0
