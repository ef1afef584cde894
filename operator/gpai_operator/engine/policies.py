"""CompliancePolicies as the engine uses them: selection by namespace, the built-in default,
and a policy compiled once per evaluation (its obligations, field lists and exceptions by model).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from gpai_operator.api.policy import CompliancePolicySpec, PolicyException
from gpai_operator.engine.catalogue import CATALOGUE, Obligation
from gpai_operator.engine.selectors import selects
from gpai_operator.engine.state import ClusterState, ModelKey, Resource
from gpai_operator.engine.verdicts import Action

# SPEC section 2: where no policy selects a namespace, every obligation with the law's parameters
# is evaluated for status and metrics, and violations are only audited.
DEFAULT_POLICY: Resource[CompliancePolicySpec] = Resource(
    namespace="",
    name="",
    spec=CompliancePolicySpec(
        validation_actions=["Audit"], description="Built-in default: every obligation, audit only."
    ),
)


def policy_label(name: str) -> str:
    return f"policy {name}" if name else "the built-in default policy"


def selecting_policies(state: ClusterState, namespace: str) -> tuple[Resource[CompliancePolicySpec], ...]:
    """The policies that select `namespace`, by name; the built-in default when none does."""
    labels = state.namespace_labels(namespace)
    found = tuple(p for _, p in sorted(state.policies.items()) if selects(p.spec, labels))
    return found or (DEFAULT_POLICY,)


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    spec: CompliancePolicySpec
    actions: tuple[Action, ...]
    obligations: tuple[Obligation, ...]  # catalogue order
    exceptions: Mapping[ModelKey, tuple[PolicyException, ...]]
    parameters_key: tuple[object, ...]  # the parameters as a cheap hashable value
    _fields: Mapping[tuple[str, bool], tuple[str, ...]]

    @classmethod
    def of(cls, policy: Resource[CompliancePolicySpec]) -> CompiledPolicy:
        spec = policy.spec
        listed = set(spec.obligations)
        obligations = tuple(o for o in CATALOGUE if not listed or o.id in listed)
        extra: dict[str, list[str]] = defaultdict(list)
        for additional in spec.additional_required_fields:
            extra[additional.obligation] += additional.fields
        # Field lists for every obligation, not only the policy's own: a downstream model's check of
        # its original judges transparency/downstream-information under this policy's lists.
        fields = {
            (o.id, systemic): _unique(
                o.required_fields + (o.systemic_risk_fields if systemic else ()) + tuple(extra[o.id])
            )
            for o in CATALOGUE
            for systemic in (False, True)
        }
        exceptions: dict[ModelKey, list[PolicyException]] = defaultdict(list)
        for exception in spec.exceptions:
            exceptions[(exception.namespace, exception.model)].append(exception)
        return cls(
            name=policy.name,
            spec=spec,
            actions=tuple(spec.validation_actions),
            obligations=obligations,
            exceptions={key: tuple(found) for key, found in exceptions.items()},
            parameters_key=tuple(
                tuple(value) if isinstance(value, list) else value
                for value in spec.parameters.model_dump().values()
            ),
            _fields=fields,
        )

    @property
    def label(self) -> str:
        return policy_label(self.name)

    def required_fields(self, obligation: Obligation, systemic_risk: bool) -> tuple[str, ...]:
        return self._fields[(obligation.id, systemic_risk)]

    def exceptions_for(self, key: ModelKey, obligation_id: str) -> tuple[PolicyException, ...]:
        """Exceptions naming this model that cover this obligation (all, when none are listed)."""
        return tuple(
            e for e in self.exceptions.get(key, ()) if not e.obligations or obligation_id in e.obligations
        )


def _unique(paths: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(paths))
