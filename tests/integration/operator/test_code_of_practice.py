"""Issue 9 end to end: the operator writes governance/code-of-practice and the notification's two
weeks into a GPAIModel's status and metrics, and follows them as the declaration and the clock move."""

from __future__ import annotations

import datetime as dt

from tests.integration.operator.conftest import metrics_url
from tests.integration.operator.helpers import (
    Kube,
    compliant,
    http_get,
    metric,
    obligations,
    wait_for,
)
from tests.unit.engine import builders as b

MODEL = b.MODEL
COP = "governance/code-of-practice"
NOTIFICATION = "systemic-risk/notification"


def _series(url: str, name: str, **labels: str) -> float | None:
    return metric(http_get(url)[1], name, **labels)


def _obligation_series(url: str, namespace: str, obligation: str, status: str) -> float | None:
    labels = {"namespace": namespace, "model": MODEL, "obligation": obligation, "status": status}
    return _series(url, "gpai_model_obligation_status", **labels)


def _failing(obj: dict) -> dict[str, str]:
    passing = {"Met", "NotApplicable", "Exempt", "Grace", "Waived"}
    return {i: status for i, status in obligations(obj).items() if status not in passing}


def _result(obj: dict, obligation_id: str) -> dict:
    return next(o for o in obj["status"]["obligations"] if o["id"] == obligation_id)


def test_code_of_practice_adherence_in_status_and_metrics(operator, kube: Kube, namespace):
    url = metrics_url(operator)
    evidence = b.frontier(namespace=namespace)
    # The provider did not sign the Transparency chapter and has not said how it complies otherwise.
    model = b.patched(evidence[0], spec__provider__codeOfPractice__transparency="NonSignatory")
    kube.create(model)
    for obj in evidence[1:]:
        kube.create(obj)

    # Every other obligation is met once the operator has seen all the evidence.
    unmet_only_cop = {COP: "Incomplete"}
    found = wait_for(lambda: _failing(o := kube.get(model)) == unmet_only_cop and o, "only the chapter unmet")
    assert compliant(found) == "False"
    assert found["status"]["classification"]["codeOfPractice"] == "C,S"
    message = _result(found, COP)["message"]
    assert "Transparency chapter not signed and no alternative adequate means documented" in message
    documentation = _result(found, "transparency/technical-documentation")["message"]
    assert "(Art. 53(1)(a), Annex XI; alternative adequate means (Art. 53(4))) is Met" in documentation
    wait_for(lambda: _obligation_series(url, namespace, COP, "Incomplete") == 1, "the Incomplete series")

    # The provider documents its alternative adequate means: Met, and the series follows.
    means = [{"chapter": "Transparency", "document": {"url": "https://acme.example/transparency-measures"}}]
    kube.patch(model, {"spec": {"provider": {"alternativeMeans": means}}})
    found = wait_for(lambda: compliant(o := kube.get(model)) == "True" and o, "Compliant")
    assert obligations(found)[COP] == "Met"
    wait_for(lambda: _obligation_series(url, namespace, COP, "Met") == 1, "the Met series")
    assert _obligation_series(url, namespace, COP, "Incomplete") is None


def test_the_two_weeks_to_notify_are_grace_until_the_clock_passes_the_deadline(
    operator, kube: Kube, namespace
):
    url = metrics_url(operator)
    clock = operator.operator.runtime.clock
    evidence = b.frontier(namespace=namespace)
    # The threshold was met on 2026-11-20; the Commission must be notified by 2026-12-04.
    model = b.without(
        b.patched(evidence[0], spec__systemicRisk__thresholdMet="2026-11-20"), "spec.systemicRisk.notified"
    )
    kube.create(model)
    for obj in evidence[1:]:
        kube.create(obj)

    found = wait_for(lambda: compliant(o := kube.get(model)) == "True" and o, "Compliant, in Grace")
    notification = _result(found, NOTIFICATION)
    assert (notification["status"], notification["expires"]) == ("Grace", "2026-12-04")
    assert found["status"]["nextReview"] == "2026-12-05T00:00:00Z"
    expiring = {"namespace": namespace, "model": MODEL, "obligation": NOTIFICATION}
    wait_for(
        lambda: _series(url, "gpai_model_obligation_expiring", **expiring) == 1,
        "the expiry warning of the notification",
    )

    clock.set(dt.datetime(2026, 12, 5, 0, 0, 1, tzinfo=dt.UTC))
    found = wait_for(lambda: compliant(o := kube.get(model)) == "False" and o, "NonCompliant by the clock")
    assert obligations(found)[NOTIFICATION] == "Missing"
    assert "the notification was due by 2026-12-04" in _result(found, NOTIFICATION)["message"]
