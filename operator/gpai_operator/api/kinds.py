"""The kinds of the API: names, scope, spec/status models and printer columns.

KINDS are the six kinds people write and the engine reads. AdmissionVerdicts is the operator's own
output for the native admission gate: it has a CRD like the others (CRD_KINDS) but is never engine
input, so it is kept out of KINDS (which the operator watches into its state and `gpai check` reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from gpai_operator.api.base import API_VERSION, GROUP, VERSION
from gpai_operator.api.copyright import CopyrightPolicySpec
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.api.evaluation import RiskEvaluationSpec
from gpai_operator.api.gpaimodel import GPAIModelSpec
from gpai_operator.api.incident import SeriousIncidentSpec
from gpai_operator.api.policy import CompliancePolicySpec
from gpai_operator.api.status import ArtifactStatus, GPAIModelStatus, SeriousIncidentStatus
from gpai_operator.api.verdicts import AdmissionVerdictsSpec, AdmissionVerdictsStatus

CATEGORY = "gpai"


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[BaseModel]
    description: str
    namespaced: bool = True
    columns: tuple[PrinterColumn, ...] = field(default=())

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def api_version(self) -> str:
        return API_VERSION


AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")
_COMPLIANT = '.status.conditions[?(@.type=="Compliant")]'

GPAI_MODEL = Kind(
    kind="GPAIModel",
    plural="gpaimodels",
    short_names=("gpai",),
    spec=GPAIModelSpec,
    status=GPAIModelStatus,
    description="A general-purpose AI model placed on the EU market, with the evidence it carries itself.",
    columns=(
        PrinterColumn("Model", "string", ".spec.modelName", "Model name", priority=1),
        PrinterColumn("Version", "string", ".spec.version", "Model version the evidence must match"),
        PrinterColumn("Provider", "string", ".spec.provider.name", priority=1),
        PrinterColumn(
            "Role",
            "string",
            ".status.classification.role",
            "Value-chain role: Provider, ModifierProvider (a modification above a third of the "
            "original's compute) or Downstream",
        ),
        PrinterColumn(
            "Systemic", "boolean", ".status.classification.systemicRisk", "Systemic risk (Art. 51)"
        ),
        PrinterColumn(
            "CoP Signed",
            "string",
            ".status.classification.codeOfPractice",
            "Code of Practice chapters the provider signed: T(ransparency), C(opyright), "
            "S(afety and Security); - for none",
        ),
        PrinterColumn("Compliant", "string", f"{_COMPLIANT}.status", "Every obligation met"),
        PrinterColumn("Reason", "string", f"{_COMPLIANT}.reason"),
        PrinterColumn("Workloads", "integer", ".status.workloads", "Workloads serving the model", priority=1),
        PrinterColumn(
            "Next Review",
            "string",
            ".status.nextReview",
            "When the clock alone may change the verdict",
            priority=1,
        ),
        AGE,
    ),
)

MODEL_DOCUMENTATION = Kind(
    kind="ModelDocumentation",
    plural="modeldocumentations",
    short_names=("mdoc",),
    spec=ModelDocumentationSpec,
    status=ArtifactStatus,
    description="The Model Documentation Form (Annex XI and XII) for one model version.",
    columns=(
        PrinterColumn("Model", "string", ".spec.modelRef.name"),
        PrinterColumn("Model Version", "string", ".spec.modelVersion"),
        PrinterColumn("Updated", "string", ".spec.lastUpdated"),
        AGE,
    ),
)

COPYRIGHT_POLICY = Kind(
    kind="CopyrightPolicy",
    plural="copyrightpolicies",
    short_names=("cpol",),
    spec=CopyrightPolicySpec,
    status=ArtifactStatus,
    description="A provider's copyright policy (Art. 53(1)(c)), shared by its models.",
    columns=(
        PrinterColumn("Provider", "string", ".spec.provider"),
        PrinterColumn("Review By", "string", ".spec.reviewBy"),
        AGE,
    ),
)

RISK_EVALUATION = Kind(
    kind="RiskEvaluation",
    plural="riskevaluations",
    short_names=("reval",),
    spec=RiskEvaluationSpec,
    status=ArtifactStatus,
    description="An evaluation or adversarial test of one model version against systemic risks (Art. 55).",
    columns=(
        PrinterColumn("Model", "string", ".spec.modelRef.name"),
        PrinterColumn("Model Version", "string", ".spec.modelVersion"),
        PrinterColumn("Type", "string", ".spec.type"),
        PrinterColumn("Outcome", "string", ".spec.outcome"),
        PrinterColumn("Valid Until", "string", ".spec.validUntil"),
        AGE,
    ),
)

COMPLIANCE_POLICY = Kind(
    kind="CompliancePolicy",
    plural="compliancepolicies",
    short_names=("gpaipol",),
    spec=CompliancePolicySpec,
    status=ArtifactStatus,
    description="What is required in which namespaces, and whether a violation is denied, warned or audited.",
    namespaced=False,
    columns=(
        PrinterColumn("Actions", "string", ".spec.validationActions", "Deny, Warn or Audit"),
        PrinterColumn("Require Label", "boolean", ".spec.requireModelLabel"),
        AGE,
    ),
)

SERIOUS_INCIDENT = Kind(
    kind="SeriousIncident",
    plural="seriousincidents",
    short_names=("sinc",),
    spec=SeriousIncidentSpec,
    status=SeriousIncidentStatus,
    description="A serious incident involving a model with systemic risk and the reports made about it "
    "(Art. 55(1)(c)).",
    columns=(
        PrinterColumn("Model", "string", ".spec.modelRef.name"),
        PrinterColumn("Category", "string", ".spec.category"),
        PrinterColumn("Aware", "string", ".spec.aware", "The day the provider became aware of it"),
        PrinterColumn("Next Report", "string", ".status.nextReport", "Initial, Intermediate or Final"),
        PrinterColumn(
            "Next Deadline", "string", ".status.nextDeadline", "Last day the next report is on time"
        ),
        PrinterColumn(
            "Timely",
            "string",
            '.status.conditions[?(@.type=="Timely")].status',
            "Every report so far made by its deadline",
        ),
        PrinterColumn("Resolved", "string", ".spec.resolved", priority=1),
        AGE,
    ),
)

KINDS: tuple[Kind, ...] = (
    GPAI_MODEL,
    MODEL_DOCUMENTATION,
    COPYRIGHT_POLICY,
    RISK_EVALUATION,
    COMPLIANCE_POLICY,
    SERIOUS_INCIDENT,
)
KINDS_BY_NAME: dict[str, Kind] = {k.kind: k for k in KINDS}

ADMISSION_VERDICTS = Kind(
    kind="AdmissionVerdicts",
    plural="admissionverdicts",
    short_names=("gpaiv",),
    spec=AdmissionVerdictsSpec,
    status=AdmissionVerdictsStatus,
    description=(
        "The operator's admission verdicts for one namespace, read by the native admission gate "
        "(ValidatingAdmissionPolicy). Written only by the operator."
    ),
    columns=(
        PrinterColumn("Models", "integer", ".status.models", "GPAIModels in the namespace"),
        PrinterColumn("Denied", "integer", ".status.denied", "Models whose workloads are denied"),
        PrinterColumn("Warned", "integer", ".status.warned", "Models whose workloads get a warning"),
        PrinterColumn("Evaluated", "date", ".status.evaluated", "When the verdicts were computed"),
        PrinterColumn(
            "Next Review",
            "string",
            ".status.nextReview",
            "When the clock alone may change a verdict: stale after it unless rewritten",
            priority=1,
        ),
        AGE,
    ),
)
# Kinds the operator writes and never reads as engine input.
OPERATOR_OUTPUT: tuple[Kind, ...] = (ADMISSION_VERDICTS,)
OPERATOR_OUTPUT_NAMES: frozenset[str] = frozenset(k.kind for k in OPERATOR_OUTPUT)
# Every kind with a CRD in crds/ and in the chart.
CRD_KINDS: tuple[Kind, ...] = (*KINDS, *OPERATOR_OUTPUT)

__all__ = [
    "ADMISSION_VERDICTS",
    "API_VERSION",
    "CRD_KINDS",
    "GROUP",
    "KINDS",
    "KINDS_BY_NAME",
    "OPERATOR_OUTPUT",
    "OPERATOR_OUTPUT_NAMES",
    "VERSION",
    "Kind",
    "PrinterColumn",
]
