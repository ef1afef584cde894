"""The native gate decides CREATEs as the engine does: every workload kind, Deny, Warn, Audit and
Allow, several policies, namespace selectors, unlabelled workloads, unknown models, pinned exceptions."""

from __future__ import annotations

from typing import Any

import pytest

from gpai_operator.engine.verdicts import Decision
from tests.integration.admission.kube import example_evidence
from tests.integration.admission.workloads import KINDS, manifest, policy
from tests.integration.native.conftest import COMPLIANT, ROGUE, Attempt, Scene, pinned_exception
from tests.integration.security.conftest import rogue_model

KESTREL = "kestrel-7b"  # no EU representative: fails governance/authorised-representative only
UNKNOWN = "no-such-model"
LABELS: tuple[str | None, ...] = (COMPLIANT, ROGUE, KESTREL, UNKNOWN, None)


def models(scene: Scene) -> None:
    scene.add(
        *example_evidence(COMPLIANT, scene.namespace),
        *example_evidence(KESTREL, scene.namespace),
        rogue_model(scene.namespace),
    )


SCENARIOS: dict[str, tuple[list[dict[str, Any]], dict[str | None, Decision]]] = {
    "deny-requiring-the-label": (
        [policy("enforce", ["Deny"], requireModelLabel=True)],
        {COMPLIANT: "Allow", ROGUE: "Deny", KESTREL: "Deny", UNKNOWN: "Deny", None: "Deny"},
    ),
    "warn-and-audit": (
        [policy("advise", ["Warn", "Audit"])],
        {COMPLIANT: "Allow", ROGUE: "Warn", KESTREL: "Warn", UNKNOWN: "Warn", None: "Allow"},
    ),
    "audit-only": (
        [policy("count", ["Audit"], requireModelLabel=True)],
        dict.fromkeys(LABELS, "Allow"),
    ),
    "no-policy-the-built-in-default-audits": ([], dict.fromkeys(LABELS, "Allow")),
    "a-policy-for-other-namespaces": (
        [policy("prod-only", ["Deny"], namespaceSelector={"matchLabels": {"tier": "prod"}})],
        dict.fromkeys(LABELS, "Allow"),
    ),
    "the-strongest-action-of-several-policies": (
        [
            policy("evaluations", ["Deny"], obligations=["systemic-risk/evaluation"]),
            policy("everything", ["Warn"], requireModelLabel=True),
            policy("count", ["Audit"]),
        ],
        {COMPLIANT: "Allow", ROGUE: "Deny", KESTREL: "Warn", UNKNOWN: "Deny", None: "Warn"},
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_decision_is_the_engines(new_scene: Any, scenario: str) -> None:
    policies, expected = SCENARIOS[scenario]
    scene: Scene = new_scene()
    scene.add(*policies)
    models(scene)
    scene.publish()

    def decided(label: str | None) -> set[Decision]:
        kinds = ("Pod", "Job")
        return {scene.judge(Attempt.create(manifest(kind, scene.namespace, label)))[0] for kind in kinds}

    decisions = {label: decided(label) for label in LABELS}

    assert decisions == {label: {decision} for label, decision in expected.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_every_workload_kind_is_gated(new_scene: Any, kind: str) -> None:
    scene: Scene = new_scene()
    scene.add(policy("enforce", ["Deny"], requireModelLabel=True))
    models(scene)
    scene.publish()

    decided = [scene.judge(Attempt.create(manifest(kind, scene.namespace, label)))[0] for label in LABELS]

    assert decided == ["Allow", "Deny", "Deny", "Deny", "Deny"]


def test_warnings_and_denials_say_what_the_engine_says_and_where_the_details_are(new_scene: Any) -> None:
    scene: Scene = new_scene()
    scene.add(
        policy("evaluations", ["Deny"], obligations=["systemic-risk/evaluation"]),
        policy("everything", ["Warn"]),
    )
    models(scene)
    scene.publish()
    ns = scene.namespace

    _, denied = scene.judge(Attempt.create(manifest("Deployment", ns, ROGUE)))
    _, warned = scene.judge(Attempt.create(manifest("Deployment", ns, KESTREL)))
    _, unknown = scene.judge(Attempt.create(manifest("Job", ns, UNKNOWN, name="batch")))

    assert denied.message.endswith(
        f"Deployment {ns}/chat is denied by policy evaluations: it serves GPAIModel {ns}/{ROGUE} "
        "version 1.0, which leaves 1 obligation unmet: systemic-risk/evaluation. "
        f"In full: kubectl describe gpai {ROGUE} -n {ns}"
    )
    [warning] = warned.warnings
    assert warning == (
        f"{scene.gate.warn_prefix()}Deployment {ns}/chat is allowed with a warning by policy everything: "
        f"it serves GPAIModel {ns}/{KESTREL} version 0.9, which leaves 1 obligation unmet: "
        f"governance/authorised-representative. In full: kubectl describe gpai {KESTREL} -n {ns}"
    )
    assert unknown.message.endswith(
        f"Job {ns}/batch is denied by policy evaluations: GPAIModel {ns}/{UNKNOWN} does not exist, "
        "which leaves 1 obligation unmet: workload/model-exists. "
        "To fix: create it or fix the gpai.dev/model label"
    )


def test_an_exception_holds_only_for_the_version_it_names(new_scene: Any) -> None:
    scene: Scene = new_scene()
    legacy = rogue_model(scene.namespace, "legacy", "2.4")
    scene.add(policy("enforce", ["Deny"], exceptions=[pinned_exception(scene.namespace)]), legacy)
    scene.publish()
    deployment = Attempt.create(manifest("Deployment", scene.namespace, "legacy"))

    assert scene.judge(deployment)[0] == "Deny"  # 2.4: the waiver for 2.3 does not follow the name

    scene.add(rogue_model(scene.namespace, "legacy", "2.3"))
    scene.publish()
    assert scene.judge(deployment)[0] == "Allow"
