"""The obligation catalogue of OBLIGATIONS.md, as data: one record per obligation.

Adding an obligation means adding one record here (and its id to api.obligations, which a test
keeps in step). Required field paths are relative to the object the check reads: the
ModelDocumentation, the CopyrightPolicy, or the GPAIModel field the check is anchored at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gpai_operator.engine import checks
from gpai_operator.engine.evidence import Check
from gpai_operator.engine.verdicts import Classification


@dataclass(frozen=True, slots=True)
class Applicability:
    """Which models an obligation applies to; the others get NotApplicable (or Exempt)."""

    description: str
    applies: Callable[[Classification], bool]
    not_applicable_because: str = ""
    open_source_exemption: bool = False  # Art. 53(2) / 54(6): open-source exempt models get Exempt


EVERY_MODEL = Applicability("every GPAI model, open-source too", lambda c: True)
UNLESS_OPEN_SOURCE_EXEMPT = Applicability(
    "every GPAI model, unless open-source exempt", lambda c: True, open_source_exemption=True
)
NON_EU_PROVIDER = Applicability(
    "models of a provider not established in the EU, unless open-source exempt",
    lambda c: not c.eu_provider,
    "the provider is established in the EU",
    open_source_exemption=True,
)
SYSTEMIC_RISK = Applicability(
    "models with systemic risk",
    lambda c: c.systemic_risk,
    "the model has no systemic risk (below the training-compute threshold and not designated)",
)


@dataclass(frozen=True, slots=True)
class Obligation:
    id: str
    title: str
    basis: str  # legal basis, as messages cite it
    applies: Applicability
    check: Check
    # What to do when the evidence is missing. Placeholders: {namespace}, {model}, {version},
    # {risks} (the specified risks) and whatever the check passes in Finding.fix_args.
    fix: str
    required_fields: tuple[str, ...] = ()
    systemic_risk_fields: tuple[str, ...] = ()  # added for models with systemic risk


# SPEC section 2, ModelDocumentation: the fields each transparency obligation requires.
TECHNICAL_DOCUMENTATION_FIELDS: tuple[str, ...] = (
    "general.legalName",
    "general.modelName",
    "properties.architecture",
    "properties.parameterCount",
    "properties.inputModalities",
    "properties.outputModalities",
    "distribution.channels",
    "distribution.license",
    "use.acceptableUsePolicy",
    "use.intendedUses",
    "training.designSpecification",
    "data.types",
    "data.provenance",
    "data.curation",
    "compute.trainingFlops",
    "compute.methodology",
    "energy.trainingMWh or energy.notAvailableReason",
)
TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS: tuple[str, ...] = (
    "systemicRisk.evaluationStrategy",
    "systemicRisk.adversarialTesting",
    "systemicRisk.systemArchitecture",
)
DOWNSTREAM_INFORMATION_FIELDS: tuple[str, ...] = (
    "use.acceptableUsePolicy",
    "use.intendedUses",
    "use.integrationSystems",
    "use.integrationMeans",
    "properties.inputModalities[].maxSize",
    "properties.outputModalities[].maxSize",
    "distribution.license",
    "contact",
)
COPYRIGHT_POLICY_FIELDS: tuple[str, ...] = (
    "document",
    "crawling.respectsRobotsTxt",
    "crawling.optOutProtocols",
    "crawling.respectsPaywalls",
    "crawling.excludesInfringingSites",
    "outputSafeguards.description",
    "outputSafeguards.termsProhibitInfringement",
    "complaints.contact",
)

_DOCUMENTATION_FIX = (
    "create a ModelDocumentation in namespace {namespace} with modelRef.name {model} and "
    'modelVersion "{version}" that sets {fields}'
)
_MODEL_FIX = "set {field} on GPAIModel {namespace}/{model}"

CATALOGUE: tuple[Obligation, ...] = (
    Obligation(
        id="transparency/technical-documentation",
        title="technical documentation for the AI Office and national authorities",
        basis="Art. 53(1)(a), Annex XI; CoP Transparency M1.1, M1.3",
        applies=UNLESS_OPEN_SOURCE_EXEMPT,
        check=checks.documentation("Annex XI"),
        fix=_DOCUMENTATION_FIX,
        required_fields=TECHNICAL_DOCUMENTATION_FIELDS,
        systemic_risk_fields=TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS,
    ),
    Obligation(
        id="transparency/downstream-information",
        title="information for downstream providers",
        basis="Art. 53(1)(b), Annex XII; CoP Transparency M1.2",
        applies=UNLESS_OPEN_SOURCE_EXEMPT,
        check=checks.documentation("Annex XII"),
        fix=_DOCUMENTATION_FIX,
        required_fields=DOWNSTREAM_INFORMATION_FIELDS,
    ),
    Obligation(
        id="copyright/policy",
        title="copyright policy",
        basis="Art. 53(1)(c); CoP Copyright M1.1-M1.5",
        applies=EVERY_MODEL,
        check=checks.copyright_policy,
        fix=(
            "create a CopyrightPolicy in namespace {namespace} (document, crawling, outputSafeguards, "
            "complaints) and name it in spec.copyrightPolicyRef of GPAIModel {namespace}/{model}"
        ),
        required_fields=COPYRIGHT_POLICY_FIELDS,
    ),
    Obligation(
        id="copyright/training-content-summary",
        title="public summary of the training content",
        basis="Art. 53(1)(d); Commission template of 24 July 2025",
        applies=EVERY_MODEL,
        check=checks.model_field(
            "trainingContentSummary", dated="updated", max_age="training_summary_max_age_days"
        ),
        fix=_MODEL_FIX.replace("{field}", "spec.trainingContentSummary {{url: https://..., updated}}"),
        required_fields=("url", "updated"),
    ),
    Obligation(
        id="governance/authorised-representative",
        title="authorised representative in the EU",
        basis="Art. 54",
        applies=NON_EU_PROVIDER,
        check=checks.model_field("provider.authorisedRepresentative"),
        fix=_MODEL_FIX.replace("{field}", "spec.provider.authorisedRepresentative {{name, contact}}"),
        required_fields=("name", "contact"),
    ),
    Obligation(
        id="systemic-risk/notification",
        title="notification of the Commission",
        basis="Art. 52(1)",
        applies=SYSTEMIC_RISK,
        check=checks.model_field("systemicRisk.notified"),
        fix="notify the Commission and " + _MODEL_FIX.replace("{field}", "spec.systemicRisk.notified"),
    ),
    Obligation(
        id="systemic-risk/framework",
        title="Safety and Security Framework",
        basis="Art. 55(1)(b); CoP S&S Commitment 1",
        applies=SYSTEMIC_RISK,
        check=checks.model_field(
            "systemicRisk.framework", dated="assessed", max_age="framework_max_age_days"
        ),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.framework {{url, assessed}}"),
        required_fields=("url", "assessed"),
    ),
    Obligation(
        id="systemic-risk/evaluation",
        title="evaluation of the specified systemic risks",
        basis="Art. 55(1)(a); CoP S&S Commitments 2-3",
        applies=SYSTEMIC_RISK,
        check=checks.evaluation_coverage,
        fix="create a RiskEvaluation for model {model} version {version} covering {risks}",
    ),
    Obligation(
        id="systemic-risk/adversarial-testing",
        title="adversarial testing",
        basis="Art. 55(1)(a)",
        applies=SYSTEMIC_RISK,
        check=checks.adversarial_testing,
        fix="create a RiskEvaluation of type AdversarialTesting for model {model} version {version}",
    ),
    Obligation(
        id="systemic-risk/risk-acceptance",
        title="systemic risk acceptance",
        basis="CoP S&S Commitment 4",
        applies=SYSTEMIC_RISK,
        check=checks.risk_acceptance,
        fix="create a RiskEvaluation for model {model} version {version} with outcome Acceptable",
    ),
    Obligation(
        id="systemic-risk/model-report",
        title="Safety and Security Model Report",
        basis="CoP S&S Commitment 7",
        applies=SYSTEMIC_RISK,
        check=checks.model_field(
            "systemicRisk.modelReport", dated="updated", max_age="model_report_max_age_days"
        ),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.modelReport {{url, updated}}"),
        required_fields=("url", "updated"),
    ),
    Obligation(
        id="systemic-risk/incident-reporting",
        title="serious incident reporting",
        basis="Art. 55(1)(c); CoP S&S Commitment 9",
        applies=SYSTEMIC_RISK,
        check=checks.model_field("systemicRisk.incidentReporting"),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.incidentReporting {{contact, procedure}}"),
        required_fields=("contact", "procedure"),
    ),
    Obligation(
        id="systemic-risk/cybersecurity",
        title="cybersecurity protection",
        basis="Art. 55(1)(d); CoP S&S Commitment 6",
        applies=SYSTEMIC_RISK,
        check=checks.model_field("systemicRisk.cybersecurity"),
        fix="document the security goal and controls and "
        + _MODEL_FIX.replace("{field}", "spec.systemicRisk.cybersecurity {{url}}"),
        required_fields=("url",),
    ),
)

BY_ID: dict[str, Obligation] = {o.id: o for o in CATALOGUE}
