"""The operator in-process (a thread with its own event loop) against the session's control plane.

Each test gets its own operator with a ManualClock, so evidence can expire without waiting; the
operator watches the whole cluster but the tests only look at their own namespace.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes.client import ApiClient

from gpai_operator.app import Operator, OperatorThread, Options
from gpai_operator.runtime import ManualClock, Runtime
from gpai_operator.testing.controlplane import Cluster
from tests.integration.operator.helpers import Kube

NOW = dt.datetime(2026, 11, 28, 12, 30, tzinfo=dt.UTC)  # the engine builders' NOW
StartOperator = Callable[..., OperatorThread]


@pytest.fixture
def kube(api_client: ApiClient) -> Kube:
    return Kube(api_client)


@contextlib.contextmanager
def running_operators(cluster: Cluster) -> Iterator[StartOperator]:
    """Starts operators (ready when returned); every one still running is stopped on leaving."""
    running: list[OperatorThread] = []

    def start(
        clock: ManualClock | None = None, wait_ready: bool = True, **overrides: object
    ) -> OperatorThread:
        settings: dict[str, object] = {
            "kubeconfig": str(cluster.kubeconfig),
            "webhook": False,
            "bind_address": "127.0.0.1",
            "metrics_port": 0,
            "metrics_secure": False,  # plain HTTP, as the metric tests read it; test_metrics_access.py
            "health_port": 0,
            "write_concurrency": 8,
            "retry_delay": 0.5,
        }
        settings.update(overrides)
        runtime = Runtime(clock=clock or ManualClock(NOW))
        thread = OperatorThread(Operator(Options(**settings), runtime))  # type: ignore[arg-type]
        running.append(thread)
        return thread.start(wait_ready=wait_ready)

    try:
        yield start
    finally:
        errors = []
        for thread in reversed(running):
            try:
                thread.stop()
            except Exception as error:  # report every failure, stop every operator
                errors.append(error)
        if errors:
            raise errors[0]


@pytest.fixture
def start_operator(cluster: Cluster) -> Iterator[StartOperator]:
    with running_operators(cluster) as start:
        yield start


@pytest.fixture
def operator(start_operator: StartOperator) -> OperatorThread:
    return start_operator()


def metrics_url(thread: OperatorThread) -> str:
    assert thread.operator.endpoints is not None
    return f"http://127.0.0.1:{thread.operator.endpoints.ports['metrics']}/metrics"


def health_url(thread: OperatorThread, path: str) -> str:
    assert thread.operator.endpoints is not None
    return f"http://127.0.0.1:{thread.operator.endpoints.ports['health']}{path}"


REPO = Path(__file__).resolve().parents[3]
