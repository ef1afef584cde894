"""The value chain: who owes the provider's duties for a modified model (a fine-tune, a distillation).

Commission guidelines of 18 July 2025 (OBLIGATIONS.md, additions of 2026-11-30, "The value chain"):
whoever modifies a GPAI model becomes the provider of the modified model only when the modification
uses more than a third of the original model's training compute; that provider's duties cover the
modification. Below that line the modifier is downstream: the duties stay with the original's
provider, and the modifier needs that provider's information for downstream providers.

- `role` decides Provider, ModifierProvider or Downstream from the compute compared;
- `total_compute` is what the systemic-risk threshold is compared with for a modified model: its
  cumulative training compute (Art. 51(2)), the original's plus the modification's;
- `upstream_information` is the check of value-chain/upstream-information;
- `listing_the_original` adds to the technical documentation of a ModifierProvider that
  general.dependencies names the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gpai_operator.api.gpaimodel import DerivedFrom, GPAIModelSpec
from gpai_operator.api.policy import Parameters
from gpai_operator.api.status import Role
from gpai_operator.engine.evidence import Check, Evidence, Finding, FindingStatus, Terms
from gpai_operator.engine.verdicts import SEVERITY, Classification

# Guidelines para 17: a model trained with more than 1e23 FLOP is indicatively a GPAI model. Without
# the original's compute, a third of this line (or of the systemic-risk threshold, for an original
# with systemic risk) is the one the modification is compared with.
GPAI_INDICATIVE_FLOPS = 1e23
DOWNSTREAM_DUTY = "value-chain/upstream-information"


@dataclass(frozen=True, slots=True)
class Original:
    """What is known of the model a derived model was made from."""

    flops: float | None  # its training compute (cumulative, if it was itself modified), when known
    systemic_risk: bool  # known to have systemic risk: a GPAIModel in the namespace classified so
    source: str  # where the compute comes from, for messages


def _exact(value: float) -> Decimal:
    """The number as written (3e24 is exactly 3e24), so a third of it compares without rounding."""
    return Decimal(repr(value))


def _flops(value: float) -> str:
    return f"{value:.3g} FLOP"


def _named(derived: DerivedFrom) -> str:
    version = f" {derived.version}" if derived.version else ""
    return f"{derived.model_name}{version} by {derived.provider}"


def role(spec: GPAIModelSpec, parameters: Parameters, original: Original | None) -> tuple[Role, str]:
    """(role, why): the modification's compute against a third of the original's."""
    derived = spec.derived_from
    if derived is None:
        return "Provider", ""
    known = original if original is not None else Original(None, False, "")
    if known.flops is not None:
        line, against = known.flops, f"the original's {_flops(known.flops)} ({known.source})"
    elif known.systemic_risk:
        line = parameters.systemic_risk_flops
        against = (
            f"the systemic-risk threshold {_flops(line)} (the original's compute is unknown; it has "
            "systemic risk)"
        )
    else:
        line = GPAI_INDICATIVE_FLOPS
        against = f"{_flops(line)} (the original's compute is unknown)"
    third = f"a third of {against}"
    made = f"{_named(derived)} modified"
    modification = spec.modification_compute.flops if spec.modification_compute else None
    if modification is None:
        return "ModifierProvider", (
            f"{made} with compute not declared (spec.modificationCompute.flops), so it cannot be shown "
            f"to stay within {third}"
        )
    if _exact(modification) * 3 > _exact(line):
        return "ModifierProvider", f"{made} with {_flops(modification)}, more than {third}"
    return "Downstream", f"{made} with {_flops(modification)}, not more than {third}"


def total_compute(spec: GPAIModelSpec, original: Original | None) -> float | None:
    """The training compute the systemic-risk threshold is compared with.

    A model made from scratch: `trainingCompute.flops`. A modified one: its cumulative compute
    (Art. 51(2) counts all computation used for its training), the largest estimate there is: the
    original's plus the modification's, or `trainingCompute.flops` when that is declared higher (or
    the original's is unknown), or at least the modification's own.
    """
    declared = spec.training_compute.flops if spec.training_compute else None
    if spec.derived_from is None:
        return declared
    modification = spec.modification_compute.flops if spec.modification_compute else None
    estimates = [declared, modification]
    if original is not None and original.flops is not None:
        estimates.append(original.flops + (modification or 0.0))
    known = [e for e in estimates if e is not None]
    return max(known) if known else None


def not_owed_because(classification: Classification) -> str:
    """Why an obligation is NotApplicable for the model's role."""
    if classification.role == "Downstream":
        return (
            f"the model is a downstream modification, not a new model ({classification.role_reason}): "
            "the provider's duties stay with the original's provider (Commission guidelines of 18 July "
            f"2025); {DOWNSTREAM_DUTY} applies instead"
        )
    if classification.role == "ModifierProvider":
        return (
            f"the modifier is the provider of the modified model ({classification.role_reason}): the "
            "provider's duties apply to it instead"
        )
    return "the model declares no spec.derivedFrom: it is not a modification of another provider's model"


# ---- value-chain/upstream-information -----------------------------------------------------------
def upstream_information(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """The upstream provider's information for downstream providers: the original's documentation
    (a GPAIModel in the namespace whose transparency/downstream-information passes), or a link."""
    derived = evidence.model.spec.derived_from
    assert derived is not None  # only a Downstream model owes this
    found: list[str] = []
    problems: list[tuple[FindingStatus, str]] = []
    if derived.documentation is not None:
        found.append(
            f"the upstream provider's information is at {derived.documentation.url} "
            "(spec.derivedFrom.documentation)"
        )
    ref = derived.model_ref
    if ref is not None:
        where = f"GPAIModel {evidence.namespace}/{ref.name} (spec.derivedFrom.modelRef)"
        upstream = terms.upstream
        if evidence.original is None:
            problems.append(("Missing", f"{where} does not exist"))
        elif upstream is None or upstream.status == "NotApplicable":
            problems.append(
                (
                    "Missing",
                    f"{where} provides no information for downstream providers: it is itself a modification",
                )
            )
        elif upstream.passing:
            found.append(f"{where} has its transparency/downstream-information {upstream.status}")
        else:
            problems.append(
                ("Incomplete", f"{where} has its transparency/downstream-information {upstream.status}")
            )
    if found:
        return Finding("Met", "; ".join(found + [p for _, p in problems]))
    if not problems:
        return Finding(
            "Missing",
            f"neither spec.derivedFrom.modelRef nor spec.derivedFrom.documentation points at the "
            f"information {derived.provider} provides for downstream providers of {derived.model_name}",
        )
    return Finding(min((s for s, _ in problems), key=SEVERITY.index), "; ".join(p for _, p in problems))


# ---- a ModifierProvider's documentation names the original -------------------------------------
def lists_original(dependencies: list[str], derived: DerivedFrom) -> bool:
    name = derived.model_name.casefold()
    return any(name in dependency.casefold() for dependency in dependencies)


def listing_the_original(check: Check) -> Check:
    """`check`, and for a ModifierProvider also: the documentation's general.dependencies names the
    original (the provider's duties cover the modification; the documentation says what it modified)."""

    def wrapped(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
        finding = check(evidence, terms, fields)
        doc = evidence.documentation
        derived = evidence.model.spec.derived_from
        if terms.classification.role != "ModifierProvider" or doc is None or derived is None:
            return finding
        general = doc.spec.general
        if lists_original(general.dependencies if general else [], derived):
            return finding
        where = f"ModelDocumentation {doc.namespace}/{doc.name}"
        gap = (
            f"general.dependencies does not list the original model {_named(derived)} that this "
            "modification was made from"
        )
        add = f'add "{_named(derived)}" to general.dependencies in {where}'
        if finding.status == "Met":
            return Finding("Incomplete", f"{where}: {gap}", fix=add)
        status: FindingStatus = min((finding.status, "Incomplete"), key=SEVERITY.index)
        return Finding(
            status,
            f"{finding.detail}; {gap}",
            fix=f"{finding.fix}; {add}" if finding.fix else None,
            fix_args=finding.fix_args,
            changes=finding.changes,
        )

    return wrapped
