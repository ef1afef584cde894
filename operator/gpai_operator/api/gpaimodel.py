"""GPAIModel: a general-purpose AI model placed on the EU market, and the evidence it carries itself."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

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

# The three chapters of the General-Purpose AI Code of Practice (10 July 2025), in the Code's order.
Chapter = Literal["Transparency", "Copyright", "SafetyAndSecurity"]
CHAPTERS: tuple[Chapter, ...] = get_args(Chapter)
Adherence = Literal["Signatory", "NonSignatory"]


class CodeOfPractice(ApiModel):
    """Whether the provider signed each chapter of the GPAI Code of Practice; absent: not declared."""

    transparency: Adherence | None = None
    copyright: Adherence | None = None
    safety_and_security: Adherence | None = None

    def adherence(self, chapter: Chapter) -> Adherence | None:
        match chapter:
            case "Transparency":
                return self.transparency
            case "Copyright":
                return self.copyright
        return self.safety_and_security


class AlternativeMeans(ApiModel):
    """How a provider that did not sign a chapter shows compliance otherwise (Art. 53(4), 55(2))."""

    chapter: Chapter
    document: DocumentRef
    updated: Date | None = None


class AuthorisedRepresentative(ApiModel):
    """The provider's authorised representative in the EU (Art. 54)."""

    name: Short | None = None
    contact: Short | None = None


class Provider(ApiModel):
    name: Contact
    established_in_eu: Bool = Field(alias="establishedInEU")
    authorised_representative: AuthorisedRepresentative | None = None
    code_of_practice: CodeOfPractice | None = None
    alternative_means: Annotated[list[AlternativeMeans], Field(max_length=16)] = []


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


class DataSources(ApiModel):
    """Where the training content came from, as the Commission's template (24 July 2025) asks."""

    public_datasets: Bool | None = None
    third_party_private: Bool | None = None
    crawled: Bool | None = None
    user_data: Bool | None = None
    synthetic: Bool | None = None
    other: Bool | None = None


class TrainingContentSummary(ApiModel):
    """The public summary of training content (Art. 53(1)(d)); public, so https only."""

    url: HttpsUrl
    updated: Date | None = None
    model_versions: ShortList = []  # the model versions it covers; empty: not said
    data_sources: DataSources | None = None
    tdm_opt_out_respected: Bool | None = None  # text-and-data-mining opt-outs (DSM Directive Art. 4(3))


class DerivedFrom(ApiModel):
    """The model this one was made from (a fine-tune or other modification): the value chain."""

    model_name: Contact
    provider: Contact
    version: Short | None = None
    training_flops: NonNegative | None = None  # the original's training compute, when known
    model_ref: LocalRef | None = None  # the original as a GPAIModel in this namespace
    documentation: DocumentRef | None = None  # the upstream provider's information for downstream providers


class Framework(DocumentRef):
    """The Safety and Security Framework (CoP S&S Commitment 1)."""

    assessed: Date | None = None


class ModelReport(DocumentRef):
    """The Safety and Security Model Report (CoP S&S Commitment 7)."""

    updated: Date | None = None


class IncidentReporting(ApiModel):
    contact: Short | None = None
    procedure: DocumentRef | None = None


class Rebuttal(ApiModel):
    """The provider's rebuttal of the compute presumption (Art. 52(2)-(3)); only Accepted removes it."""

    submitted: Date | None = None
    outcome: Literal["Pending", "Accepted", "Rejected"]


class SystemicRiskEvidence(ApiModel):
    """Designation and rebuttal decide the classification; the rest counts only with systemic risk."""

    designated: Bool = False
    threshold_met: Date | None = None
    notified: Date | None = None
    rebuttal: Rebuttal | None = None
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
    derived_from: DerivedFrom | None = None
    modification_compute: TrainingCompute | None = None  # compute spent on the modification alone
    systemic_risk: SystemicRiskEvidence | None = None
