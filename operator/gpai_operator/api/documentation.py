"""ModelDocumentation: the Code of Practice's Model Documentation Form for one model version."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gpai_operator.api.base import (
    LIST_MAX,
    ApiModel,
    Contact,
    Date,
    DocumentRef,
    LocalRef,
    NonNegative,
    Sha256,
    Short,
    ShortList,
    Text,
    Url,
)


class Authenticity(ApiModel):
    sha256: Sha256 | None = None
    endpoint: Url | None = None


class General(ApiModel):
    legal_name: Short | None = None
    model_name: Short | None = None
    authenticity: Authenticity | None = None
    release_date: Date | None = None
    eu_release_date: Date | None = None
    dependencies: ShortList = []


class Modality(ApiModel):
    modality: Short
    max_size: Short | None = None


Modalities = Annotated[list[Modality], Field(max_length=16)]


class Properties(ApiModel):
    architecture: Text | None = None
    design_specification: Text | None = None
    parameter_count: NonNegative | None = None
    input_modalities: Modalities = []
    output_modalities: Modalities = []


class DistributionLicense(ApiModel):
    name: Short | None = None
    url: Url | None = None


class Distribution(ApiModel):
    channels: ShortList = []
    license: DistributionLicense | None = None


class Use(ApiModel):
    acceptable_use_policy: Annotated[str, Field(max_length=2048, pattern=r"^(https://\S+|none)$")] | None = (
        None
    )
    intended_uses: Annotated[list[Text], Field(max_length=LIST_MAX)] = []
    prohibited_uses: Annotated[list[Text], Field(max_length=LIST_MAX)] = []
    integration_systems: ShortList = []
    integration_means: Text | None = None
    required_hardware: Text | None = None
    required_software: Text | None = None


class Training(ApiModel):
    design_specification: Text | None = None
    decision_rationale: Text | None = None


Provenance = Literal[
    "WebCrawled", "PublicDatasets", "ThirdPartyLicensed", "UserData", "SyntheticNonPublic", "Other"
]


class DataPoints(ApiModel):
    count: NonNegative | None = None
    unit: Short | None = None


class Data(ApiModel):
    types: ShortList = []
    provenance: Annotated[list[Provenance], Field(max_length=6)] = []
    acquisition: Text | None = None
    data_points: DataPoints | None = None
    scope: Text | None = None
    curation: Text | None = None
    unsuitable_content_measures: Text | None = None
    bias_measures: Text | None = None


class Compute(ApiModel):
    training_time_days: NonNegative | None = None
    training_flops: NonNegative | None = None
    methodology: Text | None = None


class Energy(ApiModel):
    training_mwh: NonNegative | None = Field(default=None, alias="trainingMWh")
    not_available_reason: Text | None = None
    methodology: Text | None = None
    inference_flops: NonNegative | None = None


class SystemicRiskSection(ApiModel):
    """Annex XI section 2: only for models with systemic risk."""

    evaluation_strategy: Text | None = None
    adversarial_testing: Text | None = None
    system_architecture: Text | None = None


class Documents(ApiModel):
    authority: DocumentRef | None = None
    downstream: DocumentRef | None = None


class ModelDocumentationSpec(ApiModel):
    model_ref: LocalRef
    model_version: Contact
    document_version: Short | None = None
    last_updated: Date
    general: General | None = None
    properties: Properties | None = None
    distribution: Distribution | None = None
    use: Use | None = None
    training: Training | None = None
    data: Data | None = None
    compute: Compute | None = None
    energy: Energy | None = None
    systemic_risk: SystemicRiskSection | None = None
    documents: Documents | None = None
    contact: Short | None = None
