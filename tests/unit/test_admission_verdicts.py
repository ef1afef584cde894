"""A namespace's AdmissionVerdicts decide every workload as the engine does, whatever the cluster."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpai_operator import objects
from gpai_operator.admission_verdicts import gate_decision, namespaces_needing_verdicts, verdicts_for
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.api.verdicts import NAME, AdmissionVerdictsSpec
from gpai_operator.engine.evaluate import decide_workload, evaluate_model
from gpai_operator.engine.state import ClusterState, Workload
from gpai_operator.loader import load
from gpai_operator.report import build_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
NAMESPACES = ("ml", "prod")
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def example_models() -> list[dict[str, Any]]:
    """Every GPAIModel of examples/models with its evidence: compliant, not, legacy, exempt..."""
    loaded = load([str(EXAMPLES / "models")])
    assert not loaded.errors
    return [m.obj for m in loaded.manifests]


MODELS = example_models()
MODEL_NAMES = sorted({m["metadata"]["name"] for m in MODELS if m["kind"] == "GPAIModel"})
ACTIONS = [["Deny"], ["Warn"], ["Audit"], ["Warn", "Audit"], ["Deny", "Audit"]]


def moved(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = namespace
    return obj


@st.composite
def policies(draw: st.DrawFn, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "validationActions": draw(st.sampled_from(ACTIONS)),
        "requireModelLabel": draw(st.booleans()),
    }
    if draw(st.booleans()):
        spec["obligations"] = draw(st.lists(st.sampled_from(POLICY_OBLIGATION_IDS), min_size=1, max_size=4))
    selected = draw(st.sampled_from([None, "enforced", "relaxed"]))
    if selected:
        spec["namespaceSelector"] = {"matchLabels": {"tier": selected}}
    exceptions = []
    for _ in range(draw(st.integers(0, 2))):
        exception = {
            "namespace": draw(st.sampled_from(NAMESPACES)),
            "model": draw(st.sampled_from(MODEL_NAMES)),
            "reason": "waiver",
            "expires": draw(st.sampled_from(["2026-11-01", "2027-01-31"])),
        }
        if draw(st.booleans()):
            exception["version"] = draw(st.sampled_from(["1.0", "2.0", "2.3", "0.9"]))
        if draw(st.booleans()):
            exception["obligations"] = draw(st.lists(st.sampled_from(POLICY_OBLIGATION_IDS), max_size=3))
        exceptions.append(exception)
    spec["exceptions"] = exceptions
    return {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": f"policy-{index}"},
        "spec": spec,
    }


@st.composite
def clusters(draw: st.DrawFn) -> ClusterState:
    state = ClusterState()
    for namespace in NAMESPACES:
        tier = draw(st.sampled_from(["enforced", "relaxed", "none"]))
        objects.apply(
            state,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"tier": tier}},
            },
        )
        names = draw(st.sets(st.sampled_from(MODEL_NAMES)))
        for obj in MODELS:
            model = obj["spec"].get("modelRef", {}).get("name") or obj["metadata"]["name"]
            if model in names or obj["kind"] == "CopyrightPolicy":
                objects.apply(state, moved(obj, namespace))
    for index in range(draw(st.integers(0, 3))):
        objects.apply(state, draw(policies(index)))
    return state


def workloads(namespace: str) -> list[Workload]:
    """A Deployment for every example model, one for a model that does not exist, one unlabelled."""
    labels = [*MODEL_NAMES, "no-such-model", None]
    return [Workload("apps/v1", "Deployment", namespace, f"w{i}", label) for i, label in enumerate(labels)]


@PROPERTIES
@given(clusters())
def test_the_native_gate_decides_every_workload_as_the_engine_does(state: ClusterState) -> None:
    for namespace in NAMESPACES:
        spec = verdicts_for(state, namespace, NOW).spec
        for workload in workloads(namespace):
            engine = decide_workload(state, workload, NOW)

            assert gate_decision(spec, workload.model) == (engine.decision, engine.audited), workload

            if engine.decision != "Allow":
                finding = spec_finding(spec, engine.decision, workload.model)
                assert finding["unmet"] == list(engine.unmet)
                assert f"by {names(finding['policies'])}:" in engine.message


def spec_finding(spec: AdmissionVerdictsSpec, decision: str, model: str | None) -> dict[str, Any]:
    section = (spec.deny if decision == "Deny" else spec.warn).wire()
    if not model:
        return {"policies": section["unlabelled"], "unmet": ["workload/model-declared"]}
    if model not in spec.models:
        return {"policies": section["unknownModel"], "unmet": ["workload/model-exists"]}
    return section["models"][model]


def names(policies: list[str]) -> str:
    return ", ".join(f"policy {p}" if p else "the built-in default policy" for p in policies)


def test_gpai_check_and_the_verdicts_agree_on_the_example_cluster() -> None:
    report = build_report([str(EXAMPLES)], [], now=NOW, jobs=1)
    state = ClusterState()
    for manifest in load([str(EXAMPLES)]).manifests:
        objects.apply(state, manifest.obj)
    for workload in report.workloads:
        spec = verdicts_for(state, workload.namespace, NOW).spec
        assert gate_decision(spec, workload.model)[0] == workload.decision, workload
    assert {w.decision for w in report.workloads} == {"Allow", "Warn", "Deny"}  # every kind was met


def test_each_model_is_listed_with_its_version_and_only_violations_with_a_finding() -> None:
    state = example_state()

    spec = verdicts_for(state, "prod-chat", NOW).spec

    assert spec.models == {"aurora-2": "2.0", "borealis-1": "1.0"}
    assert spec.deny.models.keys() == {"borealis-1"}
    assert spec.deny.models["borealis-1"].policies == ["eu-ai-act-enforce"]
    assert spec.deny.models["borealis-1"].unmet == sorted(
        evaluate_model(state, ("prod-chat", "borealis-1"), NOW).unmet
    )
    assert spec.deny.unlabelled == ["eu-ai-act-enforce"]  # requireModelLabel
    assert spec.deny.unknown_model == ["eu-ai-act-enforce"]
    assert spec.warn.models == {}
    assert spec.audit.models == {}


def test_warn_and_audit_policies_fill_both_sections() -> None:
    spec = verdicts_for(example_state(), "ml-research", NOW).spec

    assert spec.deny.models == {}
    assert spec.deny.unlabelled == []
    assert spec.deny.unknown_model == []
    assert set(spec.warn.models) == set(spec.audit.models) == {"kestrel-7b"}
    assert spec.warn.unknown_model == spec.audit.unknown_model == ["eu-ai-act-warn"]
    assert spec.warn.unlabelled == []  # eu-ai-act-warn does not require the label


def test_without_any_policy_the_built_in_default_only_audits() -> None:
    state = ClusterState()
    for manifest in load([str(EXAMPLES / "models")]).manifests:
        objects.apply(state, manifest.obj)

    spec = verdicts_for(state, "prod-chat", NOW).spec

    assert spec.deny.models == {}
    assert spec.warn.models == {}
    assert spec.audit.models["borealis-1"].policies == [""]
    assert spec.audit.unknown_model == [""]
    assert gate_decision(spec, "no-such-model") == ("Allow", True)


def test_the_manifest_is_a_valid_object_with_the_fixed_name() -> None:
    verdicts = verdicts_for(example_state(), "prod-chat", NOW)

    manifest = verdicts.manifest()

    assert manifest["apiVersion"] == "gpai.dev/v1alpha1"
    assert manifest["kind"] == "AdmissionVerdicts"
    assert manifest["metadata"]["name"] == NAME == "gpai-verdicts"
    assert manifest["metadata"]["namespace"] == "prod-chat"
    assert AdmissionVerdictsSpec.model_validate(manifest["spec"]) == verdicts.spec
    assert set(manifest["spec"]) == {"models", "deny", "warn", "audit"}
    assert set(manifest["spec"]["deny"]) == {"models", "unlabelled", "unknownModel"}


def test_the_status_counts_and_says_until_when_the_verdicts_hold() -> None:
    state = example_state()
    verdicts = verdicts_for(state, "prod-chat", NOW)

    status = verdicts.status(evaluated=NOW).wire()

    reviews = [evaluate_model(state, key, NOW).next_review for key in state.models_in("prod-chat")]
    soonest = min(r for r in reviews if r is not None)
    assert status == {
        "evaluated": "2026-11-28T12:00:00Z",
        "nextReview": soonest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "models": 2,
        "denied": 1,
        "warned": 0,
    }


def test_every_namespace_the_gate_covers_needs_verdicts_not_only_those_with_models() -> None:
    state = example_state()
    objects.apply(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "empty"}})
    objects.apply(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    objects.apply(state, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpai-system"}})

    needing = namespaces_needing_verdicts(state, excluded=["kube-system", "gpai-system"])

    assert needing == ["empty", "ml-research", "prod-chat"]


def test_admission_verdicts_are_never_engine_input() -> None:
    state = example_state()
    manifest = verdicts_for(state, "prod-chat", NOW).manifest()
    before = copy.deepcopy(state)

    assert objects.apply(state, manifest) == set()
    assert objects.remove(state, manifest) == set()
    assert state == before


def example_state() -> ClusterState:
    state = ClusterState()
    for manifest in load([str(EXAMPLES)]).manifests:
        objects.apply(state, manifest.obj)
    return state


def test_gpai_check_ignores_admission_verdicts_among_its_inputs(tmp_path: Path) -> None:
    verdicts = verdicts_for(example_state(), "prod-chat", NOW).manifest()
    (tmp_path / "verdicts.json").write_text(json.dumps(verdicts))

    alone = build_report([str(EXAMPLES)], [], now=NOW, jobs=1)
    beside = build_report([str(EXAMPLES), str(tmp_path)], [], now=NOW, jobs=1)

    assert beside.errors == []
    assert beside.workloads == alone.workloads
    assert beside.models == alone.models
