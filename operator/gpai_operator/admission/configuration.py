"""The ValidatingWebhookConfiguration that sends workloads to the webhook, as the chart renders it.

The chart (charts/gpai-operator/templates/webhook.yaml) registers the production one, pointing at the
operator's Service; tests, the demo and the benchmarks create this one, with the same webhooks, rules
and matchConditions, pointing at a process on loopback through `clientConfig.url` with its CA bundle.
tests/integration/admission/test_chart_configuration.py fails when the two drift apart.

- `validate.gpai.dev` (failurePolicy Fail) judges CREATE, and UPDATE that changes the pod template
  or the model label: nothing goes live unjudged while the operator is down;
- `advise.gpai.dev` (failurePolicy Ignore) gets what is always allowed, to add a warning where the
  model is not compliant: DELETE, scaling (the `scale` subresource) and every other UPDATE; a team
  can always scale down, delete or relabel, even with the operator down.

Both leave out the operator's own requests (its annotation patches must never wait on itself) and
objects controlled by another (their controller was judged). The webhook applies the same rules
itself (review.py), so the conditions only keep requests away, they never decide.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from gpai_operator.admission.server import PATH

NAME = "gpai-operator"
VALIDATE = "validate.gpai.dev"
ADVISE = "advise.gpai.dev"
TIMEOUT_SECONDS = 5

# (group, version) -> plurals of the workload kinds of SPEC section 3.
WORKLOAD_RESOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("apps", "v1", ("deployments", "statefulsets", "daemonsets")),
    ("batch", "v1", ("jobs", "cronjobs")),
    ("", "v1", ("pods",)),
    ("serving.kserve.io", "*", ("inferenceservices",)),
)
SCALABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("apps", "v1", ("deployments/scale", "statefulsets/scale")),
    ("serving.kserve.io", "*", ("inferenceservices/scale",)),
)

# CEL, as in the chart's templates/_helpers.tpl. On DELETE the object is the old one.
NOT_CONTROLLED = (
    '!has((request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences) || '
    '!(request.operation == "DELETE" ? oldObject : object).metadata.ownerReferences.exists(r, '
    "has(r.controller) && r.controller == true)"
)
TEMPLATE_OR_MODEL_LABEL_CHANGED = (
    '(request.kind.kind == "CronJob" ? object.spec.jobTemplate != oldObject.spec.jobTemplate : '
    'request.kind.kind in ["Pod", "InferenceService"] ? object.spec != oldObject.spec : '
    "object.spec.template != oldObject.spec.template) || "
    '(has(object.metadata.labels) && "gpai.dev/model" in object.metadata.labels ? '
    'object.metadata.labels["gpai.dev/model"] : "") != '
    '(has(oldObject.metadata.labels) && "gpai.dev/model" in oldObject.metadata.labels ? '
    'oldObject.metadata.labels["gpai.dev/model"] : "")'
)


def webhook_configuration(
    url: str,
    ca_bundle: bytes,
    *,
    name: str = NAME,
    operator_username: str | None = None,
    excluded_namespaces: Iterable[str] = ("kube-system",),
    namespace_selector: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The configuration calling `url` (ending in /validate) and trusting `ca_bundle` (PEM).

    `operator_username` is the operator's identity, whose requests are never sent; leave it None
    when the operator shares its identity with the people using the cluster (the demo's admin).
    """
    client_config = {"url": url, "caBundle": base64.b64encode(ca_bundle).decode()}
    selector = {key: value for key, value in (namespace_selector or {}).items() if key != "matchExpressions"}
    selector["matchExpressions"] = [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": list(dict.fromkeys(excluded_namespaces)),
        },
        *(namespace_selector or {}).get("matchExpressions", []),
    ]
    common = []
    if operator_username is not None:
        common.append(
            {"name": "not-the-operator", "expression": f'request.userInfo.username != "{operator_username}"'}
        )
    common.append({"name": "not-controlled-by-another-object", "expression": NOT_CONTROLLED})

    def webhook(
        webhook_name: str, rules: list[dict[str, Any]], failure_policy: str, condition: dict[str, str]
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
            "matchConditions": [*common, condition],
        }

    gate = {
        "name": "create-or-template-or-model-label-change",
        "expression": f'request.operation == "CREATE" || {TEMPLATE_OR_MODEL_LABEL_CHANGED}',
    }
    not_gated = {
        "name": "not-judged-by-the-gate",
        "expression": (
            'request.operation == "DELETE" || request.subResource == "scale" || '
            f"!({TEMPLATE_OR_MODEL_LABEL_CHANGED})"
        ),
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "gpai-operator"}},
        "webhooks": [
            webhook(VALIDATE, _rules(WORKLOAD_RESOURCES, ("CREATE", "UPDATE")), "Fail", gate),
            webhook(
                ADVISE,
                _rules(WORKLOAD_RESOURCES, ("UPDATE", "DELETE")) + _rules(SCALABLE, ("UPDATE",)),
                "Ignore",
                not_gated,
            ),
        ],
    }


def _rules(
    resources: tuple[tuple[str, str, tuple[str, ...]], ...], operations: tuple[str, ...]
) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [group],
            "apiVersions": [version],
            "resources": list(plurals),
            "operations": list(operations),
            "scope": "Namespaced",
        }
        for group, version, plurals in resources
    ]


def webhook_url(host: str, port: int) -> str:
    return f"https://{host}:{port}{PATH}"
