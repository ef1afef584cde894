"""The obligation catalogue of OBLIGATIONS.md, as data: one record per obligation.

Adding an obligation means adding one record here (and its id to api.obligations, which a test
keeps in step). Required field paths are relative to the object the check reads: the
ModelDocumentation, the CopyrightPolicy, or the GPAIModel field the check is anchored at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gpai_operator.api.gpaimodel import Chapter
from gpai_operator.api.status import Role
from gpai_operator.engine import checks, code_of_practice, incidents, retention, training_summary, value_chain
from gpai_operator.engine.evidence import Check
from gpai_operator.engine.verdicts import Classification

# Who owes the provider's duties (engine/value_chain.py): a Downstream modifier owes none of them.
PROVIDERS: frozenset[Role] = frozenset({"Provider", "ModifierProvider"})


@dataclass(frozen=True, slots=True)
class Applicability:
    """Which models an obligation applies to; the others get NotApplicable (or Exempt)."""

    description: str
    applies: Callable[[Classification], bool]
    not_applicable_because: Callable[[Classification], str] = lambda c: ""
    open_source_exemption: bool = False  # Art. 53(2) / 54(6): open-source exempt models get Exempt
    roles: frozenset[Role] = PROVIDERS  # the value-chain roles that owe it; the others: NotApplicable


def _no_systemic_risk(c: Classification) -> str:
    if c.rebutted:
        return (
            "the model has no systemic risk: the Commission accepted the provider's rebuttal of the "
            "training-compute presumption (Art. 52(2)-(3)) and has not designated it"
        )
    return "the model has no systemic risk (not above the training-compute threshold and not designated)"


def _not_on_the_compute_route(c: Classification) -> str:
    if not c.designated:
        return _no_systemic_risk(c)
    why = (
        "the Commission accepted the rebuttal of the training-compute presumption"
        if c.rebutted
        else "its training compute is not above the threshold"
    )
    return (
        f"the model has systemic risk by Commission designation only ({why}); the Art. 52(1) "
        "notification is owed for a model that meets the training-compute threshold"
    )


EVERY_MODEL = Applicability("every GPAI model, open-source too", lambda c: True)
UNLESS_OPEN_SOURCE_EXEMPT = Applicability(
    "every GPAI model, unless open-source exempt", lambda c: True, open_source_exemption=True
)
NON_EU_PROVIDER = Applicability(
    "models of a provider not established in the EU, unless open-source exempt",
    lambda c: not c.eu_provider,
    lambda c: "the provider is established in the EU",
    open_source_exemption=True,
)
SYSTEMIC_RISK = Applicability("models with systemic risk", lambda c: c.systemic_risk, _no_systemic_risk)
COMPUTE_ROUTE = Applicability(
    "models presumed to have systemic risk from their training compute (not by designation alone)",
    lambda c: c.compute_presumption,
    _not_on_the_compute_route,
)
DOWNSTREAM = Applicability(
    "downstream modifications of another provider's model (a third of its compute or less)",
    lambda c: True,
    roles=frozenset({"Downstream"}),
)


@dataclass(frozen=True, slots=True)
class CodeMeasures:
    """Where the Code of Practice implements an obligation: cited only to the chapter's signatories."""

    chapter: Chapter
    measures: str  # as messages cite them, e.g. "CoP Transparency M1.1, M1.3"


# What a message cites instead of the Code's measures when the provider did not sign the chapter.
ALTERNATIVE_MEANS: dict[Chapter, str] = {
    "Transparency": "alternative adequate means (Art. 53(4))",
    "Copyright": "alternative adequate means (Art. 53(4))",
    "SafetyAndSecurity": "alternative adequate means (Art. 55(2))",
}


@dataclass(frozen=True, slots=True)
class Obligation:
    id: str
    title: str
    basis: str  # legal basis in the Act (or elsewhere), cited by every message
    applies: Applicability
    check: Check
    # What to do when the evidence is missing. Placeholders: {namespace}, {model}, {version},
    # {risks} (the specified risks) and whatever the check passes in Finding.fix_args.
    fix: str
    required_fields: tuple[str, ...] = ()
    systemic_risk_fields: tuple[str, ...] = ()  # added for models with systemic risk
    code: CodeMeasures | None = None

    def citation(self, signed: tuple[Chapter, ...]) -> str:
        """The basis as a message cites it: the Code's measures only for a chapter the provider signed."""
        if self.code is None:
            return self.basis
        if self.code.chapter in signed:
            return f"{self.basis}; {self.code.measures}"
        return f"{self.basis}; {ALTERNATIVE_MEANS[self.code.chapter]}"


# OBLIGATIONS.md, additions of 2026-11-30, "Annex XI and XII, complete": the fields each
# transparency obligation requires of the ModelDocumentation.
TECHNICAL_DOCUMENTATION_FIELDS: tuple[str, ...] = (
    "general.legalName",
    "general.modelName",
    "general.releaseDate",
    "properties.architecture",
    "properties.parameterCount",
    "properties.inputModalities",
    "properties.outputModalities",
    "distribution.channels",
    "distribution.license",
    "use.acceptableUsePolicy",
    "use.intendedUses",
    "use.integrationSystems",
    "use.integrationMeans",
    "training.designSpecification",
    "data.types",
    "data.provenance",
    "data.acquisition",
    "data.dataPoints.count",
    "data.scope",
    "data.curation",
    "data.unsuitableContentMeasures",
    "data.biasMeasures",
    "compute.trainingTimeDays",
    "compute.trainingFlops",
    "compute.methodology",
    "energy.trainingMWh or energy.notAvailableReason",
)
TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS: tuple[str, ...] = (
    "systemicRisk.evaluationStrategy",
    "systemicRisk.adversarialTesting",
    "systemicRisk.systemArchitecture",
)
# use.requiredHardware and use.requiredSoftware are "where applicable" in Annex XII: optional.
DOWNSTREAM_INFORMATION_FIELDS: tuple[str, ...] = (
    "general.releaseDate",
    "properties.architecture",
    "properties.parameterCount",
    "properties.inputModalities[].maxSize",
    "properties.outputModalities[].maxSize",
    "distribution.channels",
    "distribution.license",
    "use.acceptableUsePolicy",
    "use.intendedUses",
    "use.integrationSystems",
    "use.integrationMeans",
    "data.types",
    "data.provenance",
    "data.curation",
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
        basis="Art. 53(1)(a), Annex XI",
        applies=UNLESS_OPEN_SOURCE_EXEMPT,
        check=value_chain.listing_the_original(checks.documentation("Annex XI")),
        fix=_DOCUMENTATION_FIX,
        required_fields=TECHNICAL_DOCUMENTATION_FIELDS,
        systemic_risk_fields=TECHNICAL_DOCUMENTATION_SYSTEMIC_RISK_FIELDS,
        code=CodeMeasures("Transparency", "CoP Transparency M1.1, M1.3"),
    ),
    Obligation(
        id="transparency/downstream-information",
        title="information for downstream providers",
        basis="Art. 53(1)(b), Annex XII",
        applies=UNLESS_OPEN_SOURCE_EXEMPT,
        check=checks.documentation("Annex XII"),
        fix=_DOCUMENTATION_FIX,
        required_fields=DOWNSTREAM_INFORMATION_FIELDS,
        code=CodeMeasures("Transparency", "CoP Transparency M1.2"),
    ),
    Obligation(
        id="transparency/documentation-retention",
        title="the documentation of earlier versions, kept ten years",
        basis="Art. 53(1)(a), 54(3)(b)",
        applies=UNLESS_OPEN_SOURCE_EXEMPT,
        check=retention.check,
        fix=(
            "restore the ModelDocumentation of each version in namespace {namespace} (modelRef.name "
            "{model}, modelVersion {versions}) from your records"
        ),
        code=CodeMeasures("Transparency", "CoP Transparency M1.1"),
    ),
    Obligation(
        id="copyright/policy",
        title="copyright policy",
        basis="Art. 53(1)(c)",
        applies=EVERY_MODEL,
        check=checks.copyright_policy,
        fix=(
            "create a CopyrightPolicy in namespace {namespace} (document, crawling, outputSafeguards, "
            "complaints) and name it in spec.copyrightPolicyRef of GPAIModel {namespace}/{model}"
        ),
        required_fields=COPYRIGHT_POLICY_FIELDS,
        code=CodeMeasures("Copyright", "CoP Copyright M1.1-M1.5"),
    ),
    Obligation(
        id="copyright/training-content-summary",
        title="public summary of the training content",
        basis="Art. 53(1)(d); Commission template of 24 July 2025",
        applies=EVERY_MODEL,
        check=training_summary.check,
        fix=_MODEL_FIX.replace(
            "{field}", "spec.trainingContentSummary {{url: https://..., updated, modelVersions, dataSources}}"
        ),
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
        id="governance/code-of-practice",
        title="adherence to the Code of Practice, or alternative adequate means, per chapter",
        basis="Art. 53(4), 55(2)",
        applies=EVERY_MODEL,  # the check picks the chapters that apply (Copyright always does)
        check=code_of_practice.check,
        fix=_MODEL_FIX.replace("{field}", "spec.provider.codeOfPractice"),
    ),
    Obligation(
        id="systemic-risk/notification",
        title="notification of the Commission within two weeks of meeting the threshold",
        basis="Art. 52(1)",
        applies=COMPUTE_ROUTE,
        check=checks.notification,
        fix="notify the Commission and " + _MODEL_FIX.replace("{field}", "spec.systemicRisk.notified"),
    ),
    Obligation(
        id="systemic-risk/framework",
        title="Safety and Security Framework",
        basis="Art. 55(1)(b)",
        applies=SYSTEMIC_RISK,
        check=checks.model_field(
            "systemicRisk.framework", dated="assessed", max_age="framework_max_age_days"
        ),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.framework {{url, assessed}}"),
        required_fields=("url", "assessed"),
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitment 1"),
    ),
    Obligation(
        id="systemic-risk/evaluation",
        title="evaluation of the specified systemic risks",
        basis="Art. 55(1)(a)",
        applies=SYSTEMIC_RISK,
        check=checks.evaluation_coverage,
        fix="create a RiskEvaluation for model {model} version {version} covering {risks}",
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitments 2-3"),
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
        basis="Art. 55(1)(b)",
        applies=SYSTEMIC_RISK,
        check=checks.risk_acceptance,
        fix="create a RiskEvaluation for model {model} version {version} with outcome Acceptable",
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitment 4"),
    ),
    Obligation(
        id="systemic-risk/model-report",
        title="Safety and Security Model Report",
        basis="Art. 55(1)(b)",
        applies=SYSTEMIC_RISK,
        check=checks.model_field(
            "systemicRisk.modelReport", dated="updated", max_age="model_report_max_age_days"
        ),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.modelReport {{url, updated}}"),
        required_fields=("url", "updated"),
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitment 7"),
    ),
    Obligation(
        id="systemic-risk/incident-reporting",
        title="serious incident reporting",
        basis="Art. 55(1)(c)",
        applies=SYSTEMIC_RISK,
        check=checks.model_field("systemicRisk.incidentReporting"),
        fix=_MODEL_FIX.replace("{field}", "spec.systemicRisk.incidentReporting {{contact, procedure}}"),
        required_fields=("contact", "procedure"),
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitment 9"),
    ),
    Obligation(
        id="systemic-risk/incident-timeliness",
        title="serious incident reports made by their deadlines",
        basis="Art. 55(1)(c)",
        applies=SYSTEMIC_RISK,
        check=incidents.check,
        fix="send the reports owed to the AI Office and record their dates on the SeriousIncidents",
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Measure 9.3"),
    ),
    Obligation(
        id="systemic-risk/cybersecurity",
        title="cybersecurity protection",
        basis="Art. 55(1)(d)",
        applies=SYSTEMIC_RISK,
        check=checks.model_field("systemicRisk.cybersecurity"),
        fix="document the security goal and controls and "
        + _MODEL_FIX.replace("{field}", "spec.systemicRisk.cybersecurity {{url}}"),
        required_fields=("url",),
        code=CodeMeasures("SafetyAndSecurity", "CoP S&S Commitment 6"),
    ),
    Obligation(
        id="value-chain/upstream-information",
        title="the upstream provider's information for downstream providers",
        basis="Art. 53(1)(b), Recital 109",
        applies=DOWNSTREAM,
        check=value_chain.upstream_information,
        fix=(
            "set spec.derivedFrom.documentation {{url}} on GPAIModel {namespace}/{model} to the information "
            "the original's provider gives downstream providers (Annex XII), or spec.derivedFrom.modelRef "
            "to a GPAIModel in namespace {namespace} whose transparency/downstream-information is met"
        ),
    ),
)

BY_ID: dict[str, Obligation] = {o.id: o for o in CATALOGUE}
