"""The reconcile side of the story, against a real API server: status, Events, annotations, metrics.

A model without evidence is non-compliant; its evidence arrives and it turns compliant; the
Deployment serving it is annotated (metadata only); an evaluation expires by the clock alone and
everything flips back; the model is deleted and its series disappear.
"""

from __future__ import annotations

import datetime as dt

from gpai_operator.controller.annotations import COMPLIANCE, EVALUATED, UNMET
from tests.integration.operator.conftest import metrics_url
from tests.integration.operator.helpers import (
    DEPLOYMENT_REVISION,
    Kube,
    annotations_of,
    compliant,
    conditions,
    http_get,
    metric,
    obligations,
    operator_written,
    ours,
    stays,
    wait_for,
)
from tests.unit.engine import builders as b

MODEL = b.MODEL


def _series(url: str, name: str, **labels: str) -> float | None:
    return metric(http_get(url)[1], name, **labels)


def test_a_model_goes_from_no_evidence_to_compliant_and_back_by_the_clock(operator, kube: Kube, namespace):
    url = metrics_url(operator)
    clock = operator.operator.runtime.clock
    model = b.model(namespace=namespace)
    kube.create(model)

    # No evidence at all: NonCompliant, each obligation says what is missing, and a Warning Event.
    found = wait_for(lambda: compliant(o := kube.get(model)) == "False" and o, "a NonCompliant status")
    assert conditions(found)["Compliant"]["reason"] == "ObligationsUnmet"
    assert conditions(found)["Ready"]["status"] == "True"
    assert found["status"]["observedGeneration"] == found["metadata"]["generation"]
    assert obligations(found)["transparency/technical-documentation"] == "Missing"
    assert obligations(found)["systemic-risk/evaluation"] == "Missing"
    assert found["status"]["classification"]["systemicRisk"] is True
    wait_for(lambda: _reasons(kube, namespace) == ["BecameNonCompliant"], "a BecameNonCompliant Event")
    assert _series(url, "gpai_model_compliant", namespace=namespace, model=MODEL) == 0

    deployment = b.workload("Deployment", "chat", namespace=namespace)
    created = kube.create(deployment)
    marks = wait_for(lambda: ours(kube.get(deployment)), "the Deployment's annotations")
    assert marks[COMPLIANCE] == "NonCompliant"
    assert "transparency/technical-documentation" in marks[UNMET].split(",")

    # The evidence arrives; one evaluation is valid only until 2026-12-15.
    evidence = b.frontier(namespace=namespace)[1:]
    evidence[2] = b.evaluation(f"{MODEL}-evals", valid_until="2026-12-15", namespace=namespace)
    for obj in evidence:
        kube.create(obj)
    found = wait_for(lambda: compliant(o := kube.get(model)) == "True" and o, "a Compliant status")
    assert conditions(found)["Compliant"]["reason"] == "ObligationsMet"
    assert found["status"]["nextReview"] == "2026-12-16T00:00:00Z"
    assert found["status"]["workloads"] == 1
    wait_for(lambda: _reasons(kube, namespace)[-1:] == ["BecameCompliant"], "a BecameCompliant Event")
    wait_for(
        lambda: _series(url, "gpai_model_compliant", namespace=namespace, model=MODEL) == 1, "the metric at 1"
    )
    assert _series(url, "gpai_workloads", namespace=namespace, compliance="Compliant") == 1

    # The Deployment is annotated Compliant, and nothing but those annotations changed.
    annotated = wait_for(
        lambda: (
            ours(o := kube.get(deployment)).get(COMPLIANCE) == "Compliant"
            and DEPLOYMENT_REVISION in annotations_of(o)
            and o
        ),
        "the Compliant annotation (and the Deployment controller's revision)",
    )
    assert ours(annotated) == {COMPLIANCE: "Compliant", UNMET: "", EVALUATED: "2026-11-28T12:30:00Z"}
    assert annotated["spec"] == created["spec"]  # the pod template too: no rollout
    # Besides the operator's three, only the Deployment controller's revision, still the first: no rollout.
    assert annotations_of(annotated) == {
        **annotations_of(created),
        **ours(annotated),
        DEPLOYMENT_REVISION: "1",
    }
    # apps/v1 counts any annotation change of a Deployment as a new generation; nothing else moved
    assert _metadata_besides_annotations(annotated) == _metadata_besides_annotations(created)
    assert not annotated["metadata"].get("finalizers")
    assert not any("kopf" in key for key in annotations_of(annotated))
    assert not any("kopf" in key for key in annotations_of(kube.get(model)))

    # Time passes (no object changes): the evaluation expires and everything flips.
    events_before = len(_reasons(kube, namespace))
    clock.set(dt.datetime(2026, 12, 16, 0, 0, 1, tzinfo=dt.UTC))
    found = wait_for(lambda: compliant(o := kube.get(model)) == "False" and o, "NonCompliant by the clock")
    assert obligations(found)["systemic-risk/evaluation"] == "Expired"
    marks = wait_for(
        lambda: (m := ours(kube.get(deployment))).get(COMPLIANCE) == "NonCompliant" and m, "NonCompliant mark"
    )
    assert marks[UNMET] == "systemic-risk/evaluation"
    assert marks[EVALUATED] == "2026-12-16T00:00:01Z"
    wait_for(
        lambda: _series(url, "gpai_model_compliant", namespace=namespace, model=MODEL) == 0, "the metric at 0"
    )
    wait_for(lambda: len(_reasons(kube, namespace)) == events_before + 1, "one BecameNonCompliant Event")

    # The model is deleted: its series disappear and its workloads name an unknown model.
    kube.delete(model)
    wait_for(
        lambda: _series(url, "gpai_model_info", namespace=namespace, model=MODEL) is None, "the series gone"
    )
    assert _series(url, "gpai_model_obligation_status", namespace=namespace, model=MODEL) is None
    wait_for(lambda: ours(kube.get(deployment)).get(COMPLIANCE) == "UnknownModel", "UnknownModel mark")


def test_a_hand_written_compliant_annotation_is_corrected(operator, kube: Kube, namespace):
    kube.create(b.model(namespace=namespace))
    deployment = b.workload(namespace=namespace)
    kube.create(deployment)
    wait_for(lambda: ours(kube.get(deployment)).get(COMPLIANCE) == "NonCompliant", "the NonCompliant mark")
    kube.patch(deployment, {"metadata": {"annotations": {COMPLIANCE: "Compliant", UNMET: ""}}})
    marks = wait_for(
        lambda: (m := ours(kube.get(deployment))).get(COMPLIANCE) == "NonCompliant" and m, "the correction"
    )
    assert marks[UNMET]


def test_removing_the_label_removes_the_annotations(operator, kube: Kube, namespace):
    for obj in b.frontier(namespace=namespace):
        kube.create(obj)
    deployment = b.workload(namespace=namespace)
    kube.create(deployment)
    wait_for(lambda: ours(kube.get(deployment)).get(COMPLIANCE) == "Compliant", "the Compliant mark")
    kube.patch(deployment, {"metadata": {"labels": {"gpai.dev/model": None}}})
    wait_for(lambda: not ours(kube.get(deployment)), "the annotations removed")
    model = kube.get(b.model(namespace=namespace))
    wait_for(lambda: kube.get(model)["status"]["workloads"] == 0, "the model to count no workload")


def test_once_converged_nothing_is_written(operator, kube: Kube, namespace):
    for obj in b.frontier(namespace=namespace):
        kube.create(obj)
    deployment = b.workload(namespace=namespace)
    kube.create(deployment)
    wait_for(lambda: ours(kube.get(deployment)).get(COMPLIANCE) == "Compliant", "the Compliant mark")
    model = b.model(namespace=namespace)
    wait_for(lambda: kube.get(model)["status"]["workloads"] == 1, "the workload counted")
    versions = (operator_written(kube.get(model)), operator_written(kube.get(deployment)))
    stays(
        lambda: (operator_written(kube.get(model)), operator_written(kube.get(deployment))) == versions,
        "no write after convergence",
    )


def _metadata_besides_annotations(obj: dict) -> dict:
    volatile = ("annotations", "resourceVersion", "generation", "managedFields")
    return {k: v for k, v in obj["metadata"].items() if k not in volatile}


def _reasons(kube: Kube, namespace: str) -> list[str]:
    events = sorted(kube.events(namespace, MODEL), key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [e["reason"] for e in events if e.get("source", {}).get("component") == "gpai-operator"]
