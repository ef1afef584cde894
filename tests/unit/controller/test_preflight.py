"""What `gpai run` checks it may do before starting: the RBAC the chart grants, nothing more."""

from __future__ import annotations

from gpai_operator.controller.leadership import LeaseSettings
from gpai_operator.controller.preflight import Permission, required_permissions
from gpai_operator.engine import WorkloadKinds


def _names(permissions: list[Permission]) -> set[str]:
    return {str(p) for p in permissions}


def test_cluster_wide_needs_reads_of_every_kind_and_writes_of_status_annotations_and_events():
    names = _names(required_permissions((), kserve=False, lease=None))
    assert "list gpai.dev/gpaimodels cluster-wide" in names
    assert "watch gpai.dev/compliancepolicies cluster-wide" in names
    assert "patch gpai.dev/gpaimodels/status cluster-wide" in names
    assert "watch gpai.dev/seriousincidents cluster-wide" in names
    assert "patch gpai.dev/seriousincidents/status cluster-wide" in names  # Next Deadline, Timely
    assert "patch apps/deployments cluster-wide" in names
    assert "patch core/pods cluster-wide" in names
    assert "create core/events cluster-wide" in names
    assert "watch core/namespaces cluster-wide" in names
    assert not any("inferenceservices" in n for n in names)  # KServe absent: not watched, not required
    assert not any("kopf.dev" in n for n in names)
    assert not any(n.startswith(("create apps", "delete", "update")) for n in names)


def test_kserve_and_leader_election_add_their_permissions():
    names = _names(required_permissions((), kserve=True, lease=LeaseSettings("gpai", "gpai-system")))
    assert "patch serving.kserve.io/inferenceservices cluster-wide" in names
    for verb in ("get", "create", "update"):
        assert f"{verb} coordination.k8s.io/leases in namespace gpai-system" in names


def test_replicasets_and_replication_controllers_are_watched_and_annotated():
    names = _names(required_permissions((), kserve=False, lease=None))
    assert "patch apps/replicasets cluster-wide" in names
    assert "watch core/replicationcontrollers cluster-wide" in names


def test_configured_kinds_need_their_permissions():
    kinds = WorkloadKinds.with_extra(["argoproj.io/v1alpha1/rollouts:Rollout:spec.template"])
    names = _names(required_permissions((), kserve=False, lease=None, kinds=kinds))
    assert "patch argoproj.io/rollouts cluster-wide" in names


def test_namespaced_operation_checks_each_namespace_and_cluster_scoped_kinds_cluster_wide():
    names = _names(required_permissions(("ml", "prod"), kserve=False, lease=None))
    assert "list apps/deployments in namespace ml" in names
    assert "list apps/deployments in namespace prod" in names
    assert "list gpai.dev/compliancepolicies cluster-wide" in names
    assert "list core/namespaces cluster-wide" in names


def test_writing_admission_verdicts_needs_their_watch_apply_and_delete_and_not_otherwise():
    from gpai_operator.controller.derived_kinds import ADMISSION_VERDICTS_KIND

    without = _names(required_permissions((), kserve=False, lease=None))
    assert not any("admissionverdicts" in n for n in without)
    names = _names(required_permissions((), kserve=False, lease=None, derived=[ADMISSION_VERDICTS_KIND]))
    for verb in ("list", "watch", "create", "patch", "delete"):
        assert f"{verb} gpai.dev/admissionverdicts cluster-wide" in names
    assert "patch gpai.dev/admissionverdicts/status cluster-wide" in names
