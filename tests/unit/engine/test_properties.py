"""Properties that must hold for any cluster: more evidence never hurts, a waiver never denies,
and the aggregate never looks better than a single policy's view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpai_operator import objects
from gpai_operator.api.evaluation import SPECIFIED_RISKS
from gpai_operator.api.gpaimodel import CHAPTERS
from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.engine.evaluate import decide_workload, evaluate_all, evaluate_model
from gpai_operator.engine.state import ClusterState
from gpai_operator.engine.verdicts import FAILING, SEVERITY, ModelVerdict

from .builders import (
    MODEL,
    NS,
    TODAY,
    cluster,
    copyright_policy,
    documentation,
    evaluation,
    incident,
    model,
    namespace,
    patched,
    policy,
    without,
    workload,
)

PROPERTIES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECISION_STRENGTH = {"Allow": 0, "Warn": 1, "Deny": 2}
RISKS = [*SPECIFIED_RISKS, "Other"]


def dates(low: int = -500, high: int = 500) -> st.SearchStrategy[dt.date]:
    return st.integers(low, high).map(lambda n: TODAY + dt.timedelta(days=n))


def iso(day: dt.date) -> str:
    return day.isoformat()


@st.composite
def gpai_models(draw: st.DrawFn) -> dict[str, Any]:
    obj = model(flops=draw(st.sampled_from([1e23, 9e24, 1e25, 5e25])))
    spec = obj["spec"]
    spec["license"] = {
        "openSource": draw(st.booleans()),
        "weightsPublic": draw(st.booleans()),
        "monetised": draw(st.booleans()),
    }
    spec["provider"]["establishedInEU"] = draw(st.booleans())
    representative = draw(st.sampled_from([None, {"name": "Rep"}, {"name": "Rep", "contact": "rep@x.eu"}]))
    if representative:
        spec["provider"]["authorisedRepresentative"] = representative
    market = draw(st.sampled_from([None, "2024-05-01", "2025-08-01", "2025-08-02", "2026-01-01"]))
    if market is None:
        del spec["euMarketDate"]
    else:
        spec["euMarketDate"] = market
    if draw(st.booleans()):
        del spec["copyrightPolicyRef"]
    spec["trainingContentSummary"]["updated"] = iso(draw(dates()))
    spec["provider"]["codeOfPractice"] = {
        field: adherence
        for field in ("transparency", "copyright", "safetyAndSecurity")
        if (adherence := draw(st.sampled_from([None, "Signatory", "NonSignatory"]))) is not None
    }
    spec["provider"]["alternativeMeans"] = [
        {"chapter": chapter, "document": {"url": f"https://acme.example/{chapter}"}}
        for chapter in draw(st.sets(st.sampled_from(CHAPTERS)))
    ]
    risk = spec["systemicRisk"]
    risk["designated"] = draw(st.booleans())
    # Art. 52(1): threshold met around today, so the two weeks to notify are sometimes still running
    threshold_met = draw(st.one_of(st.none(), dates(-40, 20)))
    if threshold_met is not None:
        risk["thresholdMet"] = iso(threshold_met)
        risk["notified"] = iso(threshold_met + dt.timedelta(days=draw(st.integers(-5, 30))))
    outcome = draw(st.sampled_from([None, "Pending", "Accepted", "Rejected"]))
    if outcome is not None:
        risk["rebuttal"] = {"submitted": "2025-07-25", "outcome": outcome}
    risk["framework"]["assessed"] = iso(draw(dates(-500, 0)))
    risk["modelReport"]["updated"] = iso(draw(dates(-300, 0)))
    for part in draw(
        st.sets(st.sampled_from(["notified", "framework", "incidentReporting", "cybersecurity"]))
    ):
        del risk[part]
    if draw(st.integers(0, 3)) == 0:  # sometimes a fine-tune of another provider's model
        spec["derivedFrom"] = {
            "modelName": "Base-LLM",
            "provider": "Base Labs",
            **({"trainingFlops": f} if (f := draw(st.sampled_from([None, 3e24, 3e25]))) else {}),
            **({"documentation": {"url": "https://base.example/card"}} if draw(st.booleans()) else {}),
        }
        if (flops := draw(st.sampled_from([None, 1e22, 1e24, 2e25]))) is not None:
            spec["modificationCompute"] = {"flops": flops}
    return obj


@st.composite
def incidents(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A serious incident around today, its reports made (on time or not) or still owed."""
    aware = draw(dates(-150, 5))
    reports: dict[str, Any] = {}
    last = aware
    if draw(st.booleans()):
        last = aware + dt.timedelta(days=draw(st.integers(0, 20)))
        reports["initialReport"] = iso(last)
        intermediate = []
        for _ in range(draw(st.integers(0, 3))):
            last = last + dt.timedelta(days=draw(st.integers(1, 35)))
            intermediate.append(iso(last))
        if intermediate:
            reports["intermediateReports"] = intermediate
    if draw(st.booleans()):
        resolved = last + dt.timedelta(days=draw(st.integers(0, 40)))
        reports["resolved"] = iso(resolved)
        if draw(st.booleans()):
            reports["finalReport"] = iso(resolved + dt.timedelta(days=draw(st.integers(0, 70))))
    category = draw(st.sampled_from(["CriticalInfrastructure", "Cybersecurity", "Death", "Other"]))
    return incident(f"incident-{index}", category=category, aware=iso(aware), **reports)


DOC_FIELDS = [
    "spec.general.legalName",
    "spec.properties.architecture",
    "spec.use.integrationMeans",
    "spec.energy",
    "spec.systemicRisk",
    "spec.contact",
]


@st.composite
def documentations(draw: st.DrawFn, index: int) -> dict[str, Any]:
    doc = documentation(
        name=f"doc-{index}",
        version=draw(st.sampled_from(["3.1", "3.0"])),
        last_updated=iso(draw(dates(-400, 0))),
    )
    return without(doc, *draw(st.sets(st.sampled_from(DOC_FIELDS), max_size=3)))


@st.composite
def copyright_policies(draw: st.DrawFn) -> dict[str, Any]:
    obj = copyright_policy(review_by=iso(draw(dates(-100, 400))))
    for field in ("respectsRobotsTxt", "respectsPaywalls", "excludesInfringingSites"):
        choice = draw(st.sampled_from([True, False, None]))
        if choice is None:
            del obj["spec"]["crawling"][field]
        else:
            obj["spec"]["crawling"][field] = choice
    return obj


@st.composite
def evaluations(draw: st.DrawFn, name: str, valid_on: dt.date | None = None) -> dict[str, Any]:
    if valid_on is None:
        completed = draw(dates(-600, 100))
        valid_until = completed + dt.timedelta(days=draw(st.integers(0, 500)))
        version = draw(st.sampled_from(["3.1", "3.1", "3.0"]))
        outcome = draw(st.sampled_from(["Acceptable", "Acceptable", "Unacceptable"]))
    else:
        completed = valid_on - dt.timedelta(days=draw(st.integers(0, 300)))
        valid_until = valid_on + dt.timedelta(days=draw(st.integers(0, 300)))
        version, outcome = "3.1", "Acceptable"
    return evaluation(
        name,
        draw(st.lists(st.sampled_from(RISKS), min_size=1, max_size=5, unique=True)),
        type=draw(st.sampled_from(["Evaluation", "AdversarialTesting"])),
        completed=iso(completed),
        valid_until=iso(valid_until),
        outcome=outcome,
        version=version,
    )


@st.composite
def policies(draw: st.DrawFn, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "obligations": draw(st.lists(st.sampled_from(POLICY_OBLIGATION_IDS), max_size=4, unique=True)),
        "requireModelLabel": draw(st.booleans()),
        "parameters": {
            "systemicRiskFlops": draw(st.sampled_from([1e24, 1e25, 1e26])),
            "frameworkMaxAgeDays": draw(st.sampled_from([90, 365])),
            "expiryWarningDays": draw(st.sampled_from([0, 30])),
            "legacyDeadline": draw(st.sampled_from(["2027-08-02", "2028-06-30"])),
            "requireSignatory": sorted(draw(st.sets(st.sampled_from(CHAPTERS), max_size=2))),
        },
        "exceptions": [
            {
                "namespace": NS,
                "model": draw(st.sampled_from([MODEL, "other"])),
                "obligations": draw(
                    st.lists(st.sampled_from(POLICY_OBLIGATION_IDS), max_size=3, unique=True)
                ),
                "reason": "agreed with the AI Office",
                "expires": iso(draw(dates(-100, 300))),
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
    }
    if draw(st.booleans()):
        spec["namespaceSelector"] = {"matchLabels": {"env": draw(st.sampled_from(["prod", "dev"]))}}
    actions = draw(st.sampled_from([["Deny"], ["Warn"], ["Audit"], ["Warn", "Audit"]]))
    return policy(f"policy-{index}", actions, **spec)


@st.composite
def clusters(draw: st.DrawFn) -> list[dict[str, Any]]:
    objs = [namespace(NS, env="prod"), draw(gpai_models())]
    objs += [draw(documentations(i)) for i in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        objs.append(draw(copyright_policies()))
    objs += [draw(evaluations(f"eval-{i}")) for i in range(draw(st.integers(0, 4)))]
    objs += [draw(incidents(i)) for i in range(draw(st.integers(0, 2)))]
    objs += [draw(policies(i)) for i in range(draw(st.integers(0, 3)))]
    objs.append(workload("Deployment", "chat"))
    objs.append(workload("Job", "batch", model_name=None))
    return objs


nows = st.builds(
    lambda days, hour: dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC),
    st.integers(-200, 700),
    st.integers(0, 23),
)


def build(objs: list[dict[str, Any]]) -> ClusterState:
    return cluster(objs)


def rank(status: str) -> int:
    """Higher is better."""
    return SEVERITY.index(status)


def statuses(result: ModelVerdict) -> dict[tuple[str, str], str]:
    return {(p.policy, o.id): o.status for p in result.policies for o in p.obligations}


@st.composite
def valid_artifacts(draw: st.DrawFn, objs: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """A new artifact that is complete and counts on `now` for the model's current version."""
    today = now.date()
    choices = ["documentation", "evaluation"]
    if not any(o["kind"] == "CopyrightPolicy" for o in objs):
        choices.append("copyright")
    match draw(st.sampled_from(choices)):
        case "documentation":
            return documentation(name="new-doc", last_updated=iso(draw(dates(-400, 400))))
        case "copyright":
            review_by = draw(st.one_of(st.none(), st.integers(0, 400)))
            obj = copyright_policy(review_by=iso(today + dt.timedelta(days=review_by or 0)))
            return obj if review_by is not None else without(obj, "spec.reviewBy")
    return draw(evaluations("new-eval", valid_on=today))


@PROPERTIES
@given(data=st.data(), objs=clusters(), now=nows)
def test_adding_a_valid_artifact_never_makes_a_model_less_compliant(data, objs, now):
    before_state = build(objs)
    before = evaluate_model(before_state, (NS, MODEL), now)
    artifact = data.draw(valid_artifacts(objs, now))
    after_state = build([*objs, artifact])
    after = evaluate_model(after_state, (NS, MODEL), now)

    assert not before.compliant or after.compliant
    old, new = statuses(before), statuses(after)
    for key, status in old.items():
        assert rank(new[key]) >= rank(status), (key, status, new[key], artifact)
    chat = objects.workload_from(objs[-2])
    was = decide_workload(before_state, chat, now).decision
    became = decide_workload(after_state, chat, now).decision
    assert DECISION_STRENGTH[became] <= DECISION_STRENGTH[was]


@PROPERTIES
@given(objs=clusters(), now=nows)
def test_a_waived_obligation_never_denies(objs, now):
    state = build(objs)
    result = evaluate_model(state, (NS, MODEL), now)
    for decision in evaluate_all(state, now).workloads:
        if decision.decision != "Deny" or decision.model is None:
            continue
        for obligation_id in decision.unmet:
            assert any(
                "Deny" in p.actions and o.id == obligation_id and o.status in FAILING
                for p in result.policies
                for o in p.obligations
            ), obligation_id
    for p in result.policies:
        assert not {o.id for o in p.obligations if o.status == "Waived"} & set(p.unmet)


@PROPERTIES
@given(objs=clusters(), now=nows)
def test_waiving_everything_under_every_policy_allows_the_workload(objs, now):
    blanket = {"namespace": NS, "model": MODEL, "reason": "pilot", "expires": iso(now.date())}
    waived = [
        patched(o, spec__exceptions=[*o["spec"].get("exceptions", []), blanket])
        if o["kind"] == "CompliancePolicy"
        else o
        for o in objs
    ]
    waived.append(policy("deny-everywhere", ["Deny"], exceptions=[blanket]))
    state = build(waived)
    result = evaluate_model(state, (NS, MODEL), now)
    assert result.compliant
    chat = decide_workload(state, objects.workload_from(objs[-2]), now)
    assert chat.decision == "Allow"
    assert chat.compliance == "Compliant"


@PROPERTIES
@given(objs=clusters(), now=nows)
def test_the_aggregate_status_is_never_better_than_any_single_policy(objs, now):
    result = evaluate_model(build(objs), (NS, MODEL), now)
    for shown in result.obligations:
        for p in result.policies:
            for o in p.obligations:
                if o.id == shown.id:
                    assert rank(shown.status) <= rank(o.status)
    assert result.compliant == all(p.compliant for p in result.policies)
    assert result.compliant == (not result.unmet)
    c = result.classification
    per_policy = [p.classification for p in result.policies]
    assert c.systemic_risk == any(x.systemic_risk for x in per_policy)
    assert c.legacy == all(x.legacy for x in per_policy)


@PROPERTIES
@given(objs=clusters(), now=nows)
def test_evaluate_all_agrees_with_the_single_calls(objs, now):
    state = build(objs)
    report = evaluate_all(state, now)
    assert report.models == (evaluate_model(state, (NS, MODEL), now),)
    for decision in report.workloads:
        one = decide_workload(state, state.workloads[(decision.kind, decision.namespace, decision.name)], now)
        assert one == decision


def assert_next_review_is_the_first_change(state: ClusterState, now: dt.datetime) -> None:
    result = evaluate_model(state, (NS, MODEL), now)
    if result.next_review is None:
        later = now + dt.timedelta(days=900)
    else:
        assert result.next_review > now
        later = result.next_review - dt.timedelta(microseconds=1)
    # Messages name fixed dates only, so the whole verdict stays identical until next_review.
    assert evaluate_model(state, (NS, MODEL), later) == result
    if result.next_review is not None:
        assert evaluate_model(state, (NS, MODEL), result.next_review) != result


@PROPERTIES
@given(objs=clusters(), now=nows)
def test_nothing_changes_before_next_review(objs, now):
    assert_next_review_is_the_first_change(build(objs), now)


@PROPERTIES
@given(objs=clusters(), now=nows, days_since_threshold=st.integers(-3, 20))
def test_next_review_follows_the_two_weeks_to_notify(objs, now, days_since_threshold):
    """The same property inside and around Art. 52(1)'s two weeks: not yet notified, on the compute
    route, the threshold met a few days before (or after) `now`."""
    threshold_met = now.date() - dt.timedelta(days=days_since_threshold)
    model_obj = patched(
        objs[1],
        spec__trainingCompute={"flops": 5e25},
        spec__systemicRisk__thresholdMet=iso(threshold_met),
    )
    risk = model_obj["spec"]["systemicRisk"]
    risk.pop("notified", None)
    risk.pop("rebuttal", None)
    assert_next_review_is_the_first_change(build([objs[0], model_obj, *objs[2:]]), now)
