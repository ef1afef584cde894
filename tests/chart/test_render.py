"""The chart renders what a platform team expects: checked on the objects `helm template` produces."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gpai_operator.api.kinds import CRD_KINDS
from tests.chart.harness import (
    CHART,
    NAMESPACE,
    NEEDED,
    OPTIONS,
    RELEASE,
    REPO,
    REPORT_VERBS,
    WORKLOAD_RESOURCES,
    Helm,
    Manifest,
    find,
    granted,
    kinds,
)

FULLNAME = f"{RELEASE}-gpai-operator"
SERVICE_ACCOUNT = f"system:serviceaccount:{NAMESPACE}:{FULLNAME}"
CHART_META = yaml.safe_load((CHART / "Chart.yaml").read_text())


def container(manifests: list[Manifest]) -> dict[str, Any]:
    (operator,) = find(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    return operator


def webhooks(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    return {hook["name"]: hook for hook in find(manifests, "ValidatingWebhookConfiguration")["webhooks"]}


def gate(manifests: list[Manifest]) -> dict[str, Any]:
    return webhooks(manifests)["validate.gpai.dev"]


def advice(manifests: list[Manifest]) -> dict[str, Any]:
    return webhooks(manifests)["advise.gpai.dev"]


def rule_targets(hook: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(API group, resource, operation) of every rule."""
    return {
        (group, resource, operation)
        for rule in hook["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for operation in rule["operations"]
    }


# --- lint and render every option -----------------------------------------------------------------


@pytest.mark.parametrize("option", OPTIONS)
def test_lint_passes_strictly_with_every_documented_option(helm: Helm, option: str) -> None:
    result = helm.with_values("lint", OPTIONS[option], CHART, "--strict", "--namespace", NAMESPACE)
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("option", OPTIONS)
def test_every_object_carries_the_recommended_labels(helm: Helm, option: str) -> None:
    for manifest in helm.template(OPTIONS[option]):
        labels = manifest["metadata"].get("labels", {})
        where = f"{manifest['kind']} {manifest['metadata']['name']}"
        assert labels.get("app.kubernetes.io/name") == "gpai-operator", where
        assert labels.get("app.kubernetes.io/instance") == RELEASE, where
        assert labels.get("app.kubernetes.io/managed-by") == "Helm", where
        assert labels.get("app.kubernetes.io/version") == CHART_META["appVersion"], where
        assert labels.get("app.kubernetes.io/part-of") == "gpai-operator", where
        assert labels.get("helm.sh/chart") == f"gpai-operator-{CHART_META['version']}", where


def test_defaults_render_the_operator_its_identity_and_its_webhook(helm: Helm) -> None:
    assert kinds(helm.template()) == {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Secret",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "ValidatingWebhookConfiguration",
    }


def test_optional_objects_appear_only_when_asked_for(helm: Helm) -> None:
    everything = kinds(helm.template(OPTIONS["everything"]))
    assert {
        "ServiceMonitor",
        "PrometheusRule",
        "ConfigMap",
        "CompliancePolicy",
        "Certificate",
        "Issuer",
    } <= everything
    assert "Secret" not in everything  # cert-manager writes it
    assert not {"ServiceMonitor", "PrometheusRule", "ConfigMap", "CompliancePolicy"} & kinds(helm.template())


# --- the operator's pods --------------------------------------------------------------------------


def test_operator_runs_gpai_with_the_contract_flags(helm: Helm) -> None:
    operator = container(helm.template())
    assert operator["command"] == ["gpai"]
    args = operator["args"]
    assert args[0] == "run"
    assert {
        "--webhook-port=9443",
        "--metrics-port=8080",
        "--health-port=8081",
        "--webhook-cert-file=/etc/gpai-operator/tls/tls.crt",
        "--webhook-key-file=/etc/gpai-operator/tls/tls.key",
        "--leader-elect",
        f"--leader-election-id={FULLNAME}",
        f"--leader-election-namespace={NAMESPACE}",
        "--lease-duration=15",
        "--renew-deadline=10",
        "--retry-period=2",
        "--shutdown-delay=5",
        "--write-concurrency=64",
    } <= set(args)
    assert {p["name"]: p["containerPort"] for p in operator["ports"]} == {
        "webhook": 9443,
        "metrics": 8080,
        "health": 8081,
    }


def test_default_image_is_the_app_version_and_a_digest_pins_it(helm: Helm) -> None:
    assert container(helm.template())["image"] == f"ghcr.io/gpai-dev/gpai-operator:{CHART_META['appVersion']}"
    digest = "sha256:" + "a" * 64
    assert (
        container(helm.template(OPTIONS["everything"]))["image"] == f"ghcr.io/gpai-dev/gpai-operator@{digest}"
    )


def test_pods_run_locked_down(helm: Helm) -> None:
    pod = find(helm.template(), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(helm.template())["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container(helm.template())["resources"]["requests"]


def test_probes_use_the_health_endpoints(helm: Helm) -> None:
    operator = container(helm.template())
    assert operator["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert operator["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert operator["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_serving_certificate_is_mounted_from_the_webhook_secret(helm: Helm) -> None:
    manifests = helm.template()
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "webhook-tls")
    assert volume["secret"]["secretName"] == f"{FULLNAME}-webhook-tls"
    mount = next(m for m in container(manifests)["volumeMounts"] if m["name"] == "webhook-tls")
    assert mount == {"name": "webhook-tls", "mountPath": "/etc/gpai-operator/tls", "readOnly": True}


def test_two_replicas_elect_their_writer_on_a_lease_and_have_a_disruption_budget(helm: Helm) -> None:
    manifests = helm.template()
    assert find(manifests, "Deployment")["spec"]["replicas"] == 2
    role = find(manifests, "Role", f"{FULLNAME}-leader-election")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert granted(role) == {("coordination.k8s.io", "leases"): {"get", "create", "update"}}
    binding = find(manifests, "RoleBinding", f"{FULLNAME}-leader-election")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]
    budget = find(manifests, "PodDisruptionBudget")["spec"]
    assert budget["minAvailable"] == 1
    assert (
        budget["selector"]["matchLabels"] == find(manifests, "Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_a_single_replica_has_no_budget_and_no_election(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["single-replica"])
    assert not {"PodDisruptionBudget", "Role", "RoleBinding"} & kinds(manifests)
    assert not [a for a in container(manifests)["args"] if a.startswith("--leader")]


def test_service_exposes_the_webhook_on_443_and_the_metrics(helm: Helm) -> None:
    manifests = helm.template()
    service = find(manifests, "Service")
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"webhook": (443, "webhook"), "metrics": (8080, "metrics")}
    assert service["spec"]["selector"] == find(manifests, "Deployment")["spec"]["selector"]["matchLabels"]


# --- RBAC -----------------------------------------------------------------------------------------


def test_cluster_role_grants_exactly_what_the_operator_uses(helm: Helm) -> None:
    grants = granted(find(helm.template(), "ClusterRole", FULLNAME))
    assert grants == NEEDED


def test_cluster_role_has_no_wildcards_no_secrets_and_never_creates_or_deletes_workloads(helm: Helm) -> None:
    grants = granted(find(helm.template(), "ClusterRole", FULLNAME))
    assert not any("*" in (group, resource) or "*" in verbs for (group, resource), verbs in grants.items())
    assert not [key for key in grants if key[1] in ("secrets", "configmaps", "serviceaccounts")]
    assert not [key for key in grants if "webhookconfigurations" in key[1]]
    for resource in WORKLOAD_RESOURCES:
        assert not grants[resource] & {"create", "update", "delete", "deletecollection"}, resource
    assert not grants[("gpai.dev", "gpaimodels")] & {"create", "update", "patch", "delete"}


AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def aggregated_to(role: Manifest) -> set[str]:
    labels = role["metadata"]["labels"]
    return {
        key.removeprefix(AGGREGATE)
        for key, value in labels.items()
        if key.startswith(AGGREGATE) and value == "true"
    }


def test_people_read_every_kind_through_view_edit_and_admin(helm: Helm) -> None:
    view = find(helm.template(), "ClusterRole", f"{FULLNAME}-view")
    assert aggregated_to(view) == {"view", "edit", "admin"}
    grants = granted(view)
    statuses = {
        ("gpai.dev", "gpaimodels/status"),
        ("gpai.dev", "seriousincidents/status"),
        ("gpai.dev", "admissionverdicts/status"),
    }
    assert set(grants) == {("gpai.dev", k.plural) for k in CRD_KINDS} | statuses
    assert all(verbs == {"get", "list", "watch"} for verbs in grants.values())


def test_only_the_operator_writes_admission_verdicts(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["admission-native"])
    writers = {
        role["metadata"]["name"]
        for role in manifests
        if role["kind"] in ("ClusterRole", "Role")
        for rule in role["rules"]
        if "gpai.dev" in rule.get("apiGroups", [])
        and "admissionverdicts" in rule.get("resources", [])
        and {"create", "update", "patch", "delete", "*"} & set(rule["verbs"])
    }
    assert writers == {FULLNAME}


@pytest.mark.parametrize(
    ("writers", "roles"), [("admin", {"admin"}), ("edit", {"edit", "admin"}), ("none", set())]
)
def test_writing_models_and_evidence_is_a_separate_role_joined_to_admin_by_default(
    helm: Helm, writers: str, roles: set[str]
) -> None:
    values = {} if writers == "admin" else {"rbac": {"userRoles": {"evidenceWriters": writers}}}
    editor = find(helm.template(values), "ClusterRole", f"{FULLNAME}-evidence-editor")
    assert aggregated_to(editor) == roles
    grants = granted(editor)
    evidence = (
        "gpaimodels",
        "modeldocumentations",
        "copyrightpolicies",
        "riskevaluations",
        "seriousincidents",
    )
    assert set(grants) == {("gpai.dev", r) for r in evidence}
    # never the operator's status, never the cluster-wide policies
    assert ("gpai.dev", "gpaimodels/status") not in grants
    assert ("gpai.dev", "seriousincidents/status") not in grants
    assert ("gpai.dev", "compliancepolicies") not in grants


def test_user_roles_can_be_left_out(helm: Helm) -> None:
    names = {
        m["metadata"]["name"]
        for m in helm.template({"rbac": {"userRoles": {"create": False}}})
        if m["kind"] == "ClusterRole"
    }
    assert names == {FULLNAME, f"{FULLNAME}-metrics-reader"}


def test_cluster_role_is_bound_to_the_operator_service_account(helm: Helm) -> None:
    manifests = helm.template()
    binding = find(manifests, "ClusterRoleBinding", FULLNAME)
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": FULLNAME,
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]
    assert find(manifests, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == FULLNAME


def test_an_existing_service_account_gets_the_role_and_is_spared_only_by_the_advice(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["existing-service-account"])
    assert "ServiceAccount" not in kinds(manifests)
    assert find(manifests, "ClusterRoleBinding", FULLNAME)["subjects"][0]["name"] == "platform-operator"
    (not_operator,) = [c for c in advice(manifests)["matchConditions"] if c["name"] == "not-the-operator"]
    assert f'"system:serviceaccount:{NAMESPACE}:platform-operator"' in not_operator["expression"]
    assert "not-the-operator" not in {c["name"] for c in gate(manifests)["matchConditions"]}


# --- the admission webhooks -----------------------------------------------------------------------


def test_both_webhooks_call_the_operator_service_with_the_contract_settings(helm: Helm) -> None:
    hooks = webhooks(helm.template())
    assert set(hooks) == {"validate.gpai.dev", "advise.gpai.dev"}  # GPAIWebhookFailingOpen names the gate
    for hook in hooks.values():
        assert hook["timeoutSeconds"] == 5
        assert hook["sideEffects"] == "None"
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["clientConfig"]["service"] == {
            "name": FULLNAME,
            "namespace": NAMESPACE,
            "path": "/validate",
            "port": 443,
        }
    assert hooks["validate.gpai.dev"]["failurePolicy"] == "Fail"
    assert hooks["advise.gpai.dev"]["failurePolicy"] == "Ignore"


def test_the_gates_failure_policy_is_a_value_and_advice_never_blocks(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["fail-open"])
    assert gate(manifests)["failurePolicy"] == "Ignore"
    assert advice(helm.template({"webhook": {"failurePolicy": "Fail"}}))["failurePolicy"] == "Ignore"


def test_the_gate_sees_create_and_update_of_every_workload_kind_and_nothing_else(helm: Helm) -> None:
    assert rule_targets(gate(helm.template())) == {
        (group, resource, operation)
        for group, resource in WORKLOAD_RESOURCES
        for operation in ("CREATE", "UPDATE")
    } | {("", "pods/ephemeralcontainers", "UPDATE")}  # no DELETE, no scale or status subresource
    without_kserve = rule_targets(gate(helm.template(OPTIONS["no-kserve"])))
    assert "serving.kserve.io" not in {group for group, _, _ in without_kserve}


def test_configured_workload_kinds_get_rules_rbac_and_operator_flags(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["workload-kinds"])
    added = {("argoproj.io", "rollouts"), ("leaderworkerset.x-k8s.io", "leaderworkersets")}
    targets = rule_targets(gate(manifests))
    assert {(g, r, o) for g, r in added for o in ("CREATE", "UPDATE")} <= targets
    assert {(g, f"{r}/scale", "UPDATE") for g, r in added} <= rule_targets(advice(manifests))
    grants = granted(find(manifests, "ClusterRole", FULLNAME))
    assert all(grants[resource] == {"get", "list", "watch", "patch"} for resource in added)
    args = container(manifests)["args"]
    assert "--workload-kind=argoproj.io/v1alpha1/rollouts:Rollout:spec.template" in args
    assert (
        "--workload-kind=leaderworkerset.x-k8s.io/v1/leaderworkersets:LeaderWorkerSet:"
        "spec.leaderWorkerTemplate.leaderTemplate,spec.leaderWorkerTemplate.workerTemplate"
    ) in args
    assert "--trusted-controller=system:serviceaccount:argo-rollouts:argo-rollouts" in args
    judged = {c["name"]: c["expression"] for c in gate(manifests)["matchConditions"]}
    assert 'request.kind.kind == "LeaderWorkerSet"' in judged["create-or-what-runs-changed"]
    assert "has(object.spec.leaderWorkerTemplate.workerTemplate)" in judged["create-or-what-runs-changed"]
    assert "system:serviceaccount:argo-rollouts:argo-rollouts" in judged["not-a-trusted-controllers-object"]


def test_advice_sees_deletes_scaling_and_updates_but_never_creates_or_status(helm: Helm) -> None:
    targets = rule_targets(advice(helm.template()))
    assert {operation for _, _, operation in targets} == {"UPDATE", "DELETE"}
    # every workload, and a ModelDocumentation (a warning while it must be kept: issue 10)
    deletes = WORKLOAD_RESOURCES | {("gpai.dev", "modeldocumentations")}
    assert {(g, r) for g, r, operation in targets if operation == "DELETE"} == deletes
    assert {(g, r, o) for g, r, o in targets if g == "gpai.dev"} == {
        ("gpai.dev", "modeldocumentations", "DELETE")
    }
    assert {(g, r) for g, r, _ in targets if "/" in r} == {
        ("apps", "deployments/scale"),
        ("apps", "statefulsets/scale"),
        ("apps", "replicasets/scale"),
        ("", "replicationcontrollers/scale"),
        ("serving.kserve.io", "inferenceservices/scale"),
    }
    assert not [r for _, r, _ in targets if r.endswith("/status")]
    assert "advise.gpai.dev" not in webhooks(helm.template({"webhook": {"advise": False}}))


@pytest.mark.parametrize("namespace", [NAMESPACE, "platform"])
def test_webhooks_exclude_kube_system_and_their_own_namespace_by_its_immutable_name(
    helm: Helm, namespace: str
) -> None:
    for hook in webhooks(helm.template(namespace=namespace)).values():
        assert hook["namespaceSelector"] == {
            "matchExpressions": [
                {
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-system", namespace],
                }
            ]
        }


def test_more_namespaces_can_be_excluded_or_selected(helm: Helm) -> None:
    for hook in webhooks(helm.template(OPTIONS["everything"])).values():
        assert hook["namespaceSelector"]["matchExpressions"] == [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", NAMESPACE, "monitoring"],
            },
            {"key": "gpai.dev/enforce", "operator": "In", "values": ["true"]},
        ]


def test_match_conditions_spare_trusted_controllers_objects_and_the_operators_metadata_patches(
    helm: Helm,
) -> None:
    gated = {c["name"]: c["expression"] for c in gate(helm.template())["matchConditions"]}
    trusted = gated["not-a-trusted-controllers-object"]
    assert "has(r.controller) && r.controller == true" in trusted
    for user in ("replicaset-controller", "job-controller", "cronjob-controller", "deployment-controller"):
        assert f'"system:serviceaccount:kube-system:{user}"' in trusted
    assert '"system:kube-controller-manager"' in trusted
    advised = {c["name"]: c["expression"] for c in advice(helm.template())["matchConditions"]}
    assert advised["not-the-operator"] == f'request.userInfo.username != "{SERVICE_ACCOUNT}"'
    assert (
        '!request.userInfo.username.startsWith("system:serviceaccount:kube-system:")'
        in advised["not-a-controller"]
    )
    assert '"system:kube-controller-manager"' in advised["not-a-controller"]


def test_the_gate_judges_what_runs_changing_and_advice_takes_the_other_updates(helm: Helm) -> None:
    manifests = helm.template()
    judged = {c["name"]: c["expression"] for c in gate(manifests)["matchConditions"]}[
        "create-or-what-runs-changed"
    ]
    for needed in (
        'request.operation == "CREATE"',
        '(has(request.subResource) && request.subResource == "ephemeralcontainers")',
        "object.spec.template != oldObject.spec.template",
        "object.spec.jobTemplate.spec.template != oldObject.spec.jobTemplate.spec.template",
        '"gpai.dev/model"',
        "o.uid == r.uid",
    ):
        assert needed in judged
    advised = {c["name"]: c["expression"] for c in advice(manifests)["matchConditions"]}[
        "not-judged-by-the-gate"
    ]
    prefix = 'request.operation == "CREATE" || '
    prefix += '(has(request.subResource) && request.subResource == "ephemeralcontainers") ||'
    change = judged.removeprefix(prefix).split()
    assert "".join(change) in "".join(advised.split())  # the same CEL, negated


def test_unlabelled_workloads_reach_the_webhooks_unless_asked_otherwise(helm: Helm) -> None:
    # requireModelLabel policies need to see unlabelled workloads, so no object selector by default.
    assert not [hook for hook in webhooks(helm.template()).values() if "objectSelector" in hook]
    for hook in webhooks(helm.template(OPTIONS["only-labelled-workloads"])).values():
        assert hook["objectSelector"] == {
            "matchExpressions": [{"key": "gpai.dev/model", "operator": "Exists"}]
        }


def test_without_the_webhook_nothing_is_registered_but_the_operator_still_serves_tls(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["no-webhook"])
    assert "ValidatingWebhookConfiguration" not in kinds(manifests)
    assert "Secret" in kinds(manifests)


# --- admission modes: webhook, native, both --------------------------------------------------------

SERVES_VAP = ("--api-versions", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy")
NATIVE_KINDS = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


def native(manifests: list[Manifest]) -> dict[str, Manifest]:
    """The native policies and bindings, by kind and name without the release prefix."""
    return {
        f"{m['kind']}/{m['metadata']['name'].removeprefix(FULLNAME + '-')}": m
        for m in manifests
        if m["kind"] in NATIVE_KINDS
    }


def test_the_mode_follows_what_the_cluster_serves(helm: Helm) -> None:
    # Without ValidatingAdmissionPolicy v1 (before Kubernetes 1.30): the webhook alone, failing closed.
    older = helm.template()
    assert native(older) == {}
    assert gate(older)["failurePolicy"] == "Fail"
    # With it: both, the native policies gating and the webhook failing open beside them.
    newer = helm.template(extra=SERVES_VAP)
    assert set(native(newer)) == {"ValidatingAdmissionPolicy/deny", "ValidatingAdmissionPolicyBinding/deny"}
    assert gate(newer)["failurePolicy"] == "Ignore"
    assert advice(newer)["failurePolicy"] == "Ignore"
    # An explicit mode wins over the detection either way.
    assert native(helm.template(OPTIONS["admission-webhook"], extra=SERVES_VAP)) == {}
    assert len(native(helm.template(OPTIONS["admission-native"]))) == 4


def test_native_mode_registers_no_webhook_but_the_operator_still_serves_tls(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["admission-native"])
    assert "ValidatingWebhookConfiguration" not in kinds(manifests)
    assert "Secret" in kinds(manifests)
    assert container(manifests)  # the operator runs: it writes the verdicts


def test_the_operator_writes_verdicts_where_the_native_policies_match_and_only_in_their_modes(
    helm: Helm,
) -> None:
    def verdict_args(manifests: list[Manifest]) -> list[str]:
        return [a for a in container(manifests)["args"] if a.startswith("--admission-")]

    assert verdict_args(helm.template(OPTIONS["admission-webhook"], extra=SERVES_VAP)) == []
    assert verdict_args(helm.template()) == []  # no ValidatingAdmissionPolicy served: webhook mode
    excluded = {"webhook": {"excludeNamespaces": ["sandbox", "kube-system"]}}
    for mode in ("native", "both"):
        manifests = helm.template({"admission": {"mode": mode}, **excluded})
        assert verdict_args(manifests) == [
            "--admission-verdicts",
            "--admission-exclude-namespace=kube-system",
            f"--admission-exclude-namespace={NAMESPACE}",
            "--admission-exclude-namespace=sandbox",
        ]
        # the same namespaces as the policies leave out
        [binding] = [m for m in manifests if m["kind"] == "ValidatingAdmissionPolicy"][:1]
        expressions = binding["spec"]["matchConstraints"]["namespaceSelector"]["matchExpressions"]
        assert expressions[0]["values"] == ["kube-system", NAMESPACE, "sandbox"]


def test_both_mode_makes_the_native_policy_the_gate_and_leaves_warnings_to_the_webhook(helm: Helm) -> None:
    manifests = helm.template({"admission": {"mode": "both"}, "webhook": {"failurePolicy": "Fail"}})
    assert gate(manifests)["failurePolicy"] == "Ignore"
    policies = native(manifests)
    assert policies["ValidatingAdmissionPolicy/deny"]["spec"]["failurePolicy"] == "Fail"
    assert "ValidatingAdmissionPolicy/warn" not in policies


def test_deny_and_warn_have_their_policies_and_audit_is_recorded_by_the_deny_policy(helm: Helm) -> None:
    policies = native(helm.template(OPTIONS["admission-native"]))
    assert set(policies) == {
        f"{kind}/{action}"
        for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
        for action in ("deny", "warn")
    }
    for action in ("deny", "warn"):
        policy = policies[f"ValidatingAdmissionPolicy/{action}"]["spec"]
        binding = policies[f"ValidatingAdmissionPolicyBinding/{action}"]["spec"]
        assert binding["policyName"] == f"{FULLNAME}-{action}"
        assert binding["validationActions"] == [action.title()]
        assert policy["paramKind"] == {"apiVersion": "gpai.dev/v1alpha1", "kind": "AdmissionVerdicts"}
        [validation] = policy["validations"]
        assert validation["expression"] == f"size(variables.{action}) == 0"
        assert "kubectl describe gpai" in validation["messageExpression"]
    deny, warn = (
        policies["ValidatingAdmissionPolicy/deny"]["spec"],
        policies["ValidatingAdmissionPolicy/warn"]["spec"],
    )
    assert deny["failurePolicy"] == "Fail"  # a CEL error refuses
    assert warn["failurePolicy"] == "Ignore"  # a warning never does
    [audit] = deny["auditAnnotations"]
    assert audit["key"] == "audit"
    assert "params.spec.audit." in {v["name"]: v["expression"] for v in deny["variables"]}["audit"]
    assert "auditAnnotations" not in warn


def test_without_its_verdicts_a_namespace_stays_closed(helm: Helm) -> None:
    policies = native(helm.template(OPTIONS["admission-native"]))
    assert policies["ValidatingAdmissionPolicyBinding/deny"]["spec"]["paramRef"] == {
        "name": "gpai-verdicts",
        "parameterNotFoundAction": "Deny",
    }
    assert policies["ValidatingAdmissionPolicyBinding/warn"]["spec"]["paramRef"] == {
        "name": "gpai-verdicts",
        "parameterNotFoundAction": "Allow",
    }


def test_the_native_policies_see_what_the_webhooks_gate_sees(helm: Helm) -> None:
    for option in ("admission-both", "workload-kinds", "everything", "only-labelled-workloads", "no-kserve"):
        values = {**OPTIONS[option], "admission": {"mode": "both"}}
        manifests = helm.template(values)
        hook = gate(manifests)
        for name, policy in native(manifests).items():
            if not name.startswith("ValidatingAdmissionPolicy/"):
                continue
            constraints = policy["spec"]["matchConstraints"]
            assert constraints["resourceRules"] == hook["rules"], (option, name)
            assert constraints["namespaceSelector"] == hook["namespaceSelector"], (option, name)
            assert constraints.get("objectSelector") == hook.get("objectSelector"), (option, name)
            assert constraints["matchPolicy"] == "Equivalent"
            assert policy["spec"]["matchConditions"] == hook["matchConditions"], (option, name)


def test_failing_open_is_alerted_only_where_the_webhook_is_the_gate(helm: Helm) -> None:
    def alerts(mode: str) -> set[str]:
        rule = find(
            helm.template({"prometheusRule": {"enabled": True}, "admission": {"mode": mode}}),
            "PrometheusRule",
        )
        return {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]}

    assert "GPAIWebhookFailingOpen" in alerts("webhook")
    assert "GPAIWebhookFailingOpen" not in alerts("both")
    assert "GPAIWebhookFailingOpen" not in alerts("native")
    assert alerts("webhook") - alerts("both") == {"GPAIWebhookFailingOpen"}


# --- TLS ------------------------------------------------------------------------------------------


def test_generated_certificate_serves_the_service_and_its_ca_is_the_bundle(helm: Helm) -> None:
    manifests = helm.template()
    secret = find(manifests, "Secret")
    assert secret["type"] == "kubernetes.io/tls"
    for hook in webhooks(manifests).values():
        assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    assert cert.issuer == ca.subject
    public_key = ca.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
    )
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert f"{FULLNAME}.{NAMESPACE}.svc" in names
    assert f"{FULLNAME}.{NAMESPACE}.svc.cluster.local" in names
    assert cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=365)


def test_cert_manager_issues_the_certificate_and_injects_the_ca(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["cert-manager"])
    assert "Secret" not in kinds(manifests)
    certificate = find(manifests, "Certificate")
    issuer = find(manifests, "Issuer")
    assert issuer["spec"] == {"selfSigned": {}}
    assert certificate["spec"]["secretName"] == f"{FULLNAME}-webhook-tls"
    assert certificate["spec"]["issuerRef"] == {
        "name": issuer["metadata"]["name"],
        "kind": "Issuer",
        "group": "cert-manager.io",
    }
    assert f"{FULLNAME}.{NAMESPACE}.svc" in certificate["spec"]["dnsNames"]
    configuration = find(manifests, "ValidatingWebhookConfiguration")
    assert configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        f"{NAMESPACE}/{certificate['metadata']['name']}"
    )
    assert not [hook for hook in webhooks(manifests).values() if "caBundle" in hook["clientConfig"]]


def test_cert_manager_can_use_an_existing_issuer(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["cert-manager-own-issuer"])
    assert "Issuer" not in kinds(manifests)
    assert find(manifests, "Certificate")["spec"]["issuerRef"] == {
        "name": "ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


def test_cert_manager_certificate_key_is_ecdsa_and_rotated(helm: Helm) -> None:
    spec = find(helm.template(OPTIONS["cert-manager"]), "Certificate")["spec"]
    assert spec["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}


# --- monitoring -----------------------------------------------------------------------------------


def test_service_monitor_scrapes_the_metrics_port_keeping_the_models_namespace_label(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["service-monitor"])
    monitor = find(manifests, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics"
    assert endpoint["path"] == "/metrics"
    assert endpoint["honorLabels"] is True
    service_labels = find(manifests, "Service")["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    assert service_labels[monitor["spec"]["jobLabel"]] == "gpai-operator"  # job="gpai-operator"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


def test_service_monitor_scrapes_over_https_with_prometheus_token_verifying_the_operators_certificate(
    helm: Helm,
) -> None:
    (endpoint,) = find(helm.template(OPTIONS["service-monitor"]), "ServiceMonitor")["spec"]["endpoints"]

    assert endpoint["scheme"] == "https"
    assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert endpoint["tlsConfig"] == {
        "serverName": f"{FULLNAME}.{NAMESPACE}.svc",  # one of the serving certificate's names
        "ca": {"secret": {"name": f"{FULLNAME}-webhook-tls", "key": "ca.crt"}},
    }


def test_service_monitor_can_present_a_token_from_a_secret_and_its_own_tls_settings(helm: Helm) -> None:
    authorization = {"type": "Bearer", "credentials": {"name": "prometheus-token", "key": "token"}}
    tls = {"insecureSkipVerify": True}
    values = {
        "metrics": {"serviceMonitor": {"enabled": True, "authorization": authorization, "tlsConfig": tls}}
    }
    (endpoint,) = find(helm.template(values), "ServiceMonitor")["spec"]["endpoints"]

    assert endpoint["authorization"] == authorization
    assert "bearerTokenFile" not in endpoint
    assert endpoint["tlsConfig"] == tls


def test_open_metrics_are_plain_http_without_token_review_rights(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["metrics-open"])
    (endpoint,) = find(manifests, "ServiceMonitor")["spec"]["endpoints"]

    assert endpoint["scheme"] == "http"
    assert not {"tlsConfig", "bearerTokenFile", "authorization"} & endpoint.keys()
    assert "--no-metrics-secure" in container(manifests)["args"]
    grants = granted(find(manifests, "ClusterRole", FULLNAME))
    assert ("authentication.k8s.io", "tokenreviews") not in grants
    assert ("authorization.k8s.io", "subjectaccessreviews") not in grants


def test_secure_metrics_by_default_with_the_rights_to_ask_the_api_server(helm: Helm) -> None:
    manifests = helm.template()

    assert "--metrics-secure" in container(manifests)["args"]
    grants = granted(find(manifests, "ClusterRole", FULLNAME))
    assert grants[("authentication.k8s.io", "tokenreviews")] == {"create"}
    assert grants[("authorization.k8s.io", "subjectaccessreviews")] == {"create"}


def test_a_metrics_reader_role_for_prometheus_bound_only_when_asked(helm: Helm) -> None:
    reader = f"{FULLNAME}-metrics-reader"
    role = find(helm.template(), "ClusterRole", reader)
    assert role["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    assert not [
        m for m in helm.template() if m["kind"] == "ClusterRoleBinding" and m["metadata"]["name"] == reader
    ]

    subjects = [{"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}]
    binding = find(
        helm.template({"metrics": {"reader": {"subjects": subjects}}}), "ClusterRoleBinding", reader
    )
    assert binding["roleRef"]["name"] == reader
    assert binding["subjects"] == subjects


# --- network policy and the API server's client certificate ---------------------------------------


def test_the_network_policy_admits_only_the_three_ports(helm: Helm) -> None:
    assert "NetworkPolicy" not in kinds(helm.template())
    manifests = helm.template(OPTIONS["network-policy"])
    policy = find(manifests, "NetworkPolicy")["spec"]

    assert policy["podSelector"] == find(manifests, "Deployment")["spec"]["selector"]
    assert policy["policyTypes"] == ["Ingress"]
    ports = [[p["port"] for p in rule["ports"]] for rule in policy["ingress"]]
    assert ports == [["webhook"], ["metrics"], ["health"]]
    webhook_rule, metrics_rule, health_rule = policy["ingress"]
    assert webhook_rule["from"] == [{"ipBlock": {"cidr": "10.0.0.0/24"}}]
    assert metrics_rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    assert "from" not in health_rule  # the kubelet probes from the node


def test_client_certificates_are_required_with_the_ca_mounted_from_a_config_map(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["client-auth"])
    args = container(manifests)["args"]

    assert "--webhook-client-ca-file=/etc/gpai-operator/client-ca/ca.crt" in args
    assert "--webhook-client-name=kube-apiserver" in args
    config_map = find(manifests, "ConfigMap", f"{FULLNAME}-client-ca")
    assert config_map["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "client-ca")
    assert volume["configMap"]["name"] == f"{FULLNAME}-client-ca"
    assert {"name": "client-ca", "mountPath": "/etc/gpai-operator/client-ca", "readOnly": True} in container(
        manifests
    )["volumeMounts"]
    assert not [a for a in container(helm.template())["args"] if a.startswith("--webhook-client")]


def test_client_certificates_can_use_an_existing_config_map_and_need_a_ca(helm: Helm) -> None:
    values = {"webhook": {"clientAuth": {"enabled": True, "existingConfigMap": "apiserver-client-ca"}}}
    manifests = helm.template(values)
    assert not [m for m in manifests if m["kind"] == "ConfigMap"]
    pod = find(manifests, "Deployment")["spec"]["template"]["spec"]
    assert (
        next(v for v in pod["volumes"] if v["name"] == "client-ca")["configMap"]["name"]
        == "apiserver-client-ca"
    )

    error = helm.template_error({"webhook": {"clientAuth": {"enabled": True}}})
    assert "webhook.clientAuth.caBundle (PEM) or webhook.clientAuth.existingConfigMap" in error


def test_dashboard_config_map_carries_the_sidecar_label_and_the_dashboard(helm: Helm) -> None:
    config_map = find(helm.template(OPTIONS["dashboard"]), "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "Compliance"}
    (dashboard,) = config_map["data"].values()
    assert json.loads(dashboard) == json.loads((CHART / "files" / "dashboard.json").read_text())


# --- the default policy ---------------------------------------------------------------------------


PACKS = sorted(path.stem for path in (REPO / "policies").glob("*.yaml"))


def as_kubernetes_reads(value: Any) -> Any:
    """A YAML value as the API server reads it: PyYAML takes `1e25` for a string and unquoted dates
    for dates, Kubernetes (YAML 1.2, then JSON) a number and a string (SPEC section 5)."""
    if isinstance(value, dict):
        return {key: as_kubernetes_reads(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_kubernetes_reads(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", value):
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("pack", PACKS)
def test_default_policy_renders_every_policy_of_the_pack(helm: Helm, pack: str) -> None:
    shipped = [
        d for d in yaml.safe_load_all((CHART / "files" / "policies" / f"{pack}.yaml").read_text()) if d
    ]
    rendered = [
        m
        for m in helm.template({"defaultPolicy": {"enabled": True, "pack": pack}})
        if m["kind"] == "CompliancePolicy"
    ]
    assert [p["metadata"]["name"] for p in rendered] == [p["metadata"]["name"] for p in shipped]
    for policy, original in zip(rendered, shipped, strict=True):
        assert policy["apiVersion"] == original["apiVersion"]
        assert as_kubernetes_reads(policy["spec"]) == as_kubernetes_reads(original["spec"])
        assert policy["metadata"]["annotations"]["gpai.dev/pack"] == pack
        assert policy["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE


def test_default_policy_spec_can_be_adjusted(helm: Helm) -> None:
    values = {
        "defaultPolicy": {
            "enabled": True,
            "pack": "eu-ai-act",
            "name": "platform",
            "specOverrides": {"validationActions": ["Warn", "Audit"]},
        }
    }
    policy = find(helm.template(values), "CompliancePolicy")
    assert policy["metadata"]["name"] == "platform"
    assert policy["spec"]["validationActions"] == ["Warn", "Audit"]


def test_an_unknown_policy_pack_is_refused_naming_the_packs(helm: Helm) -> None:
    error = helm.template_error({"defaultPolicy": {"enabled": True, "pack": "no-such-pack"}})
    assert "no-such-pack" in error
    assert ", ".join(PACKS) in error


def test_a_pack_of_several_policies_cannot_be_renamed(helm: Helm) -> None:
    several = next(
        p
        for p in PACKS
        if len([d for d in yaml.safe_load_all((REPO / "policies" / f"{p}.yaml").read_text()) if d]) > 1
    )
    error = helm.template_error({"defaultPolicy": {"enabled": True, "pack": several, "name": "platform"}})
    assert "defaultPolicy.name" in error


def test_only_labelled_workloads_is_refused_with_a_pack_that_requires_the_label(helm: Helm) -> None:
    requiring = [
        pack
        for pack in PACKS
        if any(
            d and d["spec"].get("requireModelLabel")
            for d in yaml.safe_load_all((REPO / "policies" / f"{pack}.yaml").read_text())
        )
    ]
    for pack in requiring:
        error = helm.template_error(
            {"defaultPolicy": {"enabled": True, "pack": pack}, "webhook": {"onlyLabelledWorkloads": True}}
        )
        assert "requireModelLabel" in error


# --- policy reports --------------------------------------------------------------------------------


def report_grants(manifests: list[Manifest]) -> dict[tuple[str, str], set[str]]:
    grants = granted(find(manifests, "ClusterRole", FULLNAME))
    return {key: verbs for key, verbs in grants.items() if "report" in key[1]}


def test_reports_are_on_by_default_in_the_openreports_format(helm: Helm) -> None:
    manifests = helm.template()
    assert "--reports=openreports" in container(manifests)["args"]
    assert report_grants(manifests) == {
        ("openreports.io", "reports"): REPORT_VERBS,
        ("openreports.io", "clusterreports"): REPORT_VERBS,
    }


def test_the_wgpolicyk8s_format_writes_policy_reports_with_rights_to_them_only(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["reports-wgpolicyk8s"])
    assert "--reports=wgpolicyk8s" in container(manifests)["args"]
    assert report_grants(manifests) == {
        ("wgpolicyk8s.io", "policyreports"): REPORT_VERBS,
        ("wgpolicyk8s.io", "clusterpolicyreports"): REPORT_VERBS,
    }


def test_reports_can_be_turned_off_with_their_rights(helm: Helm) -> None:
    manifests = helm.template(OPTIONS["no-reports"])
    assert "--reports=off" in container(manifests)["args"]
    assert report_grants(manifests) == {}


# --- values.schema.json ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhook": {"failurePolicy": "Sometimes"}}, "failurePolicy"),
        ({"webhook": {"timeoutSeconds": 31}}, "timeoutSeconds"),
        ({"webhok": {"enabled": False}}, "webhok"),
        ({"image": {"digest": "latest"}}, "digest"),
        ({"prometheusRule": {"alerts": {"GPAIOperatorDown": {"severity": "urgent"}}}}, "severity"),
        ({"replicaCount": "two"}, "replicaCount"),
        ({"admission": {"mode": "cel"}}, "mode"),
        ({"reports": {"format": "policyreport"}}, "format"),
        ({"reports": {"enabled": "yes"}}, "enabled"),
    ],
)
def test_schema_refuses_wrong_values_naming_them(helm: Helm, values: dict[str, Any], message: str) -> None:
    assert message in helm.template_error(values)
