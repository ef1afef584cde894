"""Integration tests run against a real kube-apiserver and etcd with every CRD from crds/ installed.

Every test in this folder is marked `integration`. When the binaries are missing and cannot be
built, the tests skip with the reason, except under CI (the `CI` variable set), where they fail.
Set GPAI_TEST_KUBECONFIG to a kubeconfig file to run them against an existing cluster instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from gpai_operator.admission.testing import install_kserve_crd
from gpai_operator.testing.controlplane import BinariesUnavailable, Cluster, start_test_cluster
from gpai_operator.testing.crds import install_crds
from gpai_operator.testing.namespaces import create_namespace, delete_namespace
from tests.chart.harness import find_tool
from tests.unavailable import unavailable

HERE = Path(__file__).resolve().parent
CRD_DIR = HERE.parents[1] / "crds"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A ready cluster with our CRDs, other projects' real CRDs and a KServe InferenceService stand-in.

    The real CRDs (OpenReports, PolicyReport, Prometheus Operator, cert-manager) come from the Go
    modules that publish them (hack/third-party-crds.sh); KServe publishes none, hence the stand-in.
    """
    try:
        started = start_test_cluster()
    except BinariesUnavailable as error:
        unavailable(f"no Kubernetes control plane for the integration tests: {error}")
    try:
        with started.api_client() as api_client:
            install_test_crds(api_client)
        yield started
    finally:
        started.stop()


def install_test_crds(api_client: ApiClient) -> None:
    """Our CRDs, the chart's third-party kinds and a KServe InferenceService stand-in."""
    crd_files = sorted(CRD_DIR.glob("*.yaml"))
    if not crd_files:
        pytest.fail(f"no CustomResourceDefinitions in {CRD_DIR}; `make crds` writes them", pytrace=False)
    third_party = find_tool("GPAI_THIRD_PARTY_CRDS", "third-party-crds.sh")  # a folder
    install_crds(api_client, [*crd_files, *sorted(third_party.glob("*.yaml"))])
    install_kserve_crd(api_client)


@pytest.fixture(scope="session")
def api_client(cluster: Cluster) -> Iterator[ApiClient]:
    """An admin client of the session's cluster."""
    with cluster.api_client() as client:
        yield client


@pytest.fixture
def namespace(cluster: Cluster, api_client: ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test; it and everything in it are deleted afterwards."""
    name = create_namespace(api_client, request.node.name)
    yield name
    delete_namespace(api_client, name, purge=not cluster.runs_controllers)
