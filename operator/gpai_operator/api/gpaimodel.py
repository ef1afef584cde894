"""GPAIModel: a general-purpose AI model placed on the EU market, and the evidence it carries itself."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gpai_operator.api.base import (
    ApiModel,
    Bool,
    Contact,
    Date,
    DocumentRef,
    HttpsUrl,
    LocalRef,
    NonNegative,
    Short,
    ShortList,
)


class AuthorisedRepresentative(ApiModel):
    """The provider's authorised representative in the EU (Art. 54)."""

    name: Short | None = None
    contact: Short | None = None


class Provider(ApiModel):
    name: Contact
    established_in_eu: Bool = Field(alias="establishedInEU")
    authorised_representative: AuthorisedRepresentative | None = None


class Modalities(ApiModel):
    input: ShortList = []
    output: ShortList = []


class TrainingCompute(ApiModel):
    flops: NonNegative | None = None
    method: Literal["HardwareBased", "ArchitectureBased", "Other"] | None = None


class License(ApiModel):
    name: Short | None = None
    open_source: Bool = False
    weights_public: Bool = False
    monetised: Bool = False


class TrainingContentSummary(ApiModel):
    """The public summary of training content (Art. 53(1)(d)); public, so https only."""

    url: HttpsUrl
    updated: Date | None = None


class Framework(DocumentRef):
    """The Safety and Security Framework (CoP S&S Commitment 1)."""

    assessed: Date | None = None


class ModelReport(DocumentRef):
    """The Safety and Security Model Report (CoP S&S Commitment 7)."""

    updated: Date | None = None


class IncidentReporting(ApiModel):
    contact: Short | None = None
    procedure: DocumentRef | None = None


class SystemicRiskEvidence(ApiModel):
    """Read only when the model has systemic risk."""

    designated: Bool = False
    notified: Date | None = None
    framework: Framework | None = None
    model_report: ModelReport | None = None
    incident_reporting: IncidentReporting | None = None
    cybersecurity: DocumentRef | None = None


class GPAIModelSpec(ApiModel):
    model_name: Contact
    version: Contact
    provider: Provider
    eu_market_date: Date | None = None
    modalities: Modalities | None = None
    training_compute: TrainingCompute | None = None
    license: License | None = None
    copyright_policy_ref: LocalRef | None = None
    training_content_summary: TrainingContentSummary | None = None
    systemic_risk: SystemicRiskEvidence | None = None
