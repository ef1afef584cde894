"""systemic-risk/incident-timeliness: each SeriousIncident's reports made by their deadlines
(Art. 55(1)(c); Code of Practice, Safety and Security Measure 9.3).

The deadlines of one incident, as data: the initial report `aware + N` days by category; while the
incident is unresolved, an intermediate report at most 28 days after the last report; once it is
resolved, the final report within 60 days. A deadline is a last day on time (inclusive, as every
date limit in the engine). A deadline that passed without its report, or whose report came after
it, is missed: `Failed` (a late report stays late; an exception can record that the AI Office
accepted it). Otherwise `Met`, expiring on the next deadline, so nextReview, the expiry metric and
the alerts follow it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gpai_operator.api.incident import IncidentCategory, SeriousIncidentSpec
from gpai_operator.api.status import ReportKind
from gpai_operator.engine.days import ONE_DAY
from gpai_operator.engine.evidence import Evidence, Finding, Terms
from gpai_operator.engine.state import Resource
from gpai_operator.engine.verdicts import IncidentVerdict

Incident = Resource[SeriousIncidentSpec]

# Days from awareness to the initial report, by category (Measure 9.3).
INITIAL_REPORT_DAYS: dict[IncidentCategory, int] = {
    "CriticalInfrastructure": 2,
    "Cybersecurity": 5,
    "Death": 10,
    "Other": 15,
}
INTERMEDIATE_REPORT_DAYS = 28  # "at least every four weeks" after the last report while unresolved
FINAL_REPORT_DAYS = 60  # after resolution


@dataclass(frozen=True, slots=True)
class Deadline:
    report: ReportKind
    due: dt.date  # the last day the report is on time
    made: dt.date | None  # the report that answers it, if any
    basis: str  # how the day was reckoned, for messages

    def missed(self, today: dt.date) -> bool:
        return self.made > self.due if self.made is not None else today > self.due

    def words(self, today: dt.date) -> str:
        what = f"{self.report.lower()} report due by {self.due} ({self.basis})"
        if self.made is None:
            return f"{what} not made" if today > self.due else f"{what} not made yet"
        late = (self.made - self.due).days
        return f"{what} made on {self.made}, {late} day{'s' if late != 1 else ''} late" if late > 0 else what


def deadlines(spec: SeriousIncidentSpec) -> tuple[Deadline, ...]:
    """Every deadline of the incident so far, in order; at most one of each kind is still open."""
    days = INITIAL_REPORT_DAYS[spec.category]
    found = [
        Deadline(
            "Initial",
            spec.aware + dt.timedelta(days=days),
            spec.initial_report,
            f"aware {spec.aware} + {days} days",
        )
    ]
    resolved = spec.resolved
    last = spec.initial_report
    if last is not None:
        pending = sorted(spec.intermediate_reports)
        while True:
            due = last + dt.timedelta(days=INTERMEDIATE_REPORT_DAYS)
            if resolved is not None and resolved <= due:
                break  # resolved by then: the final report is owed instead
            made = pending.pop(0) if pending else None
            basis = f"last report {last} + {INTERMEDIATE_REPORT_DAYS} days"
            found.append(Deadline("Intermediate", due, made, basis))
            if made is None:
                break  # the report owed now; later ones are reckoned from it once made
            last = made
    if resolved is not None:
        basis = f"resolved {resolved} + {FINAL_REPORT_DAYS} days"
        found.append(
            Deadline("Final", resolved + dt.timedelta(days=FINAL_REPORT_DAYS), spec.final_report, basis)
        )
    return tuple(found)


def judge_incident(incident: Incident, today: dt.date) -> IncidentVerdict:
    """Where one incident stands on `today`: the report owed next, and every deadline missed."""
    spec = incident.spec
    found = deadlines(spec)
    owed = [d for d in found if d.made is None]
    following = min(owed, key=lambda d: d.due, default=None)
    return IncidentVerdict(
        namespace=incident.namespace,
        name=incident.name,
        model=spec.model_ref.name,
        category=spec.category,
        next_report=following.report if following else None,
        next_deadline=following.due if following else None,
        missed=tuple(d.words(today) for d in found if d.missed(today)),
        overdue=following is not None and today > following.due,
        resolved=spec.resolved is not None,
    )


def _about(incident: Incident) -> str:
    spec = incident.spec
    return f"SeriousIncident {incident.namespace}/{incident.name} ({spec.category}, aware {spec.aware})"


def deadline_changes(incidents: Iterable[Incident], today: dt.date) -> tuple[dt.date, ...]:
    """The days a pending deadline passes: the verdict turns Failed then, and the incident overdue."""
    days = {
        d.due + ONE_DAY for i in incidents for d in deadlines(i.spec) if d.made is None and d.due >= today
    }
    return tuple(sorted(days))


def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    """Every incident of the model (of any version: reporting duties outlive a version) on time."""
    today = terms.today
    incidents = evidence.incidents
    if not incidents:
        return Finding("Met", "no SeriousIncident is recorded for this model")
    judged = [(i, judge_incident(i, today)) for i in incidents]
    changes = deadline_changes(incidents, today)
    late = [(i, v) for i, v in judged if v.missed]
    if late:
        detail = "; ".join(f"{_about(i)}: {', '.join(v.missed)}" for i, v in late)
        owed = sorted({(i.namespace, i.name) for i, v in late if v.overdue})
        fix = "send the reports owed to the AI Office and record their dates on "
        fix += ", ".join(f"SeriousIncident {ns}/{name}" for ns, name in owed) if owed else "the incidents"
        fix += "; a late report stays Failed: if the AI Office accepted it, record a policy exception"
        return Finding("Failed", detail, fix=fix, changes=changes)
    open_ = [(i, v) for i, v in judged if v.next_deadline is not None]
    parts = [
        f"{_about(i)}: {v.next_report.lower()} report due by {v.next_deadline}"
        for i, v in open_
        if v.next_report
    ]
    closed = [i for i, v in judged if v.closed]
    if closed:
        parts.append(f"closed, every report on time: {', '.join(f'{i.namespace}/{i.name}' for i in closed)}")
    expires = min((v.next_deadline for _, v in open_ if v.next_deadline), default=None)
    return Finding("Met", "; ".join(parts), expires=expires, changes=changes)
