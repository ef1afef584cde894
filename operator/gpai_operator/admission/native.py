"""The native gate: ValidatingAdmissionPolicies that judge workloads inside the API server.

The chart (charts/gpai-operator/templates/validating-admission-policy.yaml) renders them in the
`native` and `both` admission modes; tests, the demo and the benchmarks create these, the same ones;
tests/integration/native/test_chart_policies.py fails when the two drift apart.

They decide from one parameter object per namespace, the AdmissionVerdicts `gpai-verdicts` the
operator writes (admission_verdicts.py): no call to the operator, so the gate holds while it is down,
on the last verdicts it wrote. A binding's validationActions apply to every validation of its policy,
so each action has its policy and binding:

- `<name>-deny` (Deny): the workloads the engine denies; the API server refuses them (403, Forbidden);
- `<name>-warn` (Warn): those it allows with a warning, which the API server returns to the client;
- `<name>-audit` (Audit): those an Audit policy finds in violation, recorded in the audit log;
- `<name>-requires-verdicts` (Deny): keeps the gate closed in a namespace without its verdicts
  (`parameterNotFoundAction: Deny`): the API server refuses with "failed to configure binding: no
  params found", naming this policy. The three above let such a request pass
  (`parameterNotFoundAction: Allow`), so the refusal comes with this one name only.

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
from gpai_operator.engine.kinds import DEFAULT as DEFAULT_KINDS
from gpai_operator.engine.kinds import WorkloadKinds
from gpai_operator.engine.state import MODEL_LABEL

ADMISSIONREGISTRATION = "admissionregistration.k8s.io/v1"
GATE_ACTIONS: tuple[Literal["Deny", "Warn", "Audit"], ...] = ("Deny", "Warn", "Audit")
REQUIRES_VERDICTS = "requires-verdicts"
# How the engine words each decision (engine/workloads.py).
_VERB = {"Deny": "is denied", "Warn": "is allowed with a warning", "Audit": "is allowed (audited)"}


def policy_name(name: str, action: str) -> str:
    """`<name>-deny`, `<name>-warn`, `<name>-audit` or `<name>-requires-verdicts`."""
    return f"{name}-{action.lower()}"


def variables(action: str) -> list[dict[str, str]]:
    """CEL shared by the validation and its message: the model label, whether the model exists, and
    the policies behind this action's decision (empty: the workload passes)."""
    section = f"params.spec.{action.lower()}"
    return [
        {
            "name": "model",
            "expression": (
                f'has(object.metadata.labels) && "{MODEL_LABEL}" in object.metadata.labels ? '
                f'object.metadata.labels["{MODEL_LABEL}"] : ""'
            ),
        },
        {"name": "known", "expression": "variables.model in params.spec.models"},
        {
            "name": "policies",
            "expression": (
                f'variables.model == "" ? {section}.unlabelled : '
                f"!variables.known ? {section}.unknownModel : "
                f"variables.model in {section}.models ? {section}.models[variables.model].policies : []"
            ),
        },
    ]


def message(action: str) -> str:
    """CEL: the engine's header for the decision, the unmet ids, and where the details are."""
    section = f"params.spec.{action.lower()}"
    unmet = f"{section}.models[variables.model].unmet"
    workload = (
        'request.kind.kind + " " + request.namespace + "/" + '
        "(has(object.metadata.name) ? object.metadata.name : request.name)"
    )
    model = 'request.namespace + "/" + variables.model'
    return (
        f'{workload} + " {_VERB[action]} by " + '
        'variables.policies.map(p, p == "" ? "the built-in default policy" : "policy " + p).join(", ") + '
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
) -> list[dict[str, Any]]:
    """The four ValidatingAdmissionPolicies, each followed by its binding, as the chart renders them
    for a release named `name` (`excluded_namespaces`: kube-system and the operator's namespace)."""
    constraints = {
        "matchPolicy": "Equivalent",
        "namespaceSelector": selected_namespaces(excluded_namespaces, namespace_selector),
        "resourceRules": gate_rules(served_kinds(kinds, kserve)),
    }
    conditions = [trusted_controllers_condition(trusted), gate_condition(kinds)]
    objects: list[dict[str, Any]] = []
    guard = policy_name(name, REQUIRES_VERDICTS)
    objects += [
        _policy(guard, "Fail", constraints, [], [], [{"expression": "true"}]),
        _binding(guard, "Deny", "Deny"),
    ]
    for action in GATE_ACTIONS:
        validation = {"expression": "size(variables.policies) == 0", "messageExpression": message(action)}
        if action == "Deny":
            validation["reason"] = "Forbidden"
        named = policy_name(name, action)
        # Only the deny policy refuses on a CEL error; warnings and audit records never do.
        failure = "Fail" if action == "Deny" else "Ignore"
        objects += [
            _policy(named, failure, constraints, conditions, variables(action), [validation]),
            _binding(named, action, "Allow"),
        ]
    return objects


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "labels": {"app.kubernetes.io/name": "gpai-operator"}}


def _policy(
    name: str,
    failure_policy: str,
    constraints: dict[str, Any],
    conditions: list[dict[str, str]],
    cel_variables: list[dict[str, str]],
    validations: list[dict[str, str]],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "failurePolicy": failure_policy,
        "paramKind": {"apiVersion": API_VERSION, "kind": ADMISSION_VERDICTS.kind},
        "matchConstraints": constraints,
    }
    if conditions:
        spec["matchConditions"] = conditions
    if cel_variables:
        spec["variables"] = cel_variables
    spec["validations"] = validations
    return {
        "apiVersion": ADMISSIONREGISTRATION,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": _metadata(name),
        "spec": spec,
    }


def _binding(name: str, action: str, parameter_not_found: str) -> dict[str, Any]:
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
