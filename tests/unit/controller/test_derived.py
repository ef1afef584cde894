"""Objects derived wholly from the state (controller/derived.py), against the in-memory API: the
AdmissionVerdicts of the native gate, and a toy cluster-scoped kind without status."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import Mapping

import pytest

from gpai_operator.api.verdicts import NAME
from gpai_operator.controller.derived import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    DerivedKind,
    DerivedSource,
    Manifest,
    complete,
)
from gpai_operator.controller.derived_kinds import admission_verdicts
from gpai_operator.controller.kube import ApiError
from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b

NS, MODEL = b.NS, b.MODEL
VERDICTS = "AdmissionVerdicts"


def started(*objs: dict, derived: list[DerivedSource] | None = None, leading: bool = True) -> FakeCluster:
    cluster = FakeCluster(
        b.NOW, leading=leading, derived=derived or [admission_verdicts()], retry_delay=0.01
    ).load(objs)
    asyncio.run(cluster.settle())
    return cluster


def restarted(cluster: FakeCluster, derived: list[DerivedSource] | None = None) -> FakeCluster:
    """A new operator over what the cluster holds (its own objects included), as after a restart."""
    again = FakeCluster(cluster.clock.now(), derived=derived or [admission_verdicts()], retry_delay=0.01)
    again.load(list(cluster.objects.values()))
    asyncio.run(again.settle())
    return again


def verdicts(cluster: FakeCluster, namespace: str = NS) -> dict:
    return cluster.get(VERDICTS, namespace, NAME)


def test_every_covered_namespace_gets_its_verdicts_with_status_and_the_managed_by_label():
    cluster = started(
        b.namespace(NS),
        b.namespace("empty"),
        b.namespace("kube-system"),
        b.model(),
        b.policy("enforce", ["Deny"], requireModelLabel=True),
    )
    assert set(cluster.of_kind(VERDICTS)) == {(NS, NAME), ("empty", NAME)}  # kube-system is excluded
    ours = verdicts(cluster)
    assert ours["metadata"]["labels"] == {MANAGED_BY_LABEL: MANAGED_BY}
    assert ours["spec"]["models"] == {MODEL: b.VERSION}
    assert ours["spec"]["deny"]["models"][MODEL]["policies"] == ["enforce"]
    assert ours["spec"]["deny"]["unlabelled"] == ["enforce"]
    assert ours["status"]["evaluated"] == "2026-11-28T12:30:00Z"
    assert (ours["status"]["models"], ours["status"]["denied"], ours["status"]["warned"]) == (1, 1, 0)
    empty = verdicts(cluster, "empty")
    assert empty["spec"]["models"] == {}
    assert empty["status"]["models"] == 0
    # written whole: one apply of the object, one of its status, each
    assert sorted(op for op, key, _ in cluster.written("apply", "apply-status") if key[1] == NS) == [
        "apply",
        "apply-status",
    ]
    assert "status" not in next(body for op, key, body in cluster.written("apply") if key[1] == NS)


def test_a_new_namespace_gets_its_verdicts_as_soon_as_it_appears():
    cluster = started(b.namespace(NS))
    cluster.add(b.namespace("team-b"))
    assert verdicts(cluster, "team-b")["spec"]["models"] == {}


def test_a_change_of_evidence_rewrites_the_verdicts_and_their_status():
    cluster = started(b.namespace(NS), b.model(), b.policy("enforce", ["Deny"]))
    assert MODEL in verdicts(cluster)["spec"]["deny"]["models"]
    before = len(cluster.writes)
    cluster.clock.advance(dt.timedelta(hours=1))
    cluster.add(*b.frontier()[1:])
    ours = verdicts(cluster)
    assert ours["spec"]["deny"]["models"] == {}
    assert ours["status"]["denied"] == 0
    assert ours["status"]["evaluated"] == "2026-11-28T13:30:00Z"
    assert ours["status"]["nextReview"] == cluster.get("GPAIModel", NS, MODEL)["status"]["nextReview"]
    ops = [op for op, key, _ in cluster.writes[before:] if key[0] == VERDICTS]
    assert ops == ["apply", "apply-status"]


def test_nothing_is_written_when_converged_nor_after_a_restart():
    cluster = started(b.namespace(NS), b.namespace("empty"), *b.frontier(), b.workload())
    writes = len(cluster.writes)
    cluster.clock.advance(dt.timedelta(hours=2))
    cluster.reconciler.enqueue_all()
    asyncio.run(cluster.settle())
    assert cluster.writes[writes:] == []

    again = restarted(cluster)
    assert again.writes == []  # the status and annotations converged too, so nothing at all


def test_a_change_that_moves_only_the_evaluation_time_writes_nothing():
    cluster = started(b.namespace(NS), b.model())
    writes = len(cluster.writes)
    cluster.clock.advance(dt.timedelta(minutes=5))
    cluster.update("GPAIModel", NS, MODEL, {"metadata": {"annotations": {"team": "chat"}}})
    cluster.add(b.namespace("other-team"))  # a real change of the state: everything worked out
    assert [key for _, key, _ in cluster.writes[writes:]] == [
        (VERDICTS, "other-team", NAME),
        (VERDICTS, "other-team", NAME),
    ]


def test_a_namespace_leaving_coverage_loses_its_object():
    cluster = started(b.namespace(NS), b.namespace("team-b"))
    uid = verdicts(cluster, "team-b")["metadata"]["uid"]
    again = restarted(cluster, [admission_verdicts(excluded=("kube-system", "team-b"))])
    assert set(again.of_kind(VERDICTS)) == {(NS, NAME)}
    assert again.written() == [("delete", (VERDICTS, "team-b", NAME), uid)]


def test_a_deleted_namespace_needs_no_verdicts_any_more():
    cluster = started(b.namespace(NS), b.namespace("team-b"))
    cluster.delete(VERDICTS, "team-b", NAME)  # the namespace controller empties it
    cluster.delete("Namespace", "", "team-b")
    asyncio.run(cluster.settle())
    assert set(cluster.of_kind(VERDICTS)) == {(NS, NAME)}


def test_verdicts_someone_deleted_or_edited_are_written_again():
    cluster = started(b.namespace(NS), b.model(), b.policy("enforce", ["Deny"]))
    wanted = verdicts(cluster)["spec"]
    cluster.delete(VERDICTS, NS, NAME)
    asyncio.run(cluster.settle())
    assert verdicts(cluster)["spec"] == wanted

    cluster.update(VERDICTS, NS, NAME, {"spec": {"deny": {"models": {}}}})
    asyncio.run(cluster.settle())
    assert verdicts(cluster)["spec"] == wanted

    cluster.update(VERDICTS, NS, NAME, {"status": {"denied": 0}})
    asyncio.run(cluster.settle())
    assert verdicts(cluster)["status"]["denied"] == 1


def test_objects_of_the_kind_that_are_not_the_operators_are_left_alone():
    foreign = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": VERDICTS,
        "metadata": {"name": "hand-made", "namespace": NS},
        "spec": {"models": {}},
    }
    cluster = started(b.namespace(NS), foreign)
    assert cluster.get(VERDICTS, NS, "hand-made") == cluster.objects[(VERDICTS, NS, "hand-made")]
    assert not [w for w in cluster.writes if w[1] == (VERDICTS, NS, "hand-made")]


def test_extra_labels_someone_added_are_theirs_and_cause_no_writes():
    cluster = started(b.namespace(NS))
    cluster.update(VERDICTS, NS, NAME, {"metadata": {"labels": {"backup": "daily"}}})
    writes = len(cluster.writes)
    cluster.reconciler.enqueue_all()
    asyncio.run(cluster.settle())
    assert cluster.writes[writes:] == []


def test_a_standby_replica_writes_nothing_and_on_leading_only_what_differs():
    cluster = started(b.namespace(NS), b.namespace("empty"))
    standby = FakeCluster(b.NOW, leading=False, derived=[admission_verdicts()])
    standby.load([*cluster.objects.values(), b.namespace("new-team")])
    asyncio.run(standby.settle())
    assert standby.writes == []
    assert standby.desired.derived  # it works them out all the same

    standby.leading = True
    standby.reconciler.leadership_changed(True)
    asyncio.run(standby.settle())
    assert {key for _, key, _ in standby.writes} == {(VERDICTS, "new-team", NAME)}


def test_leadership_lost_between_the_object_and_its_status_stops_the_second_request():
    cluster = started(b.namespace(NS))
    real = cluster.apply_derived

    async def apply_then_lose(kind, body):
        answer = await real(kind, body)
        cluster.leading = False
        return answer

    cluster.apply_derived = apply_then_lose  # type: ignore[method-assign]
    cluster.add(b.namespace("team-b"))
    assert [op for op, key, _ in cluster.writes if key[1] == "team-b"] == ["apply"]


def test_a_failed_write_is_tried_again():
    async def scenario() -> FakeCluster:
        cluster = FakeCluster(b.NOW, derived=[admission_verdicts()], retry_delay=0.01)
        cluster.create(b.namespace(NS))
        cluster.fail_next = ApiError(
            "PATCH", "/apis/gpai.dev", 503, "ServiceUnavailable", "etcd leader change"
        )
        cluster.start()
        worker = asyncio.create_task(cluster.reconciler.run())
        for _ in range(200):
            if (VERDICTS, NS, NAME) in cluster.objects and "status" in verdicts(cluster):
                break
            await asyncio.sleep(0.01)
        worker.cancel()
        return cluster

    cluster = asyncio.run(scenario())
    assert verdicts(cluster)["status"]["models"] == 0


def test_verdicts_are_rewritten_at_their_next_review():
    cluster = started(b.namespace(NS), *b.frontier(), b.policy("enforce", ["Deny"]))
    ours = verdicts(cluster)
    assert ours["spec"]["deny"]["models"] == {}
    next_review = dt.datetime.fromisoformat(ours["status"]["nextReview"].replace("Z", "+00:00"))

    async def run_past(when: dt.datetime) -> None:
        worker = asyncio.create_task(cluster.reconciler.run())
        await asyncio.sleep(0.02)
        cluster.clock.set(when)
        for _ in range(200):
            if verdicts(cluster)["status"]["nextReview"] != ours["status"]["nextReview"]:
                break
            await asyncio.sleep(0.01)
        worker.cancel()

    asyncio.run(run_past(next_review + dt.timedelta(seconds=1)))
    assert verdicts(cluster)["status"]["nextReview"] != ours["status"]["nextReview"]
    assert verdicts(cluster)["status"]["evaluated"] == (next_review + dt.timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_a_late_echo_of_an_earlier_write_is_not_news():
    cluster = started(b.namespace(NS))
    first_echo = copy.deepcopy(next(body for op, key, body in cluster.writes if op == "apply"))
    first_echo["metadata"]["uid"] = verdicts(cluster)["metadata"]["uid"]
    applied_version = cluster.observed.derived_written[((b.GPAI, VERDICTS), (NS, NAME))][0]
    first_echo["metadata"]["resourceVersion"] = applied_version
    cluster.sync.upsert(first_echo)  # the object without its status, as the first write left it
    assert cluster.reconciler.idle
    assert "status" in cluster.observed.derived[(b.GPAI, VERDICTS)][(NS, NAME)]


def test_a_failing_source_writes_and_deletes_nothing(caplog: pytest.LogCaptureFixture):
    cluster = started(b.namespace(NS), b.namespace("team-b"))
    broken = DerivedSource(admission_verdicts().kind, _raises)
    again = restarted(cluster, [broken])
    assert again.writes == []
    assert set(again.of_kind(VERDICTS)) == {(NS, NAME), ("team-b", NAME)}
    assert "derived objects not worked out" in caplog.text


def _raises(state: ClusterState, verdicts: Mapping[ModelKey, ModelVerdict], now: dt.datetime) -> dict:
    raise RuntimeError("a bug")


# ---- the mechanism for any kind: a cluster-scoped one without status --------------------------------
SUMMARY = DerivedKind("reports.example/v1", "Summary", "summaries", namespaced=False)


def summaries(state: ClusterState, verdicts: Mapping[ModelKey, ModelVerdict], now: dt.datetime):
    """One Summary per model, with its compliance."""
    return {
        ("", f"{ns}-{name}"): {"results": {"compliant": verdict.compliant}}
        for (ns, name), verdict in verdicts.items()
    }


def test_any_kind_plugs_in_with_a_descriptor_and_a_pure_function():
    source = DerivedSource(SUMMARY, summaries)
    cluster = started(b.namespace(NS), b.model(), derived=[source])
    summary = cluster.get("Summary", "", f"{NS}-{MODEL}")
    assert summary["results"] == {"compliant": False}
    assert summary["metadata"]["labels"] == {MANAGED_BY_LABEL: MANAGED_BY}
    assert "namespace" not in summary["metadata"]

    cluster.add(*b.frontier()[1:])
    assert cluster.get("Summary", "", f"{NS}-{MODEL}")["results"] == {"compliant": True}

    cluster.delete("GPAIModel", NS, MODEL)
    asyncio.run(cluster.settle())
    assert cluster.of_kind("Summary") == {}


def test_a_manifest_naming_another_object_is_refused():
    with pytest.raises(ValueError, match=r"Summary other: metadata.name is 'wrong'"):
        complete(SUMMARY, ("", "other"), {"metadata": {"name": "wrong"}})
    with pytest.raises(ValueError, match="cluster-scoped"):
        complete(SUMMARY, ("ml", "other"), {})
    made: Manifest = complete(SUMMARY, ("", "ok"), {"results": {}})
    assert made["apiVersion"] == "reports.example/v1"


def test_a_workload_change_works_out_again_only_the_kinds_that_read_workloads():
    calls: dict[str, int] = {"verdicts": 0, "summaries": 0}
    plain = admission_verdicts()

    def counted(name: str, desire):
        def desired(state, verdicts, now):
            calls[name] += 1
            return desire(state, verdicts, now)

        return desired

    verdicts_source = DerivedSource(
        plain.kind, counted("verdicts", plain.desired), plain.stamps, workloads=False
    )
    summary_source = DerivedSource(SUMMARY, counted("summaries", summaries))
    cluster = started(b.namespace(NS), derived=[verdicts_source, summary_source])
    before = dict(calls)
    cluster.add(b.workload(model_name=None))  # unlabelled: no model to evaluate again
    assert calls["verdicts"] == before["verdicts"]
    assert calls["summaries"] > before["summaries"]


def test_an_operator_serving_some_namespaces_writes_verdicts_only_there():
    cluster = started(b.namespace(NS), b.namespace("elsewhere"), derived=[admission_verdicts(scope=[NS])])
    assert set(cluster.of_kind(VERDICTS)) == {(NS, NAME)}


def test_a_namespace_being_deleted_gets_no_retries(caplog: pytest.LogCaptureFixture):
    cluster = started(b.namespace(NS))
    cluster.fail_next = ApiError(
        "PATCH",
        "/apis/gpai.dev/v1alpha1/namespaces/going/admissionverdicts/gpai-verdicts",
        403,
        "Forbidden",
        'admissionverdicts.gpai.dev "gpai-verdicts" is forbidden: unable to create new content in '
        "namespace going because it is being terminated",
    )
    cluster.add(b.namespace("going"))
    assert "write failed" not in caplog.text
    assert not cluster.reconciler.writes._retry_handles


def test_verdicts_deleted_while_unwatched_are_written_again_after_the_next_listing():
    from gpai_operator.controller.listing import forget_unlisted

    cluster = started(b.namespace(NS), b.namespace("team-b"))
    cluster.objects.pop((VERDICTS, NS, NAME))  # deleted while no watch was running: no event
    # The next listing mentions only what is left.
    assert forget_unlisted(cluster.sync, "gpai.dev/v1alpha1", VERDICTS, None, {("team-b", NAME)}) == 1
    asyncio.run(cluster.settle())
    assert (VERDICTS, NS, NAME) in cluster.objects
