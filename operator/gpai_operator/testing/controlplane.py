"""A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on loopback,
for tests and the demo.

    with ControlPlane() as cluster:
        core = kubernetes.client.CoreV1Api(cluster.api_client())

The binaries come from ``KUBEBUILDER_ASSETS`` (the layout setup-envtest produces, plus
kube-controller-manager) or, in a checkout, from ``hack/control-plane.sh``, which builds them once
into a cache outside the checkout. Everything else (certificates, etcd data, logs, kubeconfigs, the
audit log) lives in a temporary folder that ``stop()`` removes. The controller manager runs the
workload, garbage-collection, namespace, service-account and RBAC-aggregation controllers, each as
its own service account (`CONTROLLERS`); there is no scheduler and no kubelet, so Pods stay Pending.
``ControlPlane(controllers=False)`` leaves the controller manager out.

Set ``GPAI_TEST_KUBECONFIG`` to a kubeconfig file to run against an existing cluster instead
(see `start_test_cluster`).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config import load_kube_config, new_client_from_config

from gpai_operator.testing import audit
from gpai_operator.testing.pki import (
    CONTROLLER_MANAGER_USER,
    PkiFiles,
    issue_client,
    new_ca,
    write_kubeconfig,
    write_pki,
)
from gpai_operator.testing.processes import ManagedProcess, register, rss_bytes, tail, unregister

ASSETS_ENV = "KUBEBUILDER_ASSETS"
EXISTING_CLUSTER_ENV = "GPAI_TEST_KUBECONFIG"
BINARIES = ("kube-apiserver", "kube-controller-manager", "etcd")
SCRIPT = Path("hack", "control-plane.sh")
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
LOG_TAIL_LINES = 40
# What kube-controller-manager runs: everything that turns a workload into its children, removes
# them again, finalizes namespaces and keeps the bootstrap RBAC roles whole. Left out: what needs
# nodes, volumes, Services with ready endpoints, or finished Pods to do anything (endpoints,
# node lifecycle, persistent volumes, pod GC, ttl-after-finished, disruption budgets), certificate
# signing, quotas and the kube-root-ca.crt publisher (a ConfigMap in every namespace that only a
# kubelet would read). See docs/control-plane.md.
CONTROLLERS = (
    "serviceaccount-token-controller",
    "serviceaccount-controller",
    "deployment-controller",
    "replicaset-controller",
    "replicationcontroller-controller",
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "clusterrole-aggregation-controller",
)


class ControlPlaneError(RuntimeError):
    """The control plane could not be started; the message carries the tail of both logs."""


class BinariesUnavailable(ControlPlaneError):
    """Neither KUBEBUILDER_ASSETS nor hack/control-plane.sh provides the binaries."""


class Cluster(Protocol):
    """What tests need from a cluster, whether started here or already running."""

    kubeconfig: Path
    server: str
    runs_controllers: bool  # False: nobody finalizes namespaces or collects garbage
    audit_log: Path | None  # the controllers' creations (gpai_operator.testing.audit), when readable

    def api_client(self) -> ApiClient: ...

    def stop(self) -> None: ...


def repo_root() -> Path | None:
    """The checkout this package is installed from (editable install), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / SCRIPT).is_file() else None


def _has_binaries(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in BINARIES)


def find_binaries() -> Path:
    """The folder holding the BINARIES: KUBEBUILDER_ASSETS, else hack/control-plane.sh."""
    assets = os.environ.get(ASSETS_ENV)
    if assets and _has_binaries(Path(assets)):
        return Path(assets)
    root = repo_root()
    if root is None:
        raise BinariesUnavailable(
            f"{ASSETS_ENV} does not point at a folder with {' and '.join(BINARIES)}, and "
            f"{SCRIPT} is only available in a checkout of gpai-operator"
        )
    try:
        script = subprocess.Popen([root / SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise BinariesUnavailable(f"could not run {SCRIPT}: {error}") from error
    progress = []
    for line in script.stderr or ():  # a first build takes minutes: pass its progress on
        sys.stderr.write(line)
        progress.append(line)
    lines = (script.stdout.read() if script.stdout else "").strip().splitlines()
    if script.wait() == 0 and lines and _has_binaries(Path(lines[-1])):
        return Path(lines[-1])
    raise BinariesUnavailable(
        f"{SCRIPT} could not provide {' and '.join(BINARIES)} (exit {script.returncode}); "
        f"set {ASSETS_ENV} to a folder that has them. Its output:\n{''.join(progress).strip()}"
    )


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free a moment ago."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class ControlPlane:
    """etcd, kube-apiserver and kube-controller-manager in a temporary folder, reachable as an admin
    over loopback TLS."""

    def __init__(
        self,
        binaries: Path | None = None,
        workdir: Path | None = None,
        start_timeout: float = 60.0,
        extra_apiserver_args: tuple[str, ...] = (),
        controllers: bool = True,
    ) -> None:
        """`binaries` defaults to `find_binaries()`; a given `workdir` is kept after `stop()`.
        `controllers=False` runs no kube-controller-manager (and so no ServiceAccount admission)."""
        self._binaries = binaries
        self._workdir = workdir
        self._owns_workdir = workdir is None
        self._start_timeout = start_timeout
        self._extra_apiserver_args = extra_apiserver_args
        self._processes: list[ManagedProcess] = []
        self.runs_controllers = controllers
        self.kubeconfig = Path()
        self.server = ""
        self.audit_log: Path | None = None
        self.startup_seconds = 0.0  # process start to ready
        self.apiserver_ready_seconds = 0.0  # process start to kube-apiserver ready (etcd included)
        self._ca = new_ca()
        self._pki: PkiFiles | None = None
        self._ports: dict[str, int] = {}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise ControlPlaneError("the control plane has not been started")
        return self._workdir

    def start(self) -> Self:
        binaries = self._binaries or find_binaries()
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="gpai-control-plane-"))
        register(self)
        try:
            self._start(binaries)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, binaries: Path) -> None:
        pki = self._pki = write_pki(self.workdir / "pki", self._ca)
        etcd_port, peer_port, api_port = free_ports(3)
        self._ports = {"etcd": etcd_port, "kube-apiserver": api_port}
        self.server = f"https://127.0.0.1:{api_port}"
        started = time.monotonic()
        deadline = started + self._start_timeout
        self._processes.append(
            ManagedProcess(
                "etcd", self._etcd_args(binaries / "etcd", etcd_port, peer_port), self.workdir / "etcd.log"
            )
        )
        self._wait_until("etcd is healthy", lambda: _etcd_healthy(etcd_port), deadline)
        self._processes.append(
            ManagedProcess(
                "kube-apiserver",
                self._apiserver_args(binaries / "kube-apiserver", pki, api_port, etcd_port),
                self.workdir / "kube-apiserver.log",
            )
        )
        self._wait_until("kube-apiserver is ready", lambda: self._apiserver_ready(pki, api_port), deadline)
        self.apiserver_ready_seconds = time.monotonic() - started
        if self.runs_controllers:
            kubeconfig = write_kubeconfig(
                self.workdir / "controller-manager.kubeconfig", self.server, pki, user=CONTROLLER_MANAGER_USER
            )
            self._processes.append(
                ManagedProcess(
                    "kube-controller-manager",
                    self._controller_manager_args(binaries / "kube-controller-manager", pki, kubeconfig),
                    self.workdir / "kube-controller-manager.log",
                )
            )
            self._wait_until(
                "kube-controller-manager runs its controllers",
                lambda: self._controllers_running(pki, api_port),
                deadline,
            )
        self.startup_seconds = time.monotonic() - started
        self.kubeconfig = write_kubeconfig(self.workdir / "kubeconfig", self.server, pki)

    def _etcd_args(self, etcd: Path, client_port: int, peer_port: int) -> list[str | Path]:
        client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
        return [
            etcd,
            "--name=default",
            f"--data-dir={self.workdir / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--unsafe-no-fsync=true",  # throwaway data: durability costs seconds per test run
            "--log-level=warn",
        ]

    def _apiserver_args(self, apiserver: Path, pki: PkiFiles, port: int, etcd_port: int) -> list[str | Path]:
        self.audit_log = self.workdir / "audit.log"
        policy = self.workdir / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(audit.POLICY, sort_keys=False))
        return [
            apiserver,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.service_account_pub}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-mode=blocking",  # each event written as its request completes, not batched
            # The plugin makes Pods wait for their namespace's `default` ServiceAccount, which only
            # the controller manager creates.
            *(() if self.runs_controllers else ("--disable-admission-plugins=ServiceAccount",)),
            # The `kubernetes` Service cannot list a loopback address as its endpoint.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            *self._extra_apiserver_args,
        ]

    def _controller_manager_args(self, binary: Path, pki: PkiFiles, kubeconfig: Path) -> list[str | Path]:
        return [
            binary,
            f"--kubeconfig={kubeconfig}",
            # Each controller acts as system:serviceaccount:kube-system:<its name>, with a token the
            # controller manager requests for it, as kubeadm clusters run it.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.service_account_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--controllers={','.join(CONTROLLERS)}",
            "--leader-elect=false",
            "--secure-port=0",  # no /healthz or /metrics server: nothing to collide with other runs
            # Per client: the namespace controller lists and deletes every resource type per namespace.
            "--kube-api-qps=200",
            "--kube-api-burst=400",
        ]

    def _controllers_running(self, pki: PkiFiles, port: int) -> bool:
        """The `default` namespace has its `default` ServiceAccount: the controller manager starts its
        informers, and with them the service-account controller, only once every controller has
        started."""
        path = "/api/v1/namespaces/default/serviceaccounts/default"
        return _get_status(f"127.0.0.1:{port}", path, self._admin_context(pki)) == 200

    def _admin_context(self, pki: PkiFiles) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=pki.ca_cert)
        context.load_cert_chain(pki.admin_cert, pki.admin_key)
        return context

    def _wait_until(self, what: str, done: Callable[[], bool], deadline: float) -> None:
        while not done():
            for process in self._processes:
                if (code := process.exit_code()) is not None:
                    raise self._failure(f"{process.name} exited with code {code}")
            if time.monotonic() > deadline:
                raise self._failure(f"timed out after {self._start_timeout:.0f} s waiting until {what}")
            time.sleep(0.05)

    def _apiserver_ready(self, pki: PkiFiles, port: int) -> bool:
        """/readyz answers 200 and the `default` namespace exists (the API server creates it)."""
        context = self._admin_context(pki)
        ready = _get_status(f"127.0.0.1:{port}", "/readyz", context)
        if ready in (401, 403):
            raise self._failure(f"kube-apiserver refused the admin client certificate (HTTP {ready})")
        return ready == 200 and _get_status(f"127.0.0.1:{port}", "/api/v1/namespaces/default", context) == 200

    def _failure(self, reason: str) -> ControlPlaneError:
        logs = "\n".join(
            f"--- {process.log_path.name} (last {LOG_TAIL_LINES} lines) ---\n"
            f"{tail(process.log_path, LOG_TAIL_LINES)}"
            for process in self._processes
        )
        return ControlPlaneError(f"the control plane did not start: {reason}\n{logs}")

    def stop(self) -> None:
        """Stops the processes, newest first, and removes the temporary folder; safe to call twice."""
        unregister(self)
        while self._processes:
            self._processes.pop().stop()
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def api_client(self) -> ApiClient:
        """A new admin client for this control plane."""
        client: ApiClient = new_client_from_config(config_file=str(self.kubeconfig))
        return client

    # ---- faults: each process can crash and come back, on the same ports and data ---------------
    @property
    def etcd_url(self) -> str:
        """etcd's client URL (plain HTTP on loopback), for its v3 HTTP gateway (testing/etcd.py)."""
        return f"http://127.0.0.1:{self._ports['etcd']}"

    def process(self, name: str) -> ManagedProcess:
        """The running process named `name`: etcd, kube-apiserver or kube-controller-manager."""
        for process in self._processes:
            if process.name == name:
                return process
        raise KeyError(f"no process {name!r}; there are {[p.name for p in self._processes]}")

    def kill(self, name: str) -> None:
        """SIGKILL one process, as a crash or the OOM killer would; waits until it is gone."""
        self.process(name).kill()

    def start_again(self, name: str, timeout: float | None = None) -> float:
        """Starts a process that was killed with its old command line (same ports, same etcd data
        folder); waits until it serves again and returns how long that took in seconds."""
        index = self._processes.index(self.process(name))
        self._processes[index] = self._processes[index].respawn()
        started = time.monotonic()
        deadline = started + (timeout or self._start_timeout)
        self._wait_until(f"{name} serves again", self._serving(name), deadline)
        return time.monotonic() - started

    def restart(self, name: str, down: float = 0.0, timeout: float | None = None) -> float:
        """Kills a process, leaves it down for `down` seconds, starts it again; the seconds from the
        kill until it served again."""
        killed = time.monotonic()
        self.kill(name)
        time.sleep(down)
        self.start_again(name, timeout)
        return time.monotonic() - killed

    def _serving(self, name: str) -> Callable[[], bool]:
        pki = self._pki
        assert pki is not None
        if name == "etcd":
            return lambda: _etcd_healthy(self._ports["etcd"])
        if name == "kube-apiserver":
            return lambda: self._apiserver_ready(pki, self._ports["kube-apiserver"])
        return lambda: True

    def client_kubeconfig(self, user: str, group: str, server: str | None = None) -> Path:
        """A kubeconfig for a user of our own (a client certificate of the cluster's CA naming `user`
        in `group`), reaching the API server at `server` (default: directly); RBAC grants it nothing
        until bound."""
        assert self._pki is not None
        folder = self.workdir / "clients"
        client = issue_client(self._ca, folder, user, group)
        path = folder / f"{user.replace(':', '-')}.kubeconfig"
        return write_kubeconfig(path, server or self.server, self._pki, user=user, client=client)

    @property
    def apiserver_port(self) -> int:
        return self._ports["kube-apiserver"]

    def pids(self) -> dict[str, int]:
        """The process id of each of its processes, by name."""
        return {process.name: process.pid for process in self._processes}

    def rss_bytes(self) -> dict[str, int]:
        """Resident memory of each process (Linux)."""
        return {process.name: rss_bytes(process.pid) for process in self._processes}

    def __repr__(self) -> str:
        return f"ControlPlane(server={self.server!r}, processes={self._processes!r})"


def _etcd_healthy(port: int) -> bool:
    return _get_status(f"127.0.0.1:{port}", "/health") == 200


def _get_status(host: str, path: str, context: ssl.SSLContext | None = None) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    connection = (
        http.client.HTTPSConnection(host, context=context, timeout=5)
        if context
        else http.client.HTTPConnection(host, timeout=5)
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


class ExistingCluster:
    """A cluster somebody else runs, reached through a kubeconfig; `stop()` leaves it alone."""

    runs_controllers = True
    audit_log: Path | None = None

    def __init__(self, kubeconfig: Path) -> None:
        if not kubeconfig.is_file():
            raise ControlPlaneError(f"{EXISTING_CLUSTER_ENV}={kubeconfig} is not a file")
        self.kubeconfig = kubeconfig
        configuration = Configuration()
        load_kube_config(
            config_file=str(kubeconfig), client_configuration=configuration, persist_config=False
        )
        self.server: str = configuration.host

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def api_client(self) -> ApiClient:
        client: ApiClient = new_client_from_config(config_file=str(self.kubeconfig), persist_config=False)
        return client

    def stop(self) -> None:
        pass


def start_test_cluster() -> ControlPlane | ExistingCluster:
    """The cluster named by GPAI_TEST_KUBECONFIG if set, else a freshly started ControlPlane."""
    existing = os.environ.get(EXISTING_CLUSTER_ENV)
    if existing:
        return ExistingCluster(Path(existing).expanduser())
    return ControlPlane().start()
