"""The fault tests' oracle on listed objects (no cluster): it finds every wrong field, by object."""

from __future__ import annotations

import copy
import datetime as dt

from gpai_operator.testing import churn
from gpai_operator.testing.oracle import EVALUATED, PRESENT, compare, expected

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
TODAY = NOW.date()
NS = "team"


def listed(obj: dict, uid: str, generation: int = 1) -> dict:
    """As the API server returns it: a uid and, for our kinds, a generation."""
    obj = copy.deepcopy(obj)
    obj["metadata"]["uid"] = uid
    obj["metadata"]["generation"] = generation
    return obj


def right(objs: list[dict]) -> list[dict]:
    """The objects carrying exactly what the oracle expects (as a converged operator writes it)."""
    wanted = expected(objs, NOW)
    done = []
    for obj in copy.deepcopy(objs):
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if obj["kind"] == "GPAIModel":
            fields = wanted.models[key]
            obj["status"] = {
                "observedGeneration": fields["status.observedGeneration"],
                "conditions": [
                    {
                        "type": "Compliant",
                        "status": fields["status.conditions[Compliant].status"],
                        "reason": fields["status.conditions[Compliant].reason"],
                    }
                ],
                "classification": fields["status.classification"],
                "workloads": fields["status.workloads"],
                "obligations": [
                    {"id": f.removeprefix("status.obligations[").removesuffix("]"), "status": status}
                    for f, status in fields.items()
                    if f.startswith("status.obligations[")
                ],
            }
        elif (obj["kind"], *key) in wanted.workloads:
            marks = wanted.workloads[(obj["kind"], *key)]
            meta["annotations"] = {
                name: ("2026-12-07T12:00:00Z" if value == PRESENT else value)
                for name, value in marks.items()
                if value is not None
            }
        done.append(obj)
    return done


def cluster() -> list[dict]:
    owner = listed(churn.deployment(NS, "chat", "documented"), "uid-chat")
    return [
        listed(churn.copyright_policy(NS, TODAY), "uid-cp"),
        listed(churn.model(NS, "documented", TODAY), "uid-m1"),
        listed(churn.documentation(NS, "documented", "1.0", TODAY), "uid-doc"),
        listed(churn.model(NS, "undocumented", TODAY), "uid-m2"),
        owner,
        listed(churn.pod(NS, "chat-pod", "documented", owner), "uid-pod"),  # made by the Deployment
        listed(churn.pod(NS, "lonely", "undocumented"), "uid-lonely"),
        listed(churn.pod(NS, "plain", None), "uid-plain"),
    ]


def test_a_converged_cluster_has_no_differences():
    objs = right(cluster())
    assert compare(objs, NOW) == []
    wanted = expected(objs, NOW)
    assert wanted.models[(NS, "documented")]["status.conditions[Compliant].status"] == "True"
    assert wanted.models[(NS, "documented")]["status.workloads"] == 1  # the Deployment, not its Pod
    assert wanted.models[(NS, "undocumented")]["status.conditions[Compliant].status"] == "False"
    assert ("Pod", NS, "chat-pod") not in wanted.workloads  # its Deployment carries the verdict


def test_every_wrong_field_is_reported_by_object_and_field():
    objs = right(cluster())
    by_name = {o["metadata"]["name"]: o for o in objs}
    by_name["documented"]["status"]["workloads"] = 2
    by_name["documented"]["status"]["conditions"][0]["status"] = "False"
    by_name["lonely"]["metadata"]["annotations"]["gpai.dev/compliance"] = "Compliant"
    by_name["plain"]["metadata"]["annotations"] = {"gpai.dev/compliance": "Compliant"}
    del by_name["chat"]["metadata"]["annotations"][EVALUATED]
    by_name["chat-pod"]["metadata"]["annotations"] = {"gpai.dev/compliance": "anything"}  # left alone

    found = {(d.object, d.field): (d.actual, d.expected) for d in compare(objs, NOW)}

    assert found == {
        (f"GPAIModel {NS}/documented", "status.workloads"): (2, 1),
        (f"GPAIModel {NS}/documented", "status.conditions[Compliant].status"): ("False", "True"),
        (f"Pod {NS}/lonely", "metadata.annotations[gpai.dev/compliance]"): ("Compliant", "NonCompliant"),
        (f"Pod {NS}/plain", "metadata.annotations[gpai.dev/compliance]"): ("Compliant", None),
        (f"Deployment {NS}/chat", f"metadata.annotations[{EVALUATED}]"): (None, PRESENT),
    }


def test_a_status_that_lags_a_spec_change_or_a_deleted_document_is_wrong():
    objs = right(cluster())
    objs = [o for o in objs if o["kind"] != "ModelDocumentation"]  # deleted; the status still says Met
    model = next(o for o in objs if o["metadata"]["name"] == "documented")
    model["metadata"]["generation"] = 2

    fields = {d.field for d in compare(objs, NOW) if d.object == f"GPAIModel {NS}/documented"}

    assert {
        "status.observedGeneration",
        "status.conditions[Compliant].status",
        "status.obligations[transparency/technical-documentation]",
    } <= fields


def test_only_the_namespaces_asked_for_are_compared():
    objs = right(cluster())
    next(o for o in objs if o["metadata"]["name"] == "lonely")["metadata"]["annotations"] = {}
    assert compare(objs, NOW, namespaces={"elsewhere"}) == []
    assert compare(objs, NOW, namespaces={NS}) != []
