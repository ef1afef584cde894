"""Classification of a model under one policy's parameters (OBLIGATIONS.md, "Classification")."""

from __future__ import annotations

from gpai_operator.api.gpaimodel import CHAPTERS, Chapter, GPAIModelSpec
from gpai_operator.api.policy import Parameters
from gpai_operator.engine.value_chain import Original, role, total_compute
from gpai_operator.engine.verdicts import Classification


def classify(spec: GPAIModelSpec, parameters: Parameters, original: Original | None = None) -> Classification:
    """`original`: what is known of the model this one was made from (spec.derivedFrom), if any."""
    # A modified model's systemic risk follows its own cumulative compute (engine/value_chain.py).
    flops = total_compute(spec, original)
    evidence = spec.systemic_risk
    designated = bool(evidence and evidence.designated)
    # Art. 51(2): presumed "when the cumulative amount of computation used for its training ... is
    # greater than 10^(25)": the threshold itself does not count.
    above = flops is not None and flops > parameters.systemic_risk_flops
    # Art. 52(2)-(3): only a rebuttal the Commission accepted removes the presumption; it never
    # undoes a designation.
    rebutted = (
        above
        and evidence is not None
        and evidence.rebuttal is not None
        and (evidence.rebuttal.outcome == "Accepted")
    )
    systemic_risk = designated or (above and not rebutted)
    license_ = spec.license
    open_source_exempt = (
        license_ is not None
        and license_.open_source
        and license_.weights_public
        and not license_.monetised
        and not systemic_risk
    )
    legacy = spec.eu_market_date is not None and spec.eu_market_date < parameters.cutoff
    chain_role, role_reason = role(spec, parameters, original)
    return Classification(
        compute_presumption=above and not rebutted,
        designated=designated,
        open_source_exempt=open_source_exempt,
        legacy=legacy,
        eu_provider=spec.provider.established_in_eu,
        rebutted=rebutted,
        signed=signed_chapters(spec),
        role=chain_role,
        role_reason=role_reason,
        compute=flops,
    )


def signed_chapters(spec: GPAIModelSpec) -> tuple[Chapter, ...]:
    declared = spec.provider.code_of_practice
    if declared is None:
        return ()
    return tuple(c for c in CHAPTERS if declared.adherence(c) == "Signatory")


def combine(classifications: list[Classification]) -> Classification:
    """Across policies: systemic risk if any policy finds it; exempt or legacy only if all do; the
    provider's duties (ModifierProvider) if any policy finds the modification above its line."""
    first = classifications[0]
    modifier = next((c for c in classifications if c.role == "ModifierProvider"), first)
    return Classification(
        compute_presumption=any(c.compute_presumption for c in classifications),
        designated=first.designated,
        open_source_exempt=all(c.open_source_exempt for c in classifications),
        legacy=all(c.legacy for c in classifications),
        eu_provider=first.eu_provider,
        rebutted=any(c.rebutted for c in classifications),
        signed=first.signed,
        role=modifier.role,
        role_reason=modifier.role_reason,
        compute=first.compute,
    )
