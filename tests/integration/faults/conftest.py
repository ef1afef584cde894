"""Fault tests: each module breaks a control plane of its own (never the session's), with `gpai run`
in child processes as users run it, and ends with the oracle (gpai_operator.testing.oracle).

Every operator process has an identity of its own (a client certificate in the audit log's
`OPERATORS` group, bound to cluster-admin), so the audit log says which replica wrote what, and
when. The control planes run no kube-controller-manager: the churn makes the controlled objects
itself (Pods whose controller reference names a Deployment), which is what the operator cares about.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from gpai_operator.testing import audit
from gpai_operator.testing.churn import Churn
from gpai_operator.testing.controlplane import BinariesUnavailable, ControlPlane
from gpai_operator.testing.crds import install_crds
from gpai_operator.testing.namespaces import create_namespace, delete_namespace
from gpai_operator.testing.operator_process import OperatorProcess
from gpai_operator.testing.oracle import wait_until_right
from gpai_operator.testing.rest import request_json
from tests.unavailable import unavailable

CRD_DIR = Path(__file__).resolve().parents[3] / "crds"
CONVERGE_TIMEOUT = 30.0  # seconds: the operator converges within a few after a fault heals
QUIET = ("--log-level=debug",)


def utc_now() -> dt.datetime:
    """The operator processes run on the system clock; the churn's evidence is dated far from any
    deadline, so a few seconds between the operator's `now` and the oracle's change nothing."""
    return dt.datetime.now(dt.UTC)


def start_plane(**options: Any) -> ControlPlane:
    """A control plane of the module's own with our CRDs, and cluster-admin for the operators' group."""
    try:
        plane = ControlPlane(controllers=False, **options).start()
    except BinariesUnavailable as error:
        unavailable(f"no Kubernetes control plane for the fault tests: {error}")
    try:
        with plane.api_client() as api_client:
            install_crds(api_client, sorted(CRD_DIR.glob("*.yaml")))
            binding = {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "gpai-operators-fault-tests"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": audit.OPERATORS}
                ],
            }
            request_json(
                api_client, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body=binding
            )
    except BaseException:
        plane.stop()
        raise
    return plane


@pytest.fixture(scope="module")
def plane() -> Iterator[ControlPlane]:
    started = start_plane()
    yield started
    started.stop()


@dataclass
class Faults:
    """One test's view of its module's control plane: an admin client, its namespaces, its
    operator processes (stopped at the end) and the oracle."""

    plane: ControlPlane
    api: ApiClient
    folder: Path
    namespaces: list[str] = field(default_factory=list)
    operators: list[OperatorProcess] = field(default_factory=list)
    token: str = field(default_factory=lambda: secrets.token_hex(2))

    def identity(self, name: str) -> str:
        """A user name for one operator replica, unique in the module's audit log."""
        return f"gpai-operator-{name}-{self.token}"

    def operator(
        self, name: str = "a", *, args: tuple[str, ...] = (), wait: bool = True, **options: Any
    ) -> OperatorProcess:
        """`gpai run` as the replica `name`, with a client certificate of its own."""
        user = self.identity(name)
        kubeconfig = options.pop("kubeconfig", None) or self.plane.client_kubeconfig(user, audit.OPERATORS)
        process = OperatorProcess(
            kubeconfig,
            self.folder / f"operator-{name}.log",
            extra_args=(*QUIET, *args),
            identity=user,
            **options,
        )
        self.operators.append(process)
        if wait:
            process.wait_ready()
        return process

    def churn(self, seed: int = 0) -> Churn:
        return Churn(self.api, self.namespaces, today=utc_now().date(), seed=seed)

    def converge(self, timeout: float = CONVERGE_TIMEOUT) -> float:
        """Waits until the oracle finds nothing wrong in this test's namespaces; the seconds it took."""
        return wait_until_right(self.api, utc_now, timeout, namespaces=set(self.namespaces))

    def requests(self, *names: str) -> list[audit.Request]:
        """What the named replicas asked of the API server, in the order the requests completed."""
        return self.tail(*names).read()

    def tail(self, *names: str) -> audit.RequestTail:
        """The same, as the audit log grows: each `read()` returns what completed since the last."""
        assert self.plane.audit_log is not None
        return audit.RequestTail(self.plane.audit_log, {self.identity(n) for n in names} or None)


@pytest.fixture
def faults(plane: ControlPlane, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Faults]:
    with plane.api_client() as api_client:
        test = Faults(plane, api_client, tmp_path)
        test.namespaces = [create_namespace(api_client, f"{request.node.name[:20]}-{i}") for i in range(2)]
        try:
            yield test
        finally:
            for process in test.operators:
                process.stop()
            for name in test.namespaces:
                try:
                    delete_namespace(api_client, name, purge=True)
                except Exception as error:  # the control plane may be what the test broke
                    print(f"could not delete namespace {name}: {error}")
