"""`gpai run` in its own process for the benchmarks and the fault tests, on free loopback ports, as
a user starts it."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gpai_operator.admission.configuration import webhook_url
from gpai_operator.testing.controlplane import free_ports
from gpai_operator.testing.processes import ManagedProcess, tail

if TYPE_CHECKING:
    from gpai_operator.admission.testing import WebhookCertificates


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """Status and body of a plain GET; status 0 when nothing answers within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except OSError as error:
        return getattr(error, "code", 0) or 0, str(error)


class OperatorProcess:
    """`gpai run` in a child process: with `certs` it serves admission reviews on TLS (the webhook is
    not registered here: see admission.configuration), without them it runs with --no-webhook."""

    def __init__(
        self,
        kubeconfig: Path,
        log: Path,
        *,
        certs: WebhookCertificates | None = None,
        extra_args: Sequence[str] = (),
        identity: str | None = None,
    ) -> None:
        """`identity` is the replica's name in leader election (what the chart sets as POD_NAME)."""
        webhook_port, metrics_port, health_port = free_ports(3)
        self.identity = identity
        self.log_path = log
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        self.ready_url = f"http://127.0.0.1:{health_port}/readyz"
        self.webhook_url = webhook_url("127.0.0.1", webhook_port) if certs else None
        argv = [sys.executable, "-m", "gpai_operator.cli.main", "run", f"--kubeconfig={kubeconfig}"]
        argv += ["--bind-address=127.0.0.1", f"--metrics-port={metrics_port}", f"--health-port={health_port}"]
        argv.append("--no-metrics-secure")  # read by the benchmarks over plain HTTP on loopback
        if certs is None:
            argv.append("--no-webhook")
        else:
            argv += ["--webhook-address=127.0.0.1", f"--webhook-port={webhook_port}"]
            argv += [f"--webhook-cert-file={certs.cert_file}", f"--webhook-key-file={certs.key_file}"]
        env = {**os.environ, "POD_NAME": identity} if identity else None
        self.process = ManagedProcess("gpai-run", [*argv, *extra_args], log, env=env)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds until /readyz passed; raises with the log's tail when it exits or times out."""
        started = time.monotonic()
        while http_get(self.ready_url)[0] != 200:
            if (code := self.process.exit_code()) is not None:
                raise RuntimeError(f"the operator exited with {code}; its log:\n{tail(self.log_path, 30)}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(
                    f"the operator was not ready within {timeout:.0f} s; its log:\n{tail(self.log_path, 30)}"
                )
            time.sleep(0.1)
        return time.monotonic() - started

    def metrics(self, timeout: float = 5.0) -> str:
        """The /metrics page (at 10,000 models some 40 MB, built in seconds: give it the time)."""
        return http_get(self.metrics_url, timeout)[1]

    def ready(self) -> bool:
        return http_get(self.ready_url)[0] == 200

    def stop(self) -> None:
        self.process.stop()

    def start_again(self) -> None:
        """The same command line (same ports, same identity) again, once the process has ended."""
        self.process = self.process.respawn()
