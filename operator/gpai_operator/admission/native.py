"""The native gate: ValidatingAdmissionPolicies that judge workloads inside the API server.

The chart (charts/gpai-operator/templates/validating-admission-policy.yaml) renders them in the
`native` and `both` admission modes; tests, the demo and the benchmarks create these, the same ones;
tests/integration/admission/test_chart_native.py fails when the two drift apart.

They decide from one parameter object per namespace, the AdmissionVerdicts `gpai-verdicts` the
operator writes (admission_verdicts.py): no call to the operator, so the gate holds while it is down,
on the last verdicts it wrote. A binding's validationActions apply to every validation of its policy,
and Deny and Warn cannot share a binding, hence two policies, each with its binding:

- `<name>-deny`, validationActions [Deny]: refuses (403, Forbidden) what the engine denies. Its
  `auditAnnotations` record, under the key `<name>-deny/audit`, what an Audit policy finds (the
  audit log is where ValidatingAdmissionPolicy's own Audit action writes too; a third policy would
  cost every request another evaluation). Its binding's `parameterNotFoundAction: Deny` keeps the
  gate closed in a namespace without its verdicts: the API server refuses with "failed to configure
  binding: no params found for policy binding with `Deny` parameterNotFoundAction".
- `<name>-warn`, validationActions [Warn]: what the engine allows with a warning, returned to the
  client as a warning. Without verdicts it stays silent (`parameterNotFoundAction: Allow`). Only in
  the `native` mode: in `both` the webhook gives the warnings (with every obligation spelt out), and
  the request is spared an evaluation.

Each policy costs every request it matches an evaluation (kube-apiserver v1.34 converts the object
for each of a policy's matchConditions, validations, messages and audit annotations), whatever the
size of the parameter: hence as few as the actions need.

They see what the webhook's gate sees (configuration.py): CREATE and the UPDATEs that change what
runs of every workload kind, and ephemeral containers, in the same namespaces, with the same
matchConditions (trusted controllers' objects left out). A missing parameter is a configuration
error, which the API server raises before it evaluates matchConditions: in a namespace without its
verdicts every CREATE and UPDATE of a workload is refused, also a controller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from gpai_operator.admission.configuration import (
    NAME,
    gate_condition,
    gate_rules,
    selected_namespaces,
    served_kinds,
    trusted_controllers_condition,
)
from gpai_operator.admission.identities import DEFAULT as DEFAULT_TRUST
from gpai_operator.admission.identities import TrustedControllers
from gpai_operator.api.base import API_VERSION
from gpai_operator.api.kinds import ADMISSION_VERDICTS
from gpai_operator.api.obligations import WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS
from gpai_operator.api.verdicts import NAME as VERDICTS
from gpai_operator.engine import DEFAULT_KINDS, MODEL_LABEL, WorkloadKinds

ADMISSIONREGISTRATION = "admissionregistration.k8s.io/v1"
Section = Literal["deny", "warn", "audit"]  # the sections of an AdmissionVerdicts spec
AUDIT_KEY = "audit"
# How the engine words each decision (engine/workloads.py); an audit record is not a decision.
_VERB: dict[Section, str] = {
    "deny": "is denied",
    "warn": "is allowed with a warning",
    "audit": "is audited",
}


def policy_name(name: str, action: Literal["Deny", "Warn"]) -> str:
    """`<name>-deny` or `<name>-warn`."""
    return f"{name}-{action.lower()}"


def variables(*sections: Section) -> list[dict[str, str]]:
    """CEL shared by validations, messages and audit annotations: the model label, whether the model
    exists, and per section the policies behind its decision for the workload (none: it passes)."""
    found = [
        {"name": "model", "expression": _label("object")},
        {"name": "known", "expression": "variables.model in params.spec.models"},
    ]
    for section in sections:
        at = f"params.spec.{section}"
        found.append(
            {
                "name": section,
                "expression": (
                    f'variables.model == "" ? {at}.unlabelled : '
                    f"!variables.known ? {at}.unknownModel : "
                    f"variables.model in {at}.models ? {at}.models[variables.model].policies : []"
                ),
            }
        )
    return found


def _label(root: str) -> str:
    return (
        f'has({root}.metadata.labels) && "{MODEL_LABEL}" in {root}.metadata.labels ? '
        f'{root}.metadata.labels["{MODEL_LABEL}"] : ""'
    )


def message(section: Section) -> str:
    """CEL: the engine's header for the decision, the unmet ids, and where the details are."""
    unmet = f"params.spec.{section}.models[variables.model].unmet"
    workload = (
        'request.kind.kind + " " + request.namespace + "/" + '
        "(has(object.metadata.name) ? object.metadata.name : request.name)"
    )
    model = 'request.namespace + "/" + variables.model'
    return (
        f'{workload} + " {_VERB[section]} by " + '
        f'variables.{section}.map(p, p == "" ? "the built-in default policy" : "policy " + p).join(", ") + '
        '": " + (variables.model == "" ? '
        f'"it has no {MODEL_LABEL} label, which leaves 1 obligation unmet: {WORKLOAD_MODEL_DECLARED}. '
        f'To fix: add the label {MODEL_LABEL}: <GPAIModel name>" : '
        f'!variables.known ? "GPAIModel " + {model} + " does not exist, which leaves 1 obligation unmet: '
        f'{WORKLOAD_MODEL_EXISTS}. To fix: create it or fix the {MODEL_LABEL} label" : '
        f'"it serves GPAIModel " + {model} + " version " + params.spec.models[variables.model] + '
        f'", which leaves " + string(size({unmet})) + '
        f'(size({unmet}) == 1 ? " obligation" : " obligations") + " unmet: " + {unmet}.join(", ") + '
        '". In full: kubectl describe gpai " + variables.model + " -n " + request.namespace)'
    )


def native_policies(
    *,
    name: str = NAME,
    excluded_namespaces: Iterable[str] = ("kube-system",),
    namespace_selector: Mapping[str, Any] | None = None,
    kinds: WorkloadKinds = DEFAULT_KINDS,
    trusted: TrustedControllers = DEFAULT_TRUST,
    kserve: bool = True,
    warnings: bool = True,
) -> list[dict[str, Any]]:
    """The ValidatingAdmissionPolicies, each followed by its binding, as the chart renders them for a
    release named `name` (`excluded_namespaces`: kube-system and the operator's namespace). Without
    `warnings` (admission mode `both`, where the webhook gives them) only the deny policy."""
    spec: dict[str, Any] = {
        "paramKind": {"apiVersion": API_VERSION, "kind": ADMISSION_VERDICTS.kind},
        "matchConstraints": {
            "matchPolicy": "Equivalent",
            "namespaceSelector": selected_namespaces(excluded_namespaces, namespace_selector),
            "resourceRules": gate_rules(served_kinds(kinds, kserve)),
        },
        "matchConditions": [trusted_controllers_condition(trusted), gate_condition(kinds)],
    }
    deny = {
        **spec,
        "failurePolicy": "Fail",
        "variables": variables("deny", "audit"),
        "validations": [
            {
                "expression": "size(variables.deny) == 0",
                "messageExpression": message("deny"),
                "reason": "Forbidden",
            }
        ],
        "auditAnnotations": [
            {  # an empty value publishes no annotation
                "key": AUDIT_KEY,
                "valueExpression": f'size(variables.audit) == 0 ? "" : {message("audit")}',
            }
        ],
    }
    warn = {  # warnings never refuse, not even on a CEL error
        **spec,
        "failurePolicy": "Ignore",
        "variables": variables("warn"),
        "validations": [{"expression": "size(variables.warn) == 0", "messageExpression": message("warn")}],
    }
    gate = [
        _policy(policy_name(name, "Deny"), deny),
        _binding(policy_name(name, "Deny"), "Deny", parameter_not_found="Deny"),
    ]
    if not warnings:
        return gate
    return [
        *gate,
        _policy(policy_name(name, "Warn"), warn),
        _binding(policy_name(name, "Warn"), "Warn", parameter_not_found="Allow"),
    ]


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "labels": {"app.kubernetes.io/name": "gpai-operator"}}


def _policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": ADMISSIONREGISTRATION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": _metadata(name),
        "spec": spec,
    }


def _binding(name: str, action: str, *, parameter_not_found: str) -> dict[str, Any]:
    return {
        "apiVersion": ADMISSIONREGISTRATION,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": _metadata(name),
        "spec": {
            "policyName": name,
            "paramRef": {"name": VERDICTS, "parameterNotFoundAction": parameter_not_found},
            "validationActions": [action],
        },
    }
