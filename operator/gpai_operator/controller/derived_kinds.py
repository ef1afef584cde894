"""The kinds the operator derives wholly from its state, each one `DerivedSource` (controller/derived.py).

- AdmissionVerdicts (`admission_verdicts`): one per namespace the native admission gate covers, the
  parameter its ValidatingAdmissionPolicies decide by (admission_verdicts.py computes them). Written
  when the gate is native (`gpai run --admission-verdicts`, chart admission.mode native or both).

- Policy reports (`policy_reports`): a Report (or PolicyReport) per namespace with models or
  judged workloads, and the cluster's ClusterReport (or ClusterPolicyReport): two kinds, two
  sources (policy_reports.py builds them). Written with `gpai run --reports`, chart reports.enabled.

A new kind is one more function here returning its source, and one more entry where app.py chooses
the sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from gpai_operator.admission_verdicts import desired_verdicts
from gpai_operator.api.kinds import ADMISSION_VERDICTS
from gpai_operator.controller.derived import DerivedKind, DerivedSource, Manifest
from gpai_operator.engine import ClusterState, ModelKey, ModelVerdict, ObjectKey
from gpai_operator.policy_reports import ReportFormat, cluster_report, namespace_reports

ADMISSION_VERDICTS_KIND = DerivedKind(
    ADMISSION_VERDICTS.api_version,
    ADMISSION_VERDICTS.kind,
    ADMISSION_VERDICTS.plural,
    namespaced=True,
    status=True,
)


def admission_verdicts(
    excluded: Iterable[str] = ("kube-system",), scope: Iterable[str] = ()
) -> DerivedSource:
    """Every covered namespace's AdmissionVerdicts: every namespace the operator knows but `excluded`
    (those the chart's policies do not match: kube-system, the operator's own, excludeNamespaces),
    and only those of `scope` when the operator serves only some namespaces (it does not see the
    models of the others). `status.evaluated` is a stamp: written with a change of the verdicts or
    their nextReview only."""
    outside = tuple(sorted(set(excluded)))
    within = frozenset(scope)

    def desired(
        state: ClusterState, verdicts: Mapping[ModelKey, ModelVerdict], now: dt.datetime
    ) -> Mapping[ObjectKey, Manifest]:
        wanted = desired_verdicts(state, verdicts, now, outside)
        return {key: manifest for key, manifest in wanted.items() if not within or key[0] in within}

    # Workloads only matter by their namespace, which the Namespace watch reports first.
    return DerivedSource(ADMISSION_VERDICTS_KIND, desired, stamps=("status.evaluated",), workloads=False)


def report_kinds(report_format: ReportFormat) -> tuple[DerivedKind, DerivedKind]:
    """The namespaced and the cluster-scoped report kind of a format; no status subresource."""
    version = report_format.api_version
    return (
        DerivedKind(version, report_format.kind, report_format.plural, namespaced=True),
        DerivedKind(version, report_format.cluster_kind, report_format.cluster_plural, namespaced=False),
    )


def policy_reports(report_format: ReportFormat) -> tuple[DerivedSource, DerivedSource]:
    """The namespaces' reports and the cluster's summary, in `report_format`. Nothing in them moves
    with the clock alone (no timestamps), so they are written only when a verdict changes."""
    namespaced, cluster_scoped = report_kinds(report_format)

    def per_namespace(
        state: ClusterState, verdicts: Mapping[ModelKey, ModelVerdict], now: dt.datetime
    ) -> Mapping[ObjectKey, Manifest]:
        return namespace_reports(state, now, verdicts, report_format)

    def cluster(
        state: ClusterState, verdicts: Mapping[ModelKey, ModelVerdict], now: dt.datetime
    ) -> Mapping[ObjectKey, Manifest]:
        return cluster_report(state, now, verdicts, report_format)

    return DerivedSource(namespaced, per_namespace), DerivedSource(cluster_scoped, cluster)
