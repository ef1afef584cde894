"""The reconcile loop against an in-memory API: what ends up in status, Events and annotations."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from gpai_operator.controller.annotations import COMPLIANCE, EVALUATED, UNMET
from gpai_operator.controller.kube import ApiError
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b

NS, MODEL = b.NS, b.MODEL


def conditions(cluster: FakeCluster, name: str = MODEL) -> dict[str, dict]:
    status = cluster.get("GPAIModel", NS, name).get("status", {})
    return {c["type"]: c for c in status.get("conditions", [])}


def obligations(cluster: FakeCluster, name: str = MODEL) -> dict[str, str]:
    return {o["id"]: o["status"] for o in cluster.get("GPAIModel", NS, name)["status"]["obligations"]}


def annotations_of(cluster: FakeCluster, kind: str = "Deployment", name: str = "chat") -> dict[str, str]:
    return cluster.get(kind, NS, name)["metadata"].get("annotations", {})


def started(*objs: dict, now: dt.datetime = b.NOW, leading: bool = True) -> FakeCluster:
    cluster = FakeCluster(now, leading=leading).load(objs)
    asyncio.run(cluster.settle())
    return cluster


async def run_until_non_compliant(cluster: FakeCluster, when: dt.datetime) -> None:
    """The reconcile loop running, asleep until the next review; the clock set to `when`; until the
    model turns non-compliant (or two seconds pass)."""
    worker = asyncio.create_task(cluster.reconciler.run())
    await asyncio.sleep(0.05)
    assert conditions(cluster)["Compliant"]["status"] == "True"  # asleep until the next review
    cluster.clock.set(when)
    for _ in range(200):
        if conditions(cluster)["Compliant"]["status"] == "False":
            break
        await asyncio.sleep(0.01)
    worker.cancel()


def test_a_model_without_evidence_is_non_compliant_with_a_warning_event():
    cluster = started(b.model())
    compliant = conditions(cluster)["Compliant"]
    assert (compliant["status"], compliant["reason"]) == ("False", "ObligationsUnmet")
    assert "transparency/technical-documentation (Missing)" in compliant["message"]
    assert compliant["lastTransitionTime"] == "2026-11-28T12:30:00Z"
    assert conditions(cluster)["Ready"]["status"] == "True"
    assert obligations(cluster)["systemic-risk/evaluation"] == "Missing"
    status = cluster.get("GPAIModel", NS, MODEL)["status"]
    assert status["observedGeneration"] == 1
    assert status["classification"] == {
        "systemicRisk": True,
        "openSourceExempt": False,
        "legacy": False,
        "euProvider": True,
        "codeOfPractice": "T,C,S",
        "role": "Provider",
    }
    assert status["workloads"] == 0
    assert [(e["type"], e["reason"]) for e in cluster.events] == [("Warning", "BecameNonCompliant")]
    assert "systemic-risk/evaluation" in cluster.events[0]["message"]


def test_evidence_turns_the_model_compliant_with_one_event_and_a_new_transition_time():
    cluster = started(b.model())
    ready_since = conditions(cluster)["Ready"]["lastTransitionTime"]
    cluster.clock.advance(dt.timedelta(hours=1))
    cluster.add(*b.frontier()[1:])
    compliant = conditions(cluster)["Compliant"]
    assert (compliant["status"], compliant["reason"]) == ("True", "ObligationsMet")
    assert compliant["lastTransitionTime"] == "2026-11-28T13:30:00Z"
    assert conditions(cluster)["Ready"]["lastTransitionTime"] == ready_since
    assert set(obligations(cluster).values()) <= {"Met", "NotApplicable"}
    assert [e["reason"] for e in cluster.events] == ["BecameNonCompliant", "BecameCompliant"]
    assert cluster.events[-1]["type"] == "Normal"
    next_review = cluster.runtime.verdicts[(NS, MODEL)].next_review
    assert next_review is not None
    assert next_review > b.NOW
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["nextReview"] == next_review.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_nothing_is_written_again_when_nothing_changed():
    cluster = started(*b.frontier(), b.workload())
    writes = len(cluster.writes)
    cluster.clock.advance(dt.timedelta(hours=2))
    cluster.reconciler.enqueue_all()
    asyncio.run(cluster.settle())
    assert len(cluster.writes) == writes
    assert len(cluster.events) == 1


def test_own_writes_come_back_without_queueing_anything():
    cluster = started(*b.frontier(), b.workload())
    assert cluster.reconciler.idle
    # the status and annotation patches were fed back through the watch (FakeCluster._patch)
    assert any(kind == "status" for kind, _, _ in cluster.writes)
    assert any(kind == "workload" for kind, _, _ in cluster.writes)


def test_a_labelled_workload_is_annotated_through_metadata_only():
    cluster = started(*b.frontier(), b.workload())
    assert annotations_of(cluster) == {
        COMPLIANCE: "Compliant",
        UNMET: "",
        EVALUATED: "2026-11-28T12:30:00Z",
    }
    patches = [body for kind, key, body in cluster.writes if kind == "workload"]
    assert patches
    assert all(set(body) == {"metadata"} and set(body["metadata"]) == {"annotations"} for body in patches)
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 1


def test_a_non_compliant_model_marks_its_workloads_with_the_unmet_ids():
    cluster = started(b.model(), b.workload())
    marks = annotations_of(cluster)
    assert marks[COMPLIANCE] == "NonCompliant"
    assert "transparency/technical-documentation" in marks[UNMET].split(",")
    assert marks[UNMET].split(",") == sorted(marks[UNMET].split(","))


def test_a_hand_written_compliant_annotation_is_corrected():
    cluster = started(b.model(), b.workload())
    evaluated = annotations_of(cluster)[EVALUATED]
    cluster.clock.advance(dt.timedelta(minutes=5))
    cluster.update(
        "Deployment", NS, "chat", {"metadata": {"annotations": {COMPLIANCE: "Compliant", UNMET: ""}}}
    )
    asyncio.run(cluster.settle())
    assert annotations_of(cluster)[COMPLIANCE] == "NonCompliant"
    assert annotations_of(cluster)[UNMET]
    assert annotations_of(cluster)[EVALUATED] == "2026-11-28T12:35:00Z"  # the values changed back
    assert evaluated != annotations_of(cluster)[EVALUATED]


def test_removing_the_label_removes_the_annotations():
    cluster = started(*b.frontier(), b.workload())
    cluster.update("Deployment", NS, "chat", {"metadata": {"labels": {"gpai.dev/model": None}}})
    asyncio.run(cluster.settle())
    assert not any(key.startswith("gpai.dev/") for key in annotations_of(cluster))
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 0


def test_objects_made_by_a_gated_controller_are_not_annotated_nor_counted():
    cluster = started(*b.frontier(), b.workload("ReplicaSet", "chat-5d8"))
    owner_uid = cluster.get("ReplicaSet", NS, "chat-5d8")["metadata"]["uid"]
    cluster.add(
        b.workload(
            "Pod", "chat-5d8-a", controller="ReplicaSet", controller_name="chat-5d8", controller_uid=owner_uid
        ),
    )
    assert annotations_of(cluster, "Pod", "chat-5d8-a") == {}
    assert annotations_of(cluster, "ReplicaSet", "chat-5d8")[COMPLIANCE] == "Compliant"
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 1


def test_a_controller_reference_that_resolves_to_nothing_is_annotated_like_any_workload():
    cluster = started(
        *b.frontier(),
        b.workload("Pod", "forged", controller="ConfigMap", controller_name="mine"),
        b.workload("Pod", "orphan", controller="ReplicaSet", controller_name="gone"),
    )
    assert annotations_of(cluster, "Pod", "forged")[COMPLIANCE] == "Compliant"
    assert annotations_of(cluster, "Pod", "orphan")[COMPLIANCE] == "Compliant"
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 2


def test_a_child_seen_before_its_controller_is_left_to_it_once_the_controller_appears():
    cluster = started(*b.frontier())
    child = b.workload(
        "Pod", "chat-5d8-a", controller="ReplicaSet", controller_name="chat-5d8", controller_uid="rs-1"
    )
    cluster.add(child)
    assert annotations_of(cluster, "Pod", "chat-5d8-a")[COMPLIANCE] == "Compliant"
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 1
    owner = b.workload("ReplicaSet", "chat-5d8")
    owner["metadata"]["uid"] = "rs-1"
    cluster.add(owner)
    writes = len(cluster.writes)
    cluster.update("Pod", NS, "chat-5d8-a", {"metadata": {"annotations": {COMPLIANCE: "NonCompliant"}}})
    asyncio.run(cluster.settle())
    assert not [w for w in cluster.writes[writes:] if w[1] == ("Pod", NS, "chat-5d8-a")]  # left alone
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 1  # the ReplicaSet, not both
    cluster.delete("ReplicaSet", NS, "chat-5d8")  # orphaned: it stands on its own again
    asyncio.run(cluster.settle())
    assert annotations_of(cluster, "Pod", "chat-5d8-a")[COMPLIANCE] == "Compliant"
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 1


def test_deleting_the_model_marks_its_workloads_unknown_and_drops_its_verdict():
    cluster = started(*b.frontier(), b.workload())
    cluster.delete("GPAIModel", NS, MODEL)
    asyncio.run(cluster.settle())
    assert annotations_of(cluster)[COMPLIANCE] == "UnknownModel"
    assert annotations_of(cluster)[UNMET] == "workload/model-exists"
    assert (NS, MODEL) not in cluster.runtime.verdicts
    assert cluster.reconciler.next_review() is None


def test_a_stale_deletion_does_not_remove_a_recreated_object():
    cluster = started(*b.frontier(), b.workload())
    old = cluster.get("Deployment", NS, "chat")
    cluster.delete("Deployment", NS, "chat")
    cluster.create(b.workload())  # a new object of the same name, new uid
    cluster.sync.delete(old)  # the old object's deletion, processed late
    assert ("Deployment", NS, "chat") in cluster.runtime.state.workloads


def test_the_clock_alone_expires_an_evaluation():
    objs = b.frontier()
    objs[3] = b.evaluation(f"{MODEL}-evals", valid_until="2026-12-15")
    cluster = started(*objs, b.workload())
    assert conditions(cluster)["Compliant"]["status"] == "True"
    assert cluster.reconciler.next_review() == dt.datetime(2026, 12, 16, tzinfo=dt.UTC)

    asyncio.run(run_until_non_compliant(cluster, dt.datetime(2026, 12, 16, 0, 0, 1, tzinfo=dt.UTC)))
    assert obligations(cluster)["systemic-risk/evaluation"] == "Expired"
    assert annotations_of(cluster)[COMPLIANCE] == "NonCompliant"
    assert [e["reason"] for e in cluster.events][-1] == "BecameNonCompliant"


def test_a_standby_replica_evaluates_but_writes_nothing_until_it_leads():
    cluster = started(*b.frontier(), b.workload(), leading=False)
    assert cluster.writes == []
    assert cluster.events == []
    assert cluster.runtime.verdicts[(NS, MODEL)].compliant
    cluster.leading = True
    cluster.reconciler.leadership_changed(True)
    asyncio.run(cluster.settle())
    assert conditions(cluster)["Compliant"]["status"] == "True"
    assert annotations_of(cluster)[COMPLIANCE] == "Compliant"


def test_a_leader_that_loses_the_lease_while_its_status_patch_is_in_flight_posts_no_event():
    cluster = FakeCluster(b.NOW)
    for obj in (*b.frontier(), b.workload()):
        cluster.create(obj)
    patch_status = cluster.patch_status

    async def lose_the_lease_meanwhile(namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = await patch_status(namespace, name, body)
        cluster.leading = False  # paused while the patch was in flight; another replica took over
        return answer

    cluster.patch_status = lose_the_lease_meanwhile  # type: ignore[method-assign]
    cluster.start()
    asyncio.run(cluster.settle())
    assert conditions(cluster)["Compliant"]["status"] == "True"  # the patch in flight went through
    assert cluster.events == []  # but nothing was sent after it


def test_a_stale_status_from_before_a_restart_is_corrected_without_a_duplicate_event():
    stale = b.model()
    stale["status"] = {
        "conditions": [
            {
                "type": "Compliant",
                "status": "False",
                "reason": "ObligationsUnmet",
                "message": "old",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ]
    }
    cluster = started(stale)
    assert conditions(cluster)["Compliant"]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert conditions(cluster)["Compliant"]["message"] != "old"
    assert cluster.events == []  # it was already non-compliant: no transition


def test_a_policy_selecting_the_namespace_changes_the_status():
    cluster = started(b.namespace(NS, team="ml"), *b.frontier())
    assert conditions(cluster)["Compliant"]["status"] == "True"
    extra = {"obligations": ["copyright/policy"], "additionalRequiredFields": []}
    cluster.add(b.policy("strict", namespaceSelector={"matchLabels": {"team": "ml"}}, **extra))
    assert "policy strict" in conditions(cluster)["Ready"]["message"]
    cluster.add(b.policy("other", namespaceSelector={"matchLabels": {"team": "nobody"}}))
    assert "policy other" not in conditions(cluster)["Ready"]["message"]


def test_a_model_the_engine_cannot_read_is_not_ready():
    broken = b.without(b.model(), "spec.modelName")
    cluster = started(broken)
    ready = conditions(cluster)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "modelName" in ready["message"]


# ---- issue 10: the version history and serious incidents ---------------------------------------------
def test_the_version_history_follows_the_model_into_its_status():
    cluster = started(*b.frontier())
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["versions"] == [
        {"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z"}
    ]
    cluster.clock.advance(dt.timedelta(days=3))
    cluster.update("GPAIModel", NS, MODEL, {"spec": {"version": "3.2"}})
    asyncio.run(cluster.settle())
    assert cluster.get("GPAIModel", NS, MODEL)["status"]["versions"] == [
        {"version": "3.1", "firstSeen": "2026-11-28T12:30:00Z", "superseded": "2026-12-01T12:30:00Z"},
        {"version": "3.2", "firstSeen": "2026-12-01T12:30:00Z"},
    ]
    # 3.1 was on the market and its documentation is still there: nothing missing but 3.2's own
    assert obligations(cluster)["transparency/documentation-retention"] == "Met"
    retention = next(
        o
        for o in cluster.get("GPAIModel", NS, MODEL)["status"]["obligations"]
        if o["id"] == "transparency/documentation-retention"
    )
    # the recorded history came back through the watch and was evaluated again
    assert (
        "version 3.1 (on the market until 2026-12-01, to be kept through 2036-12-01)" in retention["message"]
    )
    cluster.delete("ModelDocumentation", NS, f"{MODEL}-3.1")
    asyncio.run(cluster.settle())
    assert obligations(cluster)["transparency/documentation-retention"] == "Missing"
    assert cluster.runtime.state.versions_of((NS, MODEL))[0].superseded == "2026-12-01T12:30:00Z"


def test_a_model_the_engine_cannot_read_keeps_its_version_history():
    cluster = started(*b.frontier())
    history = cluster.get("GPAIModel", NS, MODEL)["status"]["versions"]
    cluster.update("GPAIModel", NS, MODEL, {"spec": {"modelName": None}})
    asyncio.run(cluster.settle())
    status = cluster.get("GPAIModel", NS, MODEL)["status"]
    assert status["conditions"][0]["reason"] == "InvalidSpec"
    assert status["versions"] == history


def incident_status(cluster: FakeCluster, name: str = "acme-incident") -> dict:
    return cluster.get("SeriousIncident", NS, name).get("status", {})


def test_an_incidents_status_says_the_next_report_and_the_clock_makes_it_late():
    cluster = started(*b.frontier(), b.incident(aware="2026-11-24"), b.workload())  # initial due 2026-11-29
    status = incident_status(cluster)
    assert (status["nextReport"], status["nextDeadline"]) == ("Initial", "2026-11-29")
    [timely] = status["conditions"]
    assert (timely["type"], timely["status"], timely["reason"]) == ("Timely", "True", "ReportsOnTime")
    assert (
        timely["message"]
        == "every report so far made by its deadline; next: initial report due by 2026-11-29"
    )
    assert obligations(cluster)["systemic-risk/incident-timeliness"] == "Met"
    assert cluster.reconciler.next_review() == dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    writes = len(cluster.writes)
    cluster.reconciler.enqueue_all()
    asyncio.run(cluster.settle())
    assert len(cluster.writes) == writes, "nothing rewritten while nothing changed"

    asyncio.run(run_until_non_compliant(cluster, dt.datetime(2026, 11, 30, 0, 0, 1, tzinfo=dt.UTC)))
    assert obligations(cluster)["systemic-risk/incident-timeliness"] == "Failed"
    assert annotations_of(cluster)[COMPLIANCE] == "NonCompliant"
    [late] = incident_status(cluster)["conditions"]
    assert (late["status"], late["reason"]) == ("False", "DeadlineMissed")
    assert "initial report due by 2026-11-29 (aware 2026-11-24 + 5 days) not made" in late["message"]

    # The report, made late: still Failed; the next report is the intermediate one.
    cluster.update("SeriousIncident", NS, "acme-incident", {"spec": {"initialReport": "2026-11-30"}})
    asyncio.run(cluster.settle())
    status = incident_status(cluster)
    assert (status["nextReport"], status["nextDeadline"], status["observedGeneration"]) == (
        "Intermediate",
        "2026-12-28",
        2,
    )
    assert obligations(cluster)["systemic-risk/incident-timeliness"] == "Failed"


def test_a_status_edited_by_hand_on_an_incident_is_put_back():
    cluster = started(*b.frontier(), b.incident(aware="2026-11-24"))
    cluster.update("SeriousIncident", NS, "acme-incident", {"status": {"nextDeadline": "2027-01-01"}})
    asyncio.run(cluster.settle())
    assert incident_status(cluster)["nextDeadline"] == "2026-11-29"


def test_deleting_an_incident_reevaluates_its_model():
    cluster = started(*b.frontier(), b.incident(aware="2026-11-01"))
    assert conditions(cluster)["Compliant"]["status"] == "False"
    cluster.delete("SeriousIncident", NS, "acme-incident")
    asyncio.run(cluster.settle())
    assert conditions(cluster)["Compliant"]["status"] == "True"
    assert cluster.observed.incident_status == {}


def test_retries_of_one_object_back_off_exponentially_and_start_over_after_a_success():
    cluster = FakeCluster(b.NOW)
    writes = cluster.reconciler.writes
    assert writes is not None
    key = ("workload", "Deployment", NS, "chat")
    throttled = ApiError("PATCH", "/apis/apps/v1/namespaces/ml/deployments/chat", 429, "TooManyRequests", "")

    async def delays_of(failures: int) -> list[float]:
        loop, seen = asyncio.get_running_loop(), []
        for _ in range(failures):
            before = set(writes._retry_handles)
            writes._failed(key, throttled, lambda: None)
            (handle,) = writes._retry_handles - before
            seen.append(round(handle.when() - loop.time(), 1))
        return seen

    async def scenario() -> tuple[list[float], list[float]]:
        first = await delays_of(4)
        writes.succeeded(key)
        again = await delays_of(1)
        writes.cancel_retries()
        return first, again

    first, again = asyncio.run(scenario())
    base = writes.retry_delay
    assert first == [base, base * 2, base * 4, base * 8]
    assert again == [base]


class SlowToCancelClock:
    """A clock whose sleepers take a moment to tidy up when cancelled, as real cleanup may."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now

    async def sleep_until(self, when: dt.datetime) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)
            raise


def test_a_reconciler_cancelled_while_it_tidies_up_after_a_wake_up_stops():
    """A cancellation that arrives while the reconciler waits for its cancelled sleeper must end it
    (swallowing it left a cancelled reconciler waiting for work, and the operator's stop hung)."""
    cluster = started(*b.frontier(), b.workload())
    reconciler = cluster.reconciler
    cluster.runtime.clock = SlowToCancelClock(b.NOW)

    async def scenario() -> bool:
        worker = asyncio.create_task(reconciler.run())
        await asyncio.sleep(0.01)  # idle: waiting for a wake-up or the next review
        reconciler._wake.set()  # woken: it cancels its sleeper and waits for it to finish
        await asyncio.sleep(0.02)
        worker.cancel()  # meanwhile
        done, _ = await asyncio.wait({worker}, timeout=1)
        return bool(done)

    assert asyncio.run(scenario()), "the cancelled reconciler kept running"


# ---- writes in flight: a pass does not wait for them, an object is never written twice at once ----
async def _until(condition: Any, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


def test_a_pass_does_not_wait_for_its_writes():
    async def scenario() -> None:
        cluster = started_in_loop(*b.frontier())
        await cluster.settle()
        cluster.held.add(("Deployment", NS, "slow"))
        cluster.create(b.workload(name="slow"))
        await cluster.reconciler.reconcile_once()  # hands the held patch out and returns
        await _until(lambda: cluster.in_flight == 1, "the patch in flight")
        assert not cluster.reconciler.idle
        cluster.create(b.workload(name="quick"))
        await cluster.reconciler.reconcile_once()
        await _until(lambda: COMPLIANCE in annotations_of(cluster, name="quick"), "quick annotated")
        assert COMPLIANCE not in annotations_of(cluster, name="slow")  # still in flight
        cluster.release()
        await cluster.settle()
        assert annotations_of(cluster, name="slow")[COMPLIANCE] == "Compliant"
        assert len(cluster.written("workload")) == 2  # one patch each
        assert cluster.get("GPAIModel", NS, MODEL)["status"]["workloads"] == 2

    asyncio.run(scenario())


def test_an_object_queued_again_while_its_write_is_in_flight_is_written_after_it_answers():
    async def scenario() -> None:
        cluster = started_in_loop(*b.frontier(), b.model(name="other"))
        await cluster.settle()
        cluster.held.add(("Deployment", NS, "chat"))
        cluster.create(b.workload())
        await cluster.reconciler.reconcile_once()
        # the workload moves to a non-compliant model while its first patch is out
        cluster.update("Deployment", NS, "chat", {"metadata": {"labels": {"gpai.dev/model": "other"}}})
        await cluster.reconciler.reconcile_once()
        await asyncio.sleep(0)
        assert len(cluster.written("workload")) == 1  # not a second patch beside the first
        cluster.release()
        await cluster.settle()
        patches = [body for _, key, body in cluster.written("workload") if key[2] == "chat"]
        assert [p["metadata"]["annotations"][COMPLIANCE] for p in patches] == ["Compliant", "NonCompliant"]
        assert annotations_of(cluster)[COMPLIANCE] == "NonCompliant"

    asyncio.run(scenario())


def test_writes_in_flight_are_bounded():
    async def scenario() -> None:
        cluster = started_in_loop(*b.frontier())
        await cluster.settle()
        cluster.hold_all = True
        for index in range(50):
            cluster.create(b.workload(name=f"w{index}"))
        handing_out = asyncio.create_task(cluster.reconciler.reconcile_once())
        await _until(lambda: cluster.in_flight == 32, "32 patches in flight")
        await asyncio.sleep(0.01)
        assert cluster.in_flight == 32
        assert not handing_out.done()  # the other 18 wait for a slot
        cluster.release()
        await handing_out
        await cluster.settle()
        assert cluster.most_in_flight == 32
        assert len(cluster.written("workload")) == 50

    asyncio.run(scenario())


def started_in_loop(*objs: dict) -> FakeCluster:
    """A started cluster to settle inside a running loop (the writes are tasks on it)."""
    return FakeCluster(b.NOW).load(objs)


def test_once_converged_what_was_seen_and_what_is_wanted_are_held_once():
    cluster = started(*b.frontier(), b.workload())
    key = (NS, MODEL)
    assert cluster.observed.model_status[key] is cluster.desired.model_status[key]
    workload = ("Deployment", NS, "chat")
    assert cluster.observed.marks[workload] is cluster.desired.marks[workload]
    # an edit by hand is seen as it is, and put back
    cluster.update("Deployment", NS, "chat", {"metadata": {"annotations": {COMPLIANCE: "Exempt"}}})
    assert cluster.observed.marks[workload] is not cluster.desired.marks[workload]
    asyncio.run(cluster.settle())
    assert annotations_of(cluster)[COMPLIANCE] == "Compliant"
