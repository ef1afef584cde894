"""Which namespaces a CompliancePolicy selects: Kubernetes LabelSelector semantics."""

from __future__ import annotations

from collections.abc import Mapping

from gpai_operator.api.policy import CompliancePolicySpec, LabelSelector, LabelSelectorRequirement


def _requirement_holds(requirement: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = requirement.key in labels
    match requirement.operator:
        case "In":
            return present and labels[requirement.key] in requirement.values
        case "NotIn":
            return not present or labels[requirement.key] not in requirement.values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
    return False


def matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """True when `labels` satisfy every matchLabels entry and every matchExpression.

    An absent or empty selector matches everything (SPEC: the default is every namespace).
    """
    if selector is None:
        return True
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return False
    return all(_requirement_holds(r, labels) for r in selector.match_expressions)


def selects(policy: CompliancePolicySpec, namespace_labels: Mapping[str, str]) -> bool:
    """Whether the policy applies to a namespace with these labels."""
    return matches(policy.namespace_selector, namespace_labels)
