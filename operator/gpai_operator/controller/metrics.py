"""The operator's Prometheus series (SPEC section 6), in prometheus_client's default registry.

Model and workload series are not kept in gauges that must be cleaned up: a collector builds them
at scrape time from a snapshot of the current verdicts, so the series of a deleted model are gone
on the next scrape. Every label value is an identifier (namespace, name, obligation id, status,
version) or a bounded enum; messages never become labels.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, Counter, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gpai_operator import __version__
from gpai_operator.engine import ONE_DAY, ModelKey, ModelVerdict, WorkloadKey, day_start
from gpai_operator.runtime import Runtime

RECONCILES = Counter(
    "gpai_reconcile_total",
    "Objects (GPAIModels, their SeriousIncidents and workloads) reconciled, by result: changed "
    "(something written), "
    "unchanged, standby (not the writing replica: evaluated only), error.",
    ("result",),
)
RECONCILE_RESULTS = ("changed", "unchanged", "standby", "error")
for _result in RECONCILE_RESULTS:  # every result exists from the start, at 0
    RECONCILES.labels(_result)


@dataclass(frozen=True)
class ModelFacts:
    provider: str
    version: str


@dataclass(frozen=True)
class Snapshot:
    """What the series are built from, copied out of the operator at scrape time."""

    verdicts: Mapping[ModelKey, ModelVerdict] = field(default_factory=dict)
    models: Mapping[ModelKey, ModelFacts] = field(default_factory=dict)
    model_workloads: Mapping[ModelKey, int] = field(default_factory=dict)
    workloads: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (namespace, compliance) -> n
    ready: bool = False
    leading: bool = False


@dataclass
class Tallies:
    """What the reconciler counts for the series the verdicts alone do not give (kept current by it)."""

    model_workloads: dict[ModelKey, int] = field(default_factory=dict)  # workloads naming each model
    compliance: dict[WorkloadKey, tuple[str, str]] = field(default_factory=dict)  # -> (namespace, value)


def take_snapshot(runtime: Runtime, tallies: Tallies, *, ready: bool, leading: bool) -> Snapshot:
    """A consistent copy for the collector (which may run in another thread than the reconciler)."""
    verdicts = dict(runtime.verdicts)
    models = dict(runtime.state.models)
    counts: dict[tuple[str, str], int] = {}
    for namespace_compliance in list(tallies.compliance.values()):
        counts[namespace_compliance] = counts.get(namespace_compliance, 0) + 1
    return Snapshot(
        verdicts=verdicts,
        models={
            key: ModelFacts(provider=m.spec.provider.name, version=m.spec.version)
            for key, m in models.items()
            if key in verdicts
        },
        model_workloads=dict(tallies.model_workloads),
        workloads=counts,
        ready=ready,
        leading=leading,
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def expiry_timestamp(last_day: dt.date) -> float:
    """The instant evidence stops counting: 00:00 UTC the day after its last valid day."""
    return day_start(last_day + ONE_DAY).timestamp()


def families(snapshot: Snapshot) -> list[Metric]:
    mn = ("namespace", "model")
    info = GaugeMetricFamily(
        "gpai_model_info",
        "A GPAIModel known to the operator, with its provider, version, classification and "
        "value-chain role (Provider, ModifierProvider, Downstream).",
        labels=(*mn, "provider", "version", "systemic_risk", "open_source_exempt", "role"),
    )
    compliant = GaugeMetricFamily(
        "gpai_model_compliant", "1 when every obligation of the model is met, else 0.", labels=mn
    )
    obligation = GaugeMetricFamily(
        "gpai_model_obligation_status",
        "1 for the current status of each obligation of each model.",
        labels=(*mn, "obligation", "status"),
    )
    review = GaugeMetricFamily(
        "gpai_model_next_review_timestamp_seconds",
        "Earliest time the clock alone can change the model's verdict (Unix seconds).",
        labels=mn,
    )
    expiry = GaugeMetricFamily(
        "gpai_model_obligation_expiry_timestamp_seconds",
        "When the evidence behind a passing obligation stops counting (Unix seconds).",
        labels=(*mn, "obligation"),
    )
    expiring = GaugeMetricFamily(
        "gpai_model_obligation_expiring",
        "1 when the evidence behind an obligation expires within the policy's expiryWarningDays.",
        labels=(*mn, "obligation"),
    )
    model_workloads = GaugeMetricFamily(
        "gpai_model_workloads", "Workloads that declare the model with the gpai.dev/model label.", labels=mn
    )
    for key in sorted(snapshot.verdicts):
        verdict = snapshot.verdicts[key]
        labels = [key[0], key[1]]
        facts = snapshot.models.get(key)
        c = verdict.classification
        info.add_metric(
            [
                *labels,
                facts.provider if facts else "",
                facts.version if facts else "",
                _bool(c.systemic_risk),
                _bool(c.open_source_exempt),
                c.role,
            ],
            1,
        )
        compliant.add_metric(labels, 1 if verdict.compliant else 0)
        for o in verdict.obligations:
            obligation.add_metric([*labels, o.id, o.status], 1)
            if o.expires is not None:
                expiry.add_metric([*labels, o.id], expiry_timestamp(o.expires))
                expiring.add_metric([*labels, o.id], 1 if o.expiring else 0)
        if verdict.next_review is not None:
            review.add_metric(labels, verdict.next_review.timestamp())
        model_workloads.add_metric(labels, snapshot.model_workloads.get(key, 0))
    incidents = incident_families(snapshot.verdicts)
    workloads = GaugeMetricFamily(
        "gpai_workloads",
        "Workloads that declare a model, by namespace and gpai.dev/compliance value.",
        labels=("namespace", "compliance"),
    )
    for (namespace, compliance), count in sorted(snapshot.workloads.items()):
        workloads.add_metric([namespace, compliance], count)
    ready = GaugeMetricFamily(
        "gpai_operator_ready", "1 once the watches have synced and the webhook serves (as /readyz)."
    )
    ready.add_metric([], 1 if snapshot.ready else 0)
    leader = GaugeMetricFamily(
        "gpai_operator_leader", "1 on the replica that writes status, annotations and Events."
    )
    leader.add_metric([], 1 if snapshot.leading else 0)
    build = GaugeMetricFamily("gpai_build_info", "The operator's version.", labels=("version",))
    build.add_metric([__version__], 1)
    return [
        info,
        compliant,
        obligation,
        review,
        expiry,
        expiring,
        model_workloads,
        *incidents,
        workloads,
        ready,
        leader,
        build,
    ]


def incident_families(verdicts: Mapping[ModelKey, ModelVerdict]) -> list[Metric]:
    """Each SeriousIncident of a known model: its category and state, the deadline of the report it
    owes next (what GPAISeriousIncidentReportDue watches) and whether every deadline was kept."""
    labels = ("namespace", "incident", "model")
    info = GaugeMetricFamily(
        "gpai_serious_incident_info",
        "A SeriousIncident of a known model, with its category and state (Open, Resolved, Closed).",
        labels=(*labels, "category", "state"),
    )
    due = GaugeMetricFamily(
        "gpai_serious_incident_report_due_timestamp_seconds",
        "When the deadline of the report the incident owes next passes (Unix seconds): 00:00 UTC the "
        "day after its last day on time; in the past when overdue. Absent once every report is in.",
        labels=(*labels, "report"),
    )
    timely = GaugeMetricFamily(
        "gpai_serious_incident_timely",
        "1 when every report of the incident so far was made by its deadline, else 0.",
        labels=labels,
    )
    for key in sorted(verdicts):
        for incident in verdicts[key].incidents:
            names = [incident.namespace, incident.name, incident.model]
            state = "Closed" if incident.closed else "Resolved" if incident.resolved else "Open"
            info.add_metric([*names, incident.category, state], 1)
            if incident.next_report is not None and incident.next_deadline is not None:
                due.add_metric([*names, incident.next_report], expiry_timestamp(incident.next_deadline))
            timely.add_metric(names, 1 if incident.timely else 0)
    return [info, due, timely]


class OperatorCollector(Collector):
    """Yields `families` of whatever operator is bound; nothing model-related when none is."""

    def __init__(self) -> None:
        self._source: Callable[[], Snapshot] | None = None

    def bind(self, source: Callable[[], Snapshot] | None) -> None:
        self._source = source

    @property
    def source(self) -> Callable[[], Snapshot] | None:
        return self._source

    def collect(self) -> Iterator[Metric]:
        source = self._source
        yield from families(source() if source is not None else Snapshot())

    def describe(self) -> Iterator[Metric]:
        return iter(())


COLLECTOR = OperatorCollector()
_registered = False
_lock = threading.Lock()


def install(source: Callable[[], Snapshot]) -> None:
    """Bind `source` to the collector, registering it in the default registry the first time.

    One operator per process exposes its series; a later one replaces an earlier one.
    """
    global _registered
    with _lock:
        if not _registered:
            disable_created_metrics()  # no `_created` twin of every counter: dashboards never use them
            REGISTRY.register(COLLECTOR)
            _registered = True
        COLLECTOR.bind(source)


def uninstall(source: Callable[[], Snapshot]) -> None:
    """Unbind `source` if it is still the bound one."""
    with _lock:
        if COLLECTOR.source is source:
            COLLECTOR.bind(None)
