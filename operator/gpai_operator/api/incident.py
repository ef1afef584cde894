"""SeriousIncident: a serious incident involving a model with systemic risk, and the reports made
about it (Art. 55(1)(c); Code of Practice, Safety and Security Measure 9.3)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field

from gpai_operator.api.base import (
    CelCheckedModel,
    CelRule,
    Contact,
    Date,
    DocumentRef,
    LocalRef,
    Short,
    Text,
)

# Measure 9.3's categories, by the deadline of the first report: serious and irreversible disruption
# of critical infrastructure; a serious cybersecurity breach (weight exfiltration included); a death;
# serious harm to health, fundamental rights, property or the environment.
IncidentCategory = Literal["CriticalInfrastructure", "Cybersecurity", "Death", "Other"]
INCIDENT_CATEGORIES: tuple[IncidentCategory, ...] = get_args(IncidentCategory)
# Enough for five years of four-weekly reports (the Code keeps incident records five years).
REPORTS_MAX = 96


def _reports_after_initial(spec: SeriousIncidentSpec) -> bool:
    if not spec.intermediate_reports:
        return True
    initial = spec.initial_report
    return initial is not None and all(day >= initial for day in spec.intermediate_reports)


class SeriousIncidentSpec(CelCheckedModel):
    cel_rules: ClassVar[tuple[CelRule, ...]] = (
        CelRule(
            "!has(self.initialReport) || self.initialReport >= self.aware",
            "initialReport must not be before aware",
            lambda spec: spec.initial_report is None or spec.initial_report >= spec.aware,
            ".initialReport",
        ),
        CelRule(
            "!has(self.intermediateReports) || size(self.intermediateReports) == 0 || "
            "(has(self.initialReport) && self.intermediateReports.all(d, d >= self.initialReport))",
            "intermediateReports need an initialReport and must not be before it",
            _reports_after_initial,
            ".intermediateReports",
        ),
        CelRule(
            "!has(self.resolved) || self.resolved >= self.aware",
            "resolved must not be before aware",
            lambda spec: spec.resolved is None or spec.resolved >= spec.aware,
            ".resolved",
        ),
        CelRule(
            "!has(self.finalReport) || (has(self.resolved) && self.finalReport >= self.resolved)",
            "finalReport needs resolved and must not be before it",
            lambda spec: (
                spec.final_report is None
                or (spec.resolved is not None and spec.final_report >= spec.resolved)
            ),
            ".finalReport",
        ),
    )

    model_ref: LocalRef
    model_version: Contact
    category: IncidentCategory
    aware: Date  # the day the provider became aware of the incident: the first report's clock starts
    initial_report: Date | None = None
    intermediate_reports: Annotated[list[Date], Field(max_length=REPORTS_MAX)] = []
    resolved: Date | None = None
    final_report: Date | None = None
    description: Text | None = None  # what happened, for people (never a metric label)
    reference: Short | None = None  # e.g. the AI Office's case number
    reports: DocumentRef | None = None  # where the reports sent are kept
