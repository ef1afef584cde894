"""Classification of a model under one policy's parameters (OBLIGATIONS.md, "Classification")."""

from __future__ import annotations

from gpai_operator.api.gpaimodel import GPAIModelSpec
from gpai_operator.api.policy import Parameters
from gpai_operator.engine.verdicts import Classification


def classify(spec: GPAIModelSpec, parameters: Parameters) -> Classification:
    flops = spec.training_compute.flops if spec.training_compute else None
    designated = bool(spec.systemic_risk and spec.systemic_risk.designated)
    # Art. 51(2): the threshold itself counts ("greater than or equal to").
    systemic_risk = designated or (flops is not None and flops >= parameters.systemic_risk_flops)
    license_ = spec.license
    open_source_exempt = (
        license_ is not None
        and license_.open_source
        and license_.weights_public
        and not license_.monetised
        and not systemic_risk
    )
    legacy = spec.eu_market_date is not None and spec.eu_market_date < parameters.cutoff
    return Classification(
        systemic_risk=systemic_risk,
        open_source_exempt=open_source_exempt,
        legacy=legacy,
        eu_provider=spec.provider.established_in_eu,
    )


def combine(classifications: list[Classification]) -> Classification:
    """Across policies: systemic risk if any policy finds it; exempt or legacy only if all do."""
    return Classification(
        systemic_risk=any(c.systemic_risk for c in classifications),
        open_source_exempt=all(c.open_source_exempt for c in classifications),
        legacy=all(c.legacy for c in classifications),
        eu_provider=classifications[0].eu_provider,
    )
