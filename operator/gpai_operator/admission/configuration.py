"""The ValidatingWebhookConfiguration that sends workloads to the webhook, as the chart renders it.

The chart (charts/gpai-operator/templates/webhook.yaml) registers the production one, pointing at the
operator's Service; tests, the demo and the benchmarks create this one, with the same webhooks, rules
and matchConditions, pointing at a process on loopback through `clientConfig.url` with its CA bundle.
tests/integration/admission/test_chart_configuration.py fails when the two drift apart.

- `validate.gpai.dev` (failurePolicy Fail) judges CREATE, an UPDATE that changes the pod template,
  the model label or the controller reference, and ephemeral containers added to a Pod: nothing goes
  live unjudged while the operator is down;
- `advise.gpai.dev` (failurePolicy Ignore) gets what is always allowed, to add a warning where the
  model is not compliant: DELETE, scaling (the `scale` subresource) and every other UPDATE; a team
  can always scale down, delete or relabel, even with the operator down. It also gets DELETE of a
  ModelDocumentation, to warn while the documentation must be kept (ten years: admission/retention.py).

The gate leaves out controlled objects made or changed by a trusted controller identity (a
ReplicaSet's Pods from the replicaset-controller: their controller was judged); the same objects
from anyone else are sent. The advice, a warning for a person, leaves out every controller (the
trusted ones and any kube-system service account: the garbage collector, the namespace
controller) and the operator's own requests (its annotation patches must never wait on itself);
the operator's CREATE or template changes would be judged by the gate like anyone's. The webhook applies
the same rules itself (review.py), so the conditions only keep requests away, they never decide.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import KUBE_SYSTEM_SERVICE_ACCOUNTS, TrustedControllers
from gpai_operator.admission.operations import EPHEMERAL_CONTAINERS
from gpai_operator.admission.server import PATH
from gpai_operator.api.base import GROUP, VERSION
from gpai_operator.engine import DEFAULT_KINDS, WorkloadKind, WorkloadKinds

NAME = "gpai-operator"
VALIDATE = "validate.gpai.dev"
ADVISE = "advise.gpai.dev"
TIMEOUT_SECONDS = 5


def _cel_string_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _cel_path(root: str, path: tuple[str, ...]) -> str:
    return ".".join((root, *path))


def _cel_present(root: str, path: tuple[str, ...]) -> str:
    return " && ".join(f"has({_cel_path(root, path[: i + 1])})" for i in range(len(path)))


def _cel_changed(path: tuple[str, ...]) -> str:
    """Whether the value at `path` differs between oldObject and object, absent values included."""
    new, old = _cel_path("object", path), _cel_path("oldObject", path)
    present_new, present_old = _cel_present("object", path), _cel_present("oldObject", path)
    return f"({present_new}) != ({present_old}) || (({present_new}) && {new} != {old})"


# Built-in kinds whose schema requires spec.template: compared without guards (the last branch).
_TEMPLATE_REQUIRED = frozenset(
    {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job")}
)


def template_changed(kinds: WorkloadKinds) -> str:
    """CEL: the pod template (the spec, for Pods and InferenceServices) of the kind under review changed.

    A template the kind's schema does not require (ReplicaSet, ReplicationController, configured
    kinds) is compared with guards: a CEL error in a matchCondition would refuse the request. A
    CronJob's is its job template's pod template, as the engine compares (engine/kinds.py): the
    native policies decide by this condition, so it must not judge more (a new backoffLimit).
    """
    branches = ['request.kind.kind in ["Pod", "InferenceService"] ? object.spec != oldObject.spec :']
    for kind in kinds:
        if kind.key in _TEMPLATE_REQUIRED or kind.kind in ("Pod", "InferenceService"):
            continue
        test = " || ".join(f"({_cel_changed(path)})" for path in kind.templates)
        branches.append(
            f'request.kind.group == "{kind.group}" && request.kind.kind == "{kind.kind}" ? ({test}) :'
        )
    return "(" + " ".join([*branches, "object.spec.template != oldObject.spec.template"]) + ")"


MODEL_LABEL_CHANGED = (
    '(has(object.metadata.labels) && "gpai.dev/model" in object.metadata.labels ? '
    'object.metadata.labels["gpai.dev/model"] : "") != '
    '(has(oldObject.metadata.labels) && "gpai.dev/model" in oldObject.metadata.labels ? '
    'oldObject.metadata.labels["gpai.dev/model"] : "")'
)
# A controller reference added, or pointing at another object (by uid); removing one (orphaning) is not.
CONTROLLER_CLAIMED = (
    "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, "
    "has(r.controller) && r.controller == true && !(has(oldObject.metadata.ownerReferences) && "
    "oldObject.metadata.ownerReferences.exists(o, has(o.controller) && o.controller == true && "
    "o.uid == r.uid)))"
)


def what_runs_changed(kinds: WorkloadKinds) -> str:
    """CEL, for an UPDATE of a main resource: the template, the model label or the controller changed."""
    return f"{template_changed(kinds)} || {MODEL_LABEL_CHANGED} || ({CONTROLLER_CLAIMED})"


def subresource_is(name: str) -> str:
    """CEL: the request is for that subresource (`request.subResource` is absent for main resources,
    and reading an absent field is an error, which in a matchCondition refuses the request)."""
    return f'(has(request.subResource) && request.subResource == "{name}")'


def not_a_trusted_controllers_object(trusted: TrustedControllers) -> str:
    """CEL: the request is not a trusted controller's, or its object has no controller reference."""
    subject = '(request.operation == "DELETE" ? oldObject : object)'
    return (
        f"!(request.userInfo.username in {_cel_string_list(sorted(trusted.usernames))}) || "
        f"!has({subject}.metadata.ownerReferences) || "
        f"!{subject}.metadata.ownerReferences.exists(r, has(r.controller) && r.controller == true)"
    )


def selected_namespaces(
    excluded_namespaces: Iterable[str], namespace_selector: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The namespaceSelector: never the excluded namespaces (by their immutable name label), and
    only those `namespace_selector` selects."""
    selector = {key: value for key, value in (namespace_selector or {}).items() if key != "matchExpressions"}
    selector["matchExpressions"] = [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": list(dict.fromkeys(excluded_namespaces)),
        },
        *(namespace_selector or {}).get("matchExpressions", []),
    ]
    return selector


def trusted_controllers_condition(trusted: TrustedControllers) -> dict[str, str]:
    return {
        "name": "not-a-trusted-controllers-object",
        "expression": not_a_trusted_controllers_object(trusted),
    }


def gate_condition(kinds: WorkloadKinds) -> dict[str, str]:
    """The gate's matchCondition: CREATE, ephemeral containers, or an UPDATE changing what runs."""
    return {
        "name": "create-or-what-runs-changed",
        "expression": (
            f'request.operation == "CREATE" || {subresource_is(EPHEMERAL_CONTAINERS)} || '
            f"{what_runs_changed(kinds)}"
        ),
    }


def served_kinds(kinds: WorkloadKinds, kserve: bool) -> list[WorkloadKind]:
    return [k for k in kinds if kserve or k.key != ("serving.kserve.io", "InferenceService")]


def gate_rules(served: Iterable[WorkloadKind]) -> list[dict[str, Any]]:
    """What the gate sees: CREATE and UPDATE of the workload kinds, and ephemeral containers."""
    ephemeral = {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "resources": [f"pods/{EPHEMERAL_CONTAINERS}"],
        "operations": ["UPDATE"],
        "scope": "Namespaced",
    }
    return [*rules(served, ("CREATE", "UPDATE")), ephemeral]


def not_a_controller(trusted: TrustedControllers) -> str:
    """CEL: the request is not a controller's (trusted, or any kube-system service account)."""
    return (
        f"!(request.userInfo.username in {_cel_string_list(sorted(trusted.usernames))}) && "
        f'!request.userInfo.username.startsWith("{KUBE_SYSTEM_SERVICE_ACCOUNTS}")'
    )


def webhook_configuration(
    url: str,
    ca_bundle: bytes,
    *,
    name: str = NAME,
    operator_username: str | None = None,
    excluded_namespaces: Iterable[str] = ("kube-system",),
    namespace_selector: Mapping[str, Any] | None = None,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    trusted: TrustedControllers = DEFAULT_TRUST,
    kserve: bool = True,
) -> dict[str, Any]:
    """The configuration calling `url` (ending in /validate) and trusting `ca_bundle` (PEM).

    `operator_username` is the operator's identity, whose metadata-only requests are not sent for
    advice; leave it None when the operator shares its identity with the people using the cluster
    (the demo's admin).
    """
    client_config = {"url": url, "caBundle": base64.b64encode(ca_bundle).decode()}
    selector = selected_namespaces(excluded_namespaces, namespace_selector)
    trusted_condition = trusted_controllers_condition(trusted)
    served = served_kinds(kinds, kserve)

    def webhook(
        webhook_name: str, rules: list[dict[str, Any]], failure_policy: str, conditions: list[dict[str, str]]
    ) -> dict[str, Any]:
        return {
            "name": webhook_name,
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "timeoutSeconds": TIMEOUT_SECONDS,
            "failurePolicy": failure_policy,
            "matchPolicy": "Equivalent",
            "clientConfig": client_config,
            "rules": rules,
            "namespaceSelector": selector,
            "matchConditions": conditions,
        }

    changed = what_runs_changed(kinds)
    gate = gate_condition(kinds)
    not_gated = {
        "name": "not-judged-by-the-gate",
        "expression": f'request.operation == "DELETE" || {subresource_is("scale")} || !({changed})',
    }
    advice_conditions = [{"name": "not-a-controller", "expression": not_a_controller(trusted)}, not_gated]
    if operator_username is not None:
        not_operator = {
            "name": "not-the-operator",
            "expression": f'request.userInfo.username != "{operator_username}"',
        }
        advice_conditions.insert(0, not_operator)
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "gpai-operator"}},
        "webhooks": [
            webhook(
                VALIDATE,
                gate_rules(served),
                "Fail",
                [trusted_condition, gate],
            ),
            webhook(
                ADVISE,
                rules(served, ("UPDATE", "DELETE"))
                + rules(served, ("UPDATE",), "scale")
                + [DOCUMENTATION_DELETE],
                "Ignore",
                advice_conditions,
            ),
        ],
    }


# Deleting a ModelDocumentation: advice only (a warning while it must be kept), never judged.
DOCUMENTATION_DELETE: dict[str, Any] = {
    "apiGroups": [GROUP],
    "apiVersions": [VERSION],
    "resources": ["modeldocumentations"],
    "operations": ["DELETE"],
    "scope": "Namespaced",
}


# Kinds with a scale subresource among the built-in ones; configured kinds are assumed to have one
# (a rule for a subresource a kind does not serve matches nothing).
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "InferenceService"})


def rules(
    kinds: Iterable[WorkloadKind], operations: tuple[str, ...], subresource: str = ""
) -> list[dict[str, Any]]:
    """One rule per kind (its main resource, or a subresource), in the kinds' order."""
    return [
        {
            "apiGroups": [kind.group],
            "apiVersions": [kind.version or "*"],
            "resources": [f"{kind.resource}/{subresource}" if subresource else kind.resource],
            "operations": list(operations),
            "scope": "Namespaced",
        }
        for kind in kinds
        if not subresource or not kind.builtin or kind.kind in SCALABLE
    ]


def webhook_url(host: str, port: int) -> str:
    return f"https://{host}:{port}{PATH}"
