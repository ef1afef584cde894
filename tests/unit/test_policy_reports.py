"""Policy reports say what the engine says, where compliance teams read it, the same on every pass."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from hypothesis import given

from gpai_operator.engine import PASSING, ClusterState, decide_workload, evaluate_model, selecting_policies
from gpai_operator.policy_reports import (
    BUILTIN_POLICY,
    NAME,
    OMITTED_ANNOTATION,
    OPENREPORTS,
    WGPOLICYK8S,
    fit,
    policy_reports,
    summary,
)
from tests.unit.engine.builders import (
    NOW,
    cluster,
    exception,
    frontier,
    namespace,
    patched,
    policy,
    small_model,
    workload,
)
from tests.unit.test_admission_verdicts import NAMESPACES, PROPERTIES, clusters, example_state, workloads

EXAMPLE_NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def results_of(report: dict[str, Any], kind: str | None = None, name: str | None = None) -> list[dict]:
    return [
        r
        for r in report["results"]
        if (kind is None or r["resources"][0]["kind"] == kind)
        and (name is None or r["resources"][0]["name"] == name)
    ]


def by_rule(results: list[dict]) -> dict[str, str]:
    return {r["rule"]: r["result"] for r in results}


# ---- which reports, named how --------------------------------------------------------------------
def test_one_report_per_namespace_and_one_for_the_cluster() -> None:
    reports = policy_reports(example_state(), EXAMPLE_NOW)

    assert sorted(reports) == [("", NAME), ("ml-research", NAME), ("prod-chat", NAME)]
    for (ns, name), report in reports.items():
        assert report["apiVersion"] == "openreports.io/v1alpha1"
        assert report["kind"] == ("Report" if ns else "ClusterReport")
        assert report["metadata"]["name"] == name == "gpai-operator"
        assert report["metadata"].get("namespace", "") == ns
        assert report["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "gpai-operator"}
        assert report["summary"] == summary(report["results"])
        assert {r["source"] for r in report["results"]} == {"gpai-operator"}


def test_the_wgpolicyk8s_format_has_the_same_content_under_its_own_kinds() -> None:
    state = example_state()
    openreports = policy_reports(state, EXAMPLE_NOW, report_format=OPENREPORTS)
    wgpolicyk8s = policy_reports(state, EXAMPLE_NOW, report_format=WGPOLICYK8S)

    assert openreports.keys() == wgpolicyk8s.keys()
    for key, report in wgpolicyk8s.items():
        assert report["apiVersion"] == "wgpolicyk8s.io/v1alpha2"
        assert report["kind"] == ("PolicyReport" if key[0] else "ClusterPolicyReport")
        strip = {"apiVersion", "kind"}
        assert {k: v for k, v in report.items() if k not in strip} == {
            k: v for k, v in openreports[key].items() if k not in strip
        }


def test_a_namespace_without_models_or_reported_workloads_has_no_report() -> None:
    state = cluster(namespace("empty"), frontier(), workload(name="plain", model_name=None, namespace="apps"))

    reports = policy_reports(state, NOW)

    assert sorted(reports) == [("", NAME), ("ml", NAME)]  # "apps": an unlabelled workload, no rule for it


def test_the_cluster_report_is_there_and_empty_without_models() -> None:
    reports = policy_reports(ClusterState(), NOW)

    assert reports == {
        ("", NAME): {
            "apiVersion": "openreports.io/v1alpha1",
            "kind": "ClusterReport",
            "metadata": {"name": NAME, "labels": {"app.kubernetes.io/managed-by": "gpai-operator"}},
            "summary": {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0},
            "results": [],
        }
    }


# ---- obligations ---------------------------------------------------------------------------------
def test_each_obligation_of_a_model_is_a_result_named_by_its_id_under_its_policy() -> None:
    state = cluster(frontier(), policy("enforce"))
    verdict = evaluate_model(state, ("ml", "acme"), NOW)

    results = results_of(policy_reports(state, NOW)[("ml", NAME)], "GPAIModel", "acme")

    applicable = [o for o in verdict.obligations if o.status != "NotApplicable"]
    assert [r["rule"] for r in results] == [o.id for o in applicable]
    assert {r["result"] for r in results} == {"pass"}
    assert {r["policy"] for r in results} == {"enforce"}
    assert {r["severity"] for r in results} == {"high"}  # a Deny policy
    first = results[0]
    assert first["message"] == applicable[0].message
    assert first["properties"]["legalBasis"] == applicable[0].basis
    assert first["properties"]["status"] == "Met"
    assert first["properties"]["modelVersion"] == "3.1"
    assert first["resources"] == [
        {"apiVersion": "gpai.dev/v1alpha1", "kind": "GPAIModel", "namespace": "ml", "name": "acme"}
    ]


def test_the_result_follows_the_status() -> None:
    waived = exception(["systemic-risk/evaluation"], expires="2027-01-31", version="3.1")
    state = cluster(
        [o for o in frontier() if o["kind"] != "RiskEvaluation"],  # evaluations Missing
        small_model("mini"),  # no systemic risk: those obligations do not apply
        patched(small_model("legacy"), spec__euMarketDate="2025-01-10"),  # legacy: Grace
        policy("enforce", exceptions=[waived]),
    )

    report = policy_reports(state, NOW)[("ml", NAME)]
    acme = by_rule(results_of(report, name="acme"))

    assert acme["systemic-risk/evaluation"] == "skip"  # Waived by the policy's exception
    assert acme["systemic-risk/adversarial-testing"] == "fail"  # Missing
    assert acme["transparency/technical-documentation"] == "pass"  # Met
    assert "systemic-risk/framework" not in by_rule(results_of(report, name="mini"))  # NotApplicable
    assert "warn" in by_rule(results_of(report, name="legacy")).values()  # Grace
    statuses = {
        (r["resources"][0]["name"], r["rule"]): (r["properties"]["status"], r["result"])
        for r in report["results"]
        if r["resources"][0]["kind"] == "GPAIModel"
    }
    expected = {"Met": "pass", "Grace": "warn", "Waived": "skip", "Exempt": "skip"}
    for status, result in statuses.values():
        assert result == expected.get(status, "fail"), status


def test_an_open_source_exemption_is_skipped() -> None:
    state = example_state()  # lumen-8b is open-source exempt

    lumen = results_of(policy_reports(state, EXAMPLE_NOW)[("ml-research", NAME)], "GPAIModel", "lumen-8b")

    exempt = [r for r in lumen if r["properties"]["status"] == "Exempt"]
    assert exempt
    assert {r["result"] for r in exempt} == {"skip"}


def test_the_expiry_of_evidence_is_a_property() -> None:
    state = cluster(frontier(), policy("enforce"))

    results = results_of(policy_reports(state, NOW)[("ml", NAME)], "GPAIModel")

    expires = {r["rule"]: r["properties"].get("expires") for r in results}
    assert expires["copyright/policy"] == "2027-06-30"  # the CopyrightPolicy's reviewBy
    assert dt.date.fromisoformat(expires["systemic-risk/evaluation"]) > NOW.date()


def test_a_model_under_two_policies_has_each_policys_view_and_severity() -> None:
    state = cluster(
        frontier()[:1],  # the model alone: its evidence is missing
        policy("enforce", ["Deny"]),
        policy("watch", ["Warn", "Audit"], obligations=["copyright/policy"]),
    )

    results = results_of(policy_reports(state, NOW)[("ml", NAME)], "GPAIModel")

    watch = [r for r in results if r["policy"] == "watch"]
    assert [(r["rule"], r["result"], r["severity"]) for r in watch] == [
        ("copyright/policy", "fail", "medium")
    ]
    assert {r["severity"] for r in results if r["policy"] == "enforce"} == {"high"}


def test_without_a_policy_the_built_in_default_is_named_and_only_audits() -> None:
    state = cluster(frontier()[:1])

    results = results_of(policy_reports(state, NOW)[("ml", NAME)])

    assert {r["policy"] for r in results} == {BUILTIN_POLICY}
    assert {r["severity"] for r in results} == {"low"}


# ---- workloads -----------------------------------------------------------------------------------
def test_each_gated_workload_is_a_result_with_its_decision() -> None:
    state = cluster(
        frontier()[:1],
        policy("enforce", requireModelLabel=True),
        workload(name="chat"),
        workload(name="ghost", model_name="nothing"),
        workload("Pod", name="notebook", model_name=None),
    )

    results = results_of(policy_reports(state, NOW)[("ml", NAME)])
    found = {
        (r["resources"][0]["kind"], r["resources"][0]["name"]): (r["rule"], r["result"], r["properties"])
        for r in results
        if r["resources"][0]["kind"] != "GPAIModel"
    }

    unmet = ",".join(evaluate_model(state, ("ml", "acme"), NOW).unmet)
    assert found == {
        ("Deployment", "chat"): (
            "workload/model-compliant",
            "fail",
            {"decision": "Deny", "model": "acme", "unmet": unmet},
        ),
        ("Deployment", "ghost"): (
            "workload/model-exists",
            "fail",
            {"decision": "Deny", "model": "nothing", "unmet": "workload/model-exists"},
        ),
        ("Pod", "notebook"): (
            "workload/model-declared",
            "fail",
            {"decision": "Deny", "unmet": "workload/model-declared"},
        ),
    }
    chat = next(r for r in results if r["resources"][0]["name"] == "chat")
    assert chat["resources"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "ml", "name": "chat"}
    ]
    assert "GPAIModel ml/acme version 3.1" in chat["message"]
    assert "the gate's decision: Deny" in chat["message"]


def test_a_workload_of_a_compliant_model_passes() -> None:
    state = cluster(frontier(), policy("watch", ["Warn"]), workload(name="chat"))

    (chat,) = results_of(policy_reports(state, NOW)[("ml", NAME)], "Deployment")

    assert (chat["rule"], chat["result"], chat["severity"]) == ("workload/model-compliant", "pass", "medium")
    assert chat["properties"] == {"decision": "Allow", "model": "acme"}


def test_workloads_gated_through_their_controller_and_unlabelled_ones_nobody_requires_are_left_out() -> None:
    deployment = patched(workload(name="chat"), metadata__uid="d-1")
    replica_set = patched(
        workload(
            "ReplicaSet",
            name="chat-5d8",
            controller="Deployment",
            controller_name="chat",
            controller_uid="d-1",
        ),
        metadata__uid="rs-1",
    )
    orphan = workload("ReplicaSet", name="forged", controller="Deployment", controller_name="gone")
    state = cluster(
        frontier(), policy("enforce"), deployment, replica_set, orphan, workload("Pod", "x", None)
    )

    results = results_of(policy_reports(state, NOW)[("ml", NAME)])

    reported = {(r["resources"][0]["kind"], r["resources"][0]["name"]) for r in results}
    assert reported - {("GPAIModel", "acme")} == {("Deployment", "chat"), ("ReplicaSet", "forged")}
    chat = next(r for r in results if r["resources"][0]["name"] == "chat")
    assert chat["resources"][0]["uid"] == "d-1"


# ---- the cluster summary -------------------------------------------------------------------------
def test_the_cluster_report_has_one_result_per_model_and_policy() -> None:
    state = example_state()

    cluster_report = policy_reports(state, EXAMPLE_NOW)[("", NAME)]

    found = {
        (r["resources"][0]["namespace"], r["resources"][0]["name"]): r for r in cluster_report["results"]
    }
    assert sorted(found) == sorted(state.models)
    borealis = found[("prod-chat", "borealis-1")]
    unmet = evaluate_model(state, ("prod-chat", "borealis-1"), EXAMPLE_NOW).unmet
    assert (borealis["rule"], borealis["result"], borealis["policy"]) == (
        "model/compliant",
        "fail",
        "eu-ai-act-enforce",
    )
    assert borealis["properties"]["unmet"] == ",".join(unmet)
    assert borealis["properties"]["report"] == "prod-chat/gpai-operator"
    assert cluster_report["summary"] == {"pass": 5, "fail": 2, "warn": 0, "error": 0, "skip": 0}


# ---- the same on every pass ----------------------------------------------------------------------
def test_the_same_state_gives_the_same_reports_and_the_clock_alone_changes_nothing_between_reviews() -> None:
    state = example_state()
    first = policy_reports(state, EXAMPLE_NOW)
    verdicts = {key: evaluate_model(state, key, EXAMPLE_NOW) for key in state.models}
    next_review = min(v.next_review for v in verdicts.values() if v.next_review)

    assert policy_reports(state, EXAMPLE_NOW, verdicts) == first
    assert policy_reports(state, next_review - dt.timedelta(seconds=1)) == first
    assert "timestamp" not in str(first)


def test_stale_verdicts_of_deleted_models_are_not_reported() -> None:
    state = cluster(frontier(), workload(name="chat"))
    verdicts = {("ml", "acme"): evaluate_model(state, ("ml", "acme"), NOW)}
    state.remove_model("ml", "acme")

    reports = policy_reports(state, NOW, verdicts)

    chat = by_rule(results_of(reports[("ml", NAME)]))
    assert chat == {"workload/model-exists": "fail"}
    assert reports[("", NAME)]["results"] == []


# ---- the size limit ------------------------------------------------------------------------------
def test_a_report_too_large_for_the_api_server_loses_messages_then_passing_results() -> None:
    results = [
        {"result": "pass", "message": "p" * 300},
        {"result": "fail", "message": "f" * 300},
        {"result": "skip", "message": "s" * 300},
    ]

    assert fit(results, budget=10_000) == (results, "")

    kept, omitted = fit(results, budget=600)
    assert [r["message"] for r in kept] == ["", "f" * 300, ""]
    assert "messages of passing and skipped results" in omitted

    kept, omitted = fit(results, budget=300)
    assert [r["message"] for r in kept] == ["", "f" * 199 + "\u2026", ""]

    kept, omitted = fit(results, budget=200)
    assert kept == [{"result": "fail", "message": "f" * 199 + "\u2026"}]
    assert omitted == "2 passing and skipped results, to fit the size limit"


def test_a_namespace_of_many_models_fits_and_says_what_it_left_out() -> None:
    state = cluster(*[small_model(f"m{i:03}") for i in range(300)], policy("enforce"))

    report = policy_reports(state, NOW)[("ml", NAME)]

    assert len(json.dumps(report["results"])) < 1_100_000
    assert OMITTED_ANNOTATION in report["metadata"]["annotations"]
    assert report["summary"] == summary(report["results"])
    assert report["summary"]["fail"] > 0


# ---- whatever the cluster --------------------------------------------------------------------------
@PROPERTIES
@given(clusters())
def test_every_report_says_what_the_engine_says(state: ClusterState) -> None:
    for ns in NAMESPACES:
        for w in workloads(ns):
            state.put_workload(w)
    reports = policy_reports(state, EXAMPLE_NOW)
    for ns in NAMESPACES:
        report = reports.get((ns, NAME))
        if report is None:
            assert not list(state.models_in(ns))
            continue
        assert report["summary"] == summary(report["results"])
        for key in state.models_in(ns):
            verdict = evaluate_model(state, key, EXAMPLE_NOW)
            failing = Counter(
                (r["policy"], r["rule"])
                for r in results_of(report, "GPAIModel", key[1])
                if r["result"] in ("fail", "warn")
            )
            expected = Counter(
                (p.policy or BUILTIN_POLICY, o.id)
                for p in verdict.policies
                for o in p.obligations
                if o.status not in PASSING or o.status == "Grace"
            )
            assert failing == expected
        for w in workloads(ns):
            decision = decide_workload(state, w, EXAMPLE_NOW)
            mine = results_of(report, "Deployment", w.name)
            assert {r["properties"]["decision"] for r in mine} <= {decision.decision}
            requiring = any(p.spec.require_model_label for p in selecting_policies(state, ns))
            assert bool(mine) == (w.model is not None or requiring)
            if decision.decision != "Allow":
                assert any(r["result"] == "fail" for r in mine)
