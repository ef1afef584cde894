"""The admission decision (SPEC section 4) as a pure function of review, state and now."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gpai_operator.admission.review import review
from gpai_operator.engine import WorkloadKinds
from tests.unit.admission.builders import (
    KINDS,
    MODEL,
    NAMESPACE,
    NOW,
    OPERATOR,
    SUMMARY_ONLY,
    encoded,
    model,
    namespace,
    policy,
    runtime,
    scale,
    workload,
)
from tests.unit.admission.builders import review as admission_review

ALL_KINDS = sorted(KINDS)


def answer_to(body: Any, rt: Any) -> Any:
    return review(body, rt, NOW)


def response_of(body: Any, rt: Any) -> dict[str, Any]:
    answer = answer_to(body, rt)
    assert answer.status == 200
    assert answer.body["apiVersion"] == "admission.k8s.io/v1"
    assert answer.body["kind"] == "AdmissionReview"
    assert answer.body["response"]["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    return answer.body["response"]


def deny_everywhere() -> Any:
    return runtime(model(systemic=True), policy("eu-ai-act", ["Deny"]))


# ---- CREATE --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_creating_a_workload_of_a_non_compliant_model_is_denied_with_the_reasons(kind: str) -> None:
    answer = answer_to(admission_review("CREATE", workload(kind)), deny_everywhere())

    response = answer.body["response"]
    assert response["allowed"] is False
    status = response["status"]
    assert (status["code"], status["reason"], status["status"]) == (403, "Forbidden", "Failure")
    message = status["message"]
    assert message.startswith(f"{kind} ml/chat is denied by policy eu-ai-act")
    assert f"GPAIModel {NAMESPACE}/{MODEL} version 3.1" in message
    # each unmet obligation on its own line, with its article and what to create
    assert "\n- systemic-risk/evaluation (Art. 55(1)(a)" in message
    assert "To fix: create a RiskEvaluation for model acme-llm version 3.1" in message
    assert "\n- transparency/technical-documentation (Art. 53(1)(a)" in message
    assert answer.outcome.kind == kind
    assert (answer.outcome.operation, answer.outcome.decision) == ("CREATE", "Deny")
    assert response["auditAnnotations"]["unmet"].split(",")[0] == "copyright/policy"
    assert answer.log["decision"] == "Deny"
    assert answer.log["model"] == MODEL


def test_creating_a_workload_of_a_compliant_model_is_allowed_silently() -> None:
    rt = runtime(model(summary=True), policy("summary", ["Deny"], obligations=SUMMARY_ONLY))

    answer = answer_to(admission_review("CREATE", workload("Deployment")), rt)

    assert answer.body["response"] == {"uid": answer.body["response"]["uid"], "allowed": True}
    assert answer.outcome.decision == "Allow"
    assert answer.log == {}


def test_a_model_that_does_not_exist_is_denied_under_deny() -> None:
    rt = runtime(policy("eu-ai-act", ["Deny"]))

    response = response_of(admission_review("CREATE", workload("Deployment", model="ghost")), rt)

    assert response["allowed"] is False
    assert "workload/model-exists" in response["status"]["message"]
    assert "GPAIModel ml/ghost does not exist" in response["status"]["message"]


def test_an_unlabelled_workload_is_allowed_unless_a_policy_requires_the_label() -> None:
    unlabelled = workload("Deployment", model=None)
    assert response_of(admission_review("CREATE", unlabelled), runtime(policy("p", ["Deny"])))["allowed"]

    strict = runtime(policy("p", ["Deny"], requireModelLabel=True))
    response = response_of(admission_review("CREATE", unlabelled), strict)
    assert response["allowed"] is False
    assert "workload/model-declared" in response["status"]["message"]


def test_warn_allows_with_the_same_text_split_into_one_warning_per_obligation() -> None:
    rt = runtime(model(systemic=True), policy("eu-ai-act", ["Warn"]))
    denied = response_of(admission_review("CREATE", workload("Deployment")), deny_everywhere())

    answer = answer_to(admission_review("CREATE", workload("Deployment")), rt)

    response = answer.body["response"]
    assert response["allowed"] is True
    warnings = response["warnings"]
    assert warnings[0].startswith("Deployment ml/chat is allowed with a warning by policy eu-ai-act")
    assert "kubectl describe gpai acme-llm -n ml" in warnings[0]
    unmet = response["auditAnnotations"]["unmet"].split(",")
    assert len(warnings) == 1 + len(unmet)
    for obligation, warning in zip(unmet, warnings[1:], strict=True):
        assert f"{obligation} (" in warning  # id and article
        assert "\n" not in warning
        # the same finding as the deny message gives for that obligation
        line = next(x for x in denied["status"]["message"].splitlines() if x.startswith(f"- {obligation} ("))
        assert line[2:].split(" To fix")[0][:100] in warning
    assert answer.outcome.decision == "Warn"
    assert answer.log["decision"] == "Warn"


def test_audit_allows_without_warnings_and_records_the_violation() -> None:
    rt = runtime(model(systemic=True), policy("eu-ai-act", ["Audit"]))

    answer = answer_to(admission_review("CREATE", workload("Deployment")), rt)

    response = answer.body["response"]
    assert response["allowed"] is True
    assert "warnings" not in response
    assert response["auditAnnotations"]["decision"] == "Audit"
    assert "systemic-risk/evaluation" in response["auditAnnotations"]["unmet"]
    assert answer.outcome.decision == "Audit"


def test_warn_and_audit_together_warn() -> None:
    rt = runtime(model(systemic=True), policy("eu-ai-act", ["Warn", "Audit"]))

    answer = answer_to(admission_review("CREATE", workload("Deployment")), rt)

    assert answer.body["response"]["warnings"]
    assert answer.outcome.decision == "Warn"


def test_without_any_policy_the_built_in_default_only_audits() -> None:
    answer = answer_to(admission_review("CREATE", workload("Deployment")), runtime(model(systemic=True)))

    assert answer.body["response"]["allowed"] is True
    assert "warnings" not in answer.body["response"]
    assert answer.outcome.decision == "Audit"


def test_the_strongest_action_among_selecting_policies_wins() -> None:
    rt = runtime(model(systemic=True), policy("a-warn", ["Warn"]), policy("b-deny", ["Deny"]))

    response = response_of(admission_review("CREATE", workload("Deployment")), rt)

    assert response["allowed"] is False
    assert "policy b-deny" in response["status"]["message"]


def test_a_namespace_selector_limits_where_a_policy_denies() -> None:
    prod = policy("prod", ["Deny"], namespaceSelector={"matchLabels": {"env": "prod"}})
    in_dev = runtime(model(systemic=True), prod, namespace(NAMESPACE, env="dev"))
    in_prod = runtime(model(systemic=True), prod, namespace(NAMESPACE, env="prod"))

    create = admission_review("CREATE", workload("Deployment"))

    assert response_of(create, in_dev)["allowed"] is True
    assert response_of(create, in_prod)["allowed"] is False


def test_an_active_exception_waives_the_obligations_it_lists() -> None:
    exception = {
        "namespace": NAMESPACE,
        "model": MODEL,
        "reason": "summary in review",
        "expires": "2026-12-31",
    }
    waived = policy("summary", ["Deny"], obligations=SUMMARY_ONLY, exceptions=[exception])
    expired = policy(
        "summary", ["Deny"], obligations=SUMMARY_ONLY, exceptions=[{**exception, "expires": "2026-11-01"}]
    )
    create = admission_review("CREATE", workload("Deployment"))

    assert response_of(create, runtime(model(), waived))["allowed"] is True
    assert response_of(create, runtime(model(), expired))["allowed"] is False


def test_dry_run_is_judged_the_same() -> None:
    response = response_of(
        admission_review("CREATE", workload("Deployment"), dry_run=True), deny_everywhere()
    )

    assert response["allowed"] is False


def test_the_review_is_judged_at_the_given_instant() -> None:
    # The summary, updated 2026-10-01, counts for 183 days: through 2027-04-02.
    rt = runtime(model(summary=True), policy("summary", ["Deny"], obligations=SUMMARY_ONLY))
    create = admission_review("CREATE", workload("Deployment"))

    assert review(create, rt, NOW).body["response"]["allowed"] is True
    later = NOW.replace(year=2027, month=4, day=3)
    assert review(create, rt, later).body["response"]["allowed"] is False


def test_a_generated_name_is_taken_from_the_request() -> None:
    obj = workload("Deployment")
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "chat-"
    body = admission_review("CREATE", obj)
    body["request"]["name"] = "chat-x7k2p"

    response = response_of(body, deny_everywhere())

    assert response["status"]["message"].startswith("Deployment ml/chat-x7k2p is denied")


def test_admission_review_v1beta1_is_answered_in_kind() -> None:
    answer = answer_to(
        admission_review("CREATE", workload("Deployment"), api_version="admission.k8s.io/v1beta1"),
        deny_everywhere(),
    )

    assert answer.body["apiVersion"] == "admission.k8s.io/v1beta1"
    assert answer.body["response"]["allowed"] is False


def test_bytes_and_mappings_get_the_same_answer() -> None:
    body = admission_review("CREATE", workload("Deployment"))
    rt = deny_everywhere()

    assert review(encoded(body), rt, NOW) == review(body, rt, NOW)


# ---- UPDATE --------------------------------------------------------------------------------------
def changed(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    new = copy.deepcopy(obj)
    target = new
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return new


TEMPLATE_CHANGES = {
    "Deployment": ("spec", "template", "spec", "containers"),
    "StatefulSet": ("spec", "template", "spec", "containers"),
    "DaemonSet": ("spec", "template", "spec", "containers"),
    "ReplicaSet": ("spec", "template", "spec", "containers"),
    "ReplicationController": ("spec", "template", "spec", "containers"),
    "Job": ("spec", "template", "spec", "containers"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec", "containers"),
    "Pod": ("spec", "containers"),
    "InferenceService": ("spec", "transformer", "containers"),  # not only the predictor runs
}
OTHER_CHANGES = {
    "Deployment": (("spec", "replicas"), 0),
    "StatefulSet": (("spec", "replicas"), 0),
    "DaemonSet": (("spec", "minReadySeconds"), 10),
    "ReplicaSet": (("spec", "replicas"), 0),
    "ReplicationController": (("spec", "replicas"), 0),
    "Job": (("spec", "suspend"), True),
    "CronJob": (("spec", "schedule"), "*/5 * * * *"),
    "Pod": (("spec", "activeDeadlineSeconds"), 60),  # outside containers: still the Pod spec
    "InferenceService": (("metadata", "annotations"), {"serving.kserve.io/note": "x"}),
}


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_update_that_changes_the_pod_template_is_judged(kind: str) -> None:
    old = workload(kind)
    new = changed(old, TEMPLATE_CHANGES[kind], [{"name": "server", "image": "acme/server:2.0"}])

    answer = answer_to(admission_review("UPDATE", new, old), deny_everywhere())

    assert answer.body["response"]["allowed"] is False
    assert answer.outcome == answer.outcome.__class__(kind, "UPDATE", "Deny")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_an_update_that_keeps_the_pod_template_is_allowed_with_a_warning(kind: str) -> None:
    old = workload(kind)
    path, value = OTHER_CHANGES[kind]
    new = changed(old, path, value)
    if kind == "Pod":  # the whole Pod spec is what runs: any change there is judged
        assert response_of(admission_review("UPDATE", new, old), deny_everywhere())["allowed"] is False
        return

    answer = answer_to(admission_review("UPDATE", new, old), deny_everywhere())

    response = answer.body["response"]
    assert response["allowed"] is True
    [warning] = response["warnings"]
    assert warning.startswith(
        f"{kind} ml/chat serves GPAIModel acme-llm, which is not compliant (13 obligations"
    )
    assert warning.endswith(
        "allowed: updates that keep the pod template, model label and controller are never blocked"
    )
    assert len(warning) <= 256
    assert answer.outcome.decision == "Warn"


def test_scaling_down_through_the_deployment_is_allowed() -> None:
    old = workload("Deployment")

    response = response_of(
        admission_review("UPDATE", changed(old, ("spec", "replicas"), 0), old), deny_everywhere()
    )

    assert response["allowed"] is True


@pytest.mark.parametrize("change", ["add", "change", "remove"])
def test_an_update_of_the_model_label_is_judged(change: str) -> None:
    rt = runtime(
        model(systemic=True), model("other", summary=True), policy("p", ["Deny"], requireModelLabel=True)
    )
    old = workload("Deployment", model={"add": None, "change": "other", "remove": MODEL}[change])
    new = copy.deepcopy(old)
    labels = new["metadata"]["labels"]
    if change == "remove":
        del labels["gpai.dev/model"]
    else:
        labels["gpai.dev/model"] = MODEL

    response = response_of(admission_review("UPDATE", new, old), rt)

    assert response["allowed"] is False
    expected = "workload/model-declared" if change == "remove" else "systemic-risk/evaluation"
    assert expected in response["status"]["message"]


def test_the_operators_own_annotation_patch_is_allowed() -> None:
    old = workload("Deployment")
    new = changed(
        old,
        ("metadata", "annotations"),
        {
            "gpai.dev/compliance": "NonCompliant",
            "gpai.dev/unmet": "systemic-risk/evaluation",
            "gpai.dev/evaluated": "2026-11-28T12:00:00Z",
        },
    )
    new["metadata"]["resourceVersion"] = "1235"
    new["metadata"]["managedFields"] = [{"manager": "gpai-operator", "operation": "Update"}]

    for rt in (deny_everywhere(), runtime(policy("p", ["Deny"]), synced=False)):
        response = response_of(admission_review("UPDATE", new, old, username=OPERATOR), rt)
        assert response["allowed"] is True


def test_a_user_writing_the_compliance_annotation_gets_no_say_but_is_not_blocked() -> None:
    old = workload("Deployment")
    new = changed(old, ("metadata", "annotations"), {"gpai.dev/compliance": "Compliant"})

    response = response_of(admission_review("UPDATE", new, old), deny_everywhere())

    assert response["allowed"] is True
    assert "not compliant" in response["warnings"][0]


# ---- subresources and DELETE -----------------------------------------------------------------------
def test_scaling_through_the_scale_subresource_is_allowed_with_a_warning() -> None:
    rt = deny_everywhere()
    deployment = workload("Deployment")
    from gpai_operator import objects

    objects.apply(rt.state, deployment)  # the watches saw it: the Scale object has no labels

    answer = answer_to(
        admission_review("UPDATE", scale("chat", 0), scale("chat", 2), subresource="scale"), rt
    )

    response = answer.body["response"]
    assert response["allowed"] is True
    assert response["warnings"][0].endswith("; allowed: scaling is never blocked")
    assert answer.outcome == answer.outcome.__class__("Deployment", "UPDATE", "Warn")


def test_scaling_a_workload_the_watches_have_not_seen_is_allowed_silently() -> None:
    answer = answer_to(
        admission_review("UPDATE", scale("chat", 0), scale("chat", 2), subresource="scale"), deny_everywhere()
    )

    assert answer.body["response"] == {"uid": answer.body["response"]["uid"], "allowed": True}


def test_status_updates_are_allowed() -> None:
    old = workload("Deployment")
    new = changed(old, ("status",), {"replicas": 2, "readyReplicas": 2})
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "ignored-by-status-writes"

    response = response_of(admission_review("UPDATE", new, old, subresource="status"), deny_everywhere())

    assert response["allowed"] is True


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_delete_is_always_allowed(kind: str) -> None:
    answer = answer_to(admission_review("DELETE", None, workload(kind)), deny_everywhere())

    response = answer.body["response"]
    assert response["allowed"] is True
    assert response["warnings"][0].endswith("; allowed: deleting is never blocked")


def test_delete_without_old_object_or_with_a_malformed_one_is_allowed() -> None:
    body = admission_review("DELETE", None, workload("Deployment"))
    body["request"]["oldObject"] = None
    assert response_of(body, deny_everywhere())["allowed"] is True
    body["request"]["oldObject"] = "garbage"
    assert response_of(body, deny_everywhere())["allowed"] is True


def test_delete_of_a_compliant_workload_has_no_warning() -> None:
    rt = runtime(model(summary=True), policy("summary", ["Deny"], obligations=SUMMARY_ONLY))

    response = response_of(admission_review("DELETE", None, workload("Deployment")), rt)

    assert response == {"uid": response["uid"], "allowed": True}


# ---- what is not judged ------------------------------------------------------------------------------
REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller"
CONTROLLER_REF = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "name": "chat-5d8",
    "uid": "u",
    "controller": True,
}


@pytest.mark.parametrize("user", [REPLICASET_CONTROLLER, "system:kube-controller-manager"])
def test_a_trusted_controllers_controlled_object_is_not_judged_itself(user: str) -> None:
    pod = workload("Pod", ownerReferences=[CONTROLLER_REF])

    for rt in (deny_everywhere(), runtime(synced=False)):
        answer = answer_to(admission_review("CREATE", pod, username=user), rt)
        assert answer.body["response"] == {"uid": answer.body["response"]["uid"], "allowed": True}


@pytest.mark.parametrize(
    "owner",
    [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "mine", "uid": "c", "controller": True},
        CONTROLLER_REF,  # a ReplicaSet that may not even exist
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "ghost", "uid": "g", "controller": True},
    ],
)
@pytest.mark.parametrize("kind", ["Pod", "Deployment", "Job", "ReplicaSet"])
def test_a_controller_reference_from_anyone_else_proves_nothing(owner: dict[str, Any], kind: str) -> None:
    obj = workload(kind, ownerReferences=[owner])

    response = response_of(admission_review("CREATE", obj), deny_everywhere())

    assert response["allowed"] is False
    assert response["status"]["message"].startswith(f"{kind} ml/chat is denied by policy eu-ai-act")


def test_an_unlabelled_object_with_a_forged_controller_is_judged_for_the_label() -> None:
    rt = runtime(namespace(NAMESPACE, env="prod"), policy("label", ["Deny"], requireModelLabel=True))
    pod = workload("Pod", model=None, ownerReferences=[CONTROLLER_REF])

    response = response_of(admission_review("CREATE", pod), rt)

    assert response["allowed"] is False
    assert "workload/model-declared" in response["status"]["message"]


def test_the_operators_own_identity_is_judged_when_it_creates() -> None:
    response = response_of(
        admission_review("CREATE", workload("Deployment"), username=OPERATOR), deny_everywhere()
    )

    assert response["allowed"] is False


def test_one_patch_adding_a_forged_controller_and_switching_the_model_is_judged() -> None:
    rt = runtime(
        model(summary=True),
        model("rogue"),
        policy("summary", ["Deny"], obligations=SUMMARY_ONLY),
    )
    old = workload("Deployment")
    new = workload("Deployment", model="rogue", ownerReferences=[CONTROLLER_REF])

    response = response_of(admission_review("UPDATE", new, old), rt)

    assert response["allowed"] is False
    assert "GPAIModel ml/rogue" in response["status"]["message"]


def test_adding_a_forged_controller_alone_is_judged() -> None:
    old = workload("Pod")
    new = workload("Pod", ownerReferences=[CONTROLLER_REF])

    assert response_of(admission_review("UPDATE", new, old), deny_everywhere())["allowed"] is False


def test_removing_the_controller_reference_is_never_blocked() -> None:
    """Orphaning: the object keeps running what it ran; its owner's gate was passed long ago."""
    old = workload("Pod", ownerReferences=[CONTROLLER_REF])
    new = workload("Pod")

    response = response_of(admission_review("UPDATE", new, old), deny_everywhere())

    assert response["allowed"] is True
    assert response["warnings"][0].endswith("are never blocked")


@pytest.mark.parametrize(
    "controller",
    ["system:serviceaccount:kube-system:generic-garbage-collector", REPLICASET_CONTROLLER],
)
def test_controllers_get_no_advice(controller: str) -> None:
    """A warning is for a person: the garbage collector orphaning or deleting is just allowed."""
    old = workload("Pod", ownerReferences=[CONTROLLER_REF])

    orphaned = response_of(
        admission_review("UPDATE", workload("Pod"), old, username=controller), deny_everywhere()
    )
    deleted = response_of(admission_review("DELETE", None, old, username=controller), deny_everywhere())

    assert orphaned == {"uid": orphaned["uid"], "allowed": True}
    assert deleted == {"uid": deleted["uid"], "allowed": True}


def test_ephemeral_containers_are_judged_against_the_pods_model() -> None:
    old = workload("Pod")
    new = changed(old, ("spec", "ephemeralContainers"), [{"name": "debug", "image": "busybox"}])

    body = admission_review("UPDATE", new, old, subresource="ephemeralcontainers")
    answer = answer_to(body, deny_everywhere())

    assert answer.body["response"]["allowed"] is False
    assert answer.outcome == answer.outcome.__class__("Pod", "UPDATE", "Deny")


def test_ephemeral_containers_of_a_compliant_model_are_allowed() -> None:
    rt = runtime(model(summary=True), policy("summary", ["Deny"], obligations=SUMMARY_ONLY))
    old = workload("Pod")
    new = changed(old, ("spec", "ephemeralContainers"), [{"name": "debug", "image": "busybox"}])

    response = response_of(admission_review("UPDATE", new, old, subresource="ephemeralcontainers"), rt)

    assert response == {"uid": response["uid"], "allowed": True}


def test_an_owner_that_is_not_the_controller_does_not_exempt() -> None:
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "u"}

    response = response_of(
        admission_review("CREATE", workload("Pod", ownerReferences=[owner])), deny_everywhere()
    )

    assert response["allowed"] is False


def test_other_kinds_are_allowed_and_counted_as_other() -> None:
    body = admission_review("CREATE", workload("Deployment"))
    body["request"]["kind"] = {"group": "", "version": "v1", "kind": "ConfigMap"}
    body["request"]["object"]["kind"] = "ConfigMap"

    answer = answer_to(body, deny_everywhere())

    assert answer.body["response"]["allowed"] is True
    assert answer.outcome.kind == "Other"


def test_connect_is_allowed() -> None:
    body = admission_review("CONNECT", workload("Pod"))
    body["request"]["subResource"] = "exec"

    assert response_of(body, deny_everywhere())["allowed"] is True


# ---- before the watches have synced ------------------------------------------------------------------
def test_a_create_before_the_state_is_loaded_is_refused_as_unavailable() -> None:
    answer = answer_to(admission_review("CREATE", workload("Deployment")), runtime(synced=False))

    status = answer.body["response"]["status"]
    assert answer.body["response"]["allowed"] is False
    assert (status["code"], status["reason"]) == (503, "ServiceUnavailable")
    assert "retry" in status["message"]
    assert answer.outcome.decision == "Error"


def test_scaling_and_deleting_before_the_state_is_loaded_are_allowed() -> None:
    rt = runtime(synced=False)
    old = workload("Deployment")

    assert response_of(admission_review("DELETE", None, old), rt)["allowed"] is True
    assert response_of(admission_review("UPDATE", changed(old, ("spec", "replicas"), 0), old), rt)["allowed"]


# ---- failures ------------------------------------------------------------------------------------------
def test_an_engine_failure_refuses_a_create_but_never_a_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("bug")

    monkeypatch.setattr("gpai_operator.admission.review.decide_workload", broken)
    rt = deny_everywhere()

    create = answer_to(admission_review("CREATE", workload("Deployment")), rt)
    assert create.body["response"]["allowed"] is False
    assert create.body["response"]["status"]["code"] == 500
    assert "ValueError" in create.body["response"]["status"]["message"]
    assert create.outcome.decision == "Error"

    delete = answer_to(admission_review("DELETE", None, workload("Deployment")), rt)
    assert delete.body["response"] == {"uid": delete.body["response"]["uid"], "allowed": True}


def test_the_review_judges_under_the_runtimes_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watches change the state on the operator's thread; the webhook's thread judges from it only
    while holding the lock they take for each change, so it never reads half a change."""
    from gpai_operator.admission import review as module
    from gpai_operator.engine import decide_workload as real

    rt = deny_everywhere()
    held: list[bool] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        held.append(rt.lock.locked())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "decide_workload", watched)

    assert response_of(admission_review("CREATE", workload("Pod", model=None)), rt)["allowed"] is True
    assert held == [True]
    assert not rt.lock.locked()


# ---- kinds added by configuration ----------------------------------------------------------------
ROLLOUT_KIND = "argoproj.io/v1alpha1/rollouts:Rollout:spec.template"


def rollout(model_name: str = MODEL, image: str = "acme/server:1.0", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "chat", "namespace": NAMESPACE, "labels": {"gpai.dev/model": model_name}},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "server", "image": image}]}},
        },
    }


def rollout_review(operation: str, obj: Any, old: Any = None) -> dict[str, Any]:
    body = admission_review(operation, workload("Deployment"), workload("Deployment") if old else None)
    group_version_kind = {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout"}
    resource = {"group": "argoproj.io", "version": "v1alpha1", "resource": "rollouts"}
    body["request"].update(
        kind=group_version_kind, resource=resource, object=obj, oldObject=old, requestKind=group_version_kind
    )
    return body


def with_rollouts(rt: Any) -> Any:
    rt.state.kinds = WorkloadKinds.with_extra([ROLLOUT_KIND])
    return rt


def test_a_configured_kind_is_judged_like_the_built_in_ones() -> None:
    answer = answer_to(rollout_review("CREATE", rollout()), with_rollouts(deny_everywhere()))

    assert answer.body["response"]["allowed"] is False
    assert answer.body["response"]["status"]["message"].startswith("Rollout ml/chat is denied")
    assert answer.outcome.kind == "Rollout"


def test_a_configured_kinds_template_change_is_judged_and_its_scaling_is_not() -> None:
    rt = with_rollouts(deny_everywhere())

    new_image = rollout_review("UPDATE", rollout(image="acme/server:2.0"), rollout())
    scaled = rollout_review("UPDATE", rollout(replicas=5), rollout())

    assert response_of(new_image, rt)["allowed"] is False
    assert response_of(scaled, rt)["allowed"] is True


def test_an_unconfigured_kind_is_not_ours() -> None:
    answer = answer_to(rollout_review("CREATE", rollout()), deny_everywhere())

    assert answer.body["response"] == {"uid": answer.body["response"]["uid"], "allowed": True}
    assert answer.outcome.kind == "Other"
