"""Issue 10 end to end, the operator against the real API server: a serious incident whose deadline
passes turns its model non-compliant at that instant (ManualClock), with the incident's status, the
series GPAISeriousIncidentReportDue watches and the printer columns; fine-tunes show their role;
the version history follows the model into its status and feeds documentation retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gpai_operator.testing.rest import TABLE, request_json
from tests.integration.admission.kube import example_evidence
from tests.integration.operator.conftest import metrics_url
from tests.integration.operator.helpers import (
    Kube,
    compliant,
    conditions,
    http_get,
    metric,
    obligations,
    stays,
    wait_for,
)
from tests.unit.engine import builders as b

MODEL = b.MODEL
TIMELINESS = "systemic-risk/incident-timeliness"
RETENTION = "transparency/documentation-retention"


def _series(url: str, name: str, **labels: str) -> float | None:
    return metric(http_get(url)[1], name, **labels)


def _table(kube: Kube, path: str, name: str) -> dict[str, Any]:
    """One row of what `kubectl get` prints, as {column: cell}."""
    table = request_json(kube.api, "GET", path, accept=TABLE)
    columns = [c["name"] for c in table["columnDefinitions"]]
    [row] = [r for r in table["rows"] if r["cells"][0] == name]
    return dict(zip(columns, row["cells"], strict=True))


def _incident_status(kube: Kube, incident: dict[str, Any]) -> dict[str, Any]:
    return kube.get(incident).get("status") or {}


def test_an_unreported_incident_turns_the_model_non_compliant_when_its_deadline_passes(
    operator, kube: Kube, namespace
):
    url = metrics_url(operator)
    clock = operator.operator.runtime.clock
    # A cybersecurity breach the provider became aware of on 2026-11-24: initial report due 2026-11-29.
    incident = b.incident("breach", aware="2026-11-24", namespace=namespace)
    for obj in [*b.frontier(namespace=namespace), incident]:
        kube.create(obj)

    model = b.frontier(namespace=namespace)[0]

    def timeliness(obj: dict[str, Any]) -> dict[str, Any]:
        return next(o for o in obj["status"]["obligations"] if o["id"] == TIMELINESS)

    # The model's watch may bring it before the incident's does: a status without the incident first.
    found = wait_for(
        lambda: compliant(o := kube.get(model)) == "True" and "expires" in timeliness(o) and o,
        "Compliant with the incident's deadline, the report not due yet",
    )
    result = timeliness(found)
    assert (result["status"], result["expires"]) == ("Met", "2026-11-29")
    assert found["status"]["nextReview"] == "2026-11-30T00:00:00Z"
    status = wait_for(
        lambda: _incident_status(kube, incident).get("nextDeadline") and _incident_status(kube, incident),
        "incident status",
    )
    assert (
        status["nextReport"],
        status["nextDeadline"],
        conditions({"status": status})["Timely"]["status"],
    ) == (
        "Initial",
        "2026-11-29",
        "True",
    )
    row = _table(kube, f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/seriousincidents", "breach")
    assert (row["Model"], row["Category"], row["Aware"], row["Next Deadline"], row["Timely"]) == (
        MODEL,
        "Cybersecurity",
        "2026-11-24",
        "2026-11-29",
        "True",
    )
    labels = {"namespace": namespace, "incident": "breach", "model": MODEL}
    # what GPAISeriousIncidentReportDue watches: the deadline passes at 2026-11-30T00:00Z
    due = wait_for(
        lambda: _series(
            url, "gpai_serious_incident_report_due_timestamp_seconds", **labels, report="Initial"
        ),
        "the deadline series",
    )
    assert due == dt.datetime(2026, 11, 30, tzinfo=dt.UTC).timestamp()
    assert _series(url, "gpai_serious_incident_timely", **labels) == 1
    assert _series(url, "gpai_serious_incident_info", **labels, category="Cybersecurity", state="Open") == 1
    assert (
        _series(
            url, "gpai_model_info", namespace=namespace, model=MODEL, systemic_risk="true", role="Provider"
        )
        == 1
    )

    # The last second of the last day: still on time.
    clock.set(dt.datetime(2026, 11, 29, 23, 59, 59, tzinfo=dt.UTC))
    stays(lambda: compliant(kube.get(model)) == "True", "compliant until the deadline passes", seconds=1.0)

    clock.set(dt.datetime(2026, 11, 30, 0, 0, 0, tzinfo=dt.UTC))
    found = wait_for(lambda: compliant(o := kube.get(model)) == "False" and o, "NonCompliant at the deadline")
    assert obligations(found)[TIMELINESS] == "Failed"
    message = next(o for o in found["status"]["obligations"] if o["id"] == TIMELINESS)["message"]
    assert "initial report due by 2026-11-29 (aware 2026-11-24 + 5 days) not made" in message
    late = wait_for(
        lambda: (
            conditions({"status": _incident_status(kube, incident)})["Timely"]["status"] == "False"
            and _incident_status(kube, incident)
        ),
        "the incident's Timely condition",
    )
    assert conditions({"status": late})["Timely"]["reason"] == "DeadlineMissed"
    wait_for(lambda: _series(url, "gpai_serious_incident_timely", **labels) == 0, "the timely series at 0")


def test_fine_tunes_show_their_role_in_status_printer_columns_and_metrics(operator, kube: Kube, namespace):
    url = metrics_url(operator)
    objs = example_evidence("lumen-8b", namespace) + example_evidence("lumen-8b-fine-tunes", namespace)
    for obj in objs:
        kube.create(obj)

    def role(name: str) -> str | None:
        obj = kube.get({**objs[0], "metadata": {"name": name, "namespace": namespace}})
        return ((obj.get("status") or {}).get("classification") or {}).get("role")

    wait_for(lambda: role("lumen-8b-support") and role("lumen-8b-legal"), "both fine-tunes classified")
    assert (role("lumen-8b"), role("lumen-8b-support"), role("lumen-8b-legal")) == (
        "Provider",
        "Downstream",
        "ModifierProvider",
    )
    path = f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/gpaimodels"
    support = _table(kube, path, "lumen-8b-support")
    assert (support["Role"], support["Compliant"]) == ("Downstream", "True")
    assert _table(kube, path, "lumen-8b-legal")["Role"] == "ModifierProvider"
    support_model = kube.get({**objs[0], "metadata": {"name": "lumen-8b-support", "namespace": namespace}})
    statuses = obligations(support_model)
    assert statuses.pop("value-chain/upstream-information") == "Met"
    assert set(statuses.values()) == {"NotApplicable"}
    wait_for(
        lambda: _series(
            url, "gpai_model_info", namespace=namespace, model="lumen-8b-support", role="Downstream"
        ),
        "the role on gpai_model_info",
    )


def test_the_version_history_is_kept_and_retention_follows_it(operator, kube: Kube, namespace):
    clock = operator.operator.runtime.clock
    evidence = b.frontier(namespace=namespace)
    for obj in evidence:
        kube.create(obj)
    model = evidence[0]
    wait_for(lambda: compliant(kube.get(model)) == "True", "Compliant")
    assert kube.get(model)["status"]["versions"] == [{"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z"}]

    # Version 3.2 is released three days later, with its own documentation.
    clock.set(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    kube.create(b.documentation(version="3.2", namespace=namespace))
    kube.patch(model, {"spec": {"version": "3.2"}})
    history = [
        {"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z", "superseded": "2026-12-01T09:00:00Z"},
        {"version": "3.2", "firstSeen": "2026-12-01T09:00:00Z"},
    ]
    wait_for(lambda: kube.get(model)["status"].get("versions") == history, "3.1 superseded, 3.2 recorded")
    assert obligations(kube.get(model))[RETENTION] == "Met"

    # The documentation of 3.1, on the market until today, is deleted: ten years too early.
    kube.delete(b.documentation(namespace=namespace))
    found = wait_for(
        lambda: obligations(o := kube.get(model))[RETENTION] == "Missing" and o, "retention Missing"
    )
    message = next(o for o in found["status"]["obligations"] if o["id"] == RETENTION)["message"]
    assert (
        "no ModelDocumentation for version 3.1 (on the market until 2026-12-01, to be kept through "
        "2036-12-01)" in message
    )
