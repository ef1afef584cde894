"""End-to-end admission cost: creating a Deployment through the real API server, with and without
our webhook.

    python -m bench admission_e2e [--count 100] [--rounds 3] [--controllers] [--json out.json]

Starts a local control plane (etcd + kube-apiserver, hack/control-plane.sh), the webhook in its own
process (judging the example cluster, as bench/admission_latency.py does) and creates the example
Deployment `aurora-chat` (a compliant model: admitted) again and again under new names, one at a
time, as a client would. Phases alternate, `--rounds` times: `--count` creations with no webhook
configuration at all, then `--count` with the ValidatingWebhookConfiguration registered (the
configuration the chart renders, pointing at the webhook over TLS). Each phase starts once the API
server is seen to apply the change.

Reported: the median creation time with and without the webhook, their ratio (aim: under 1.2),
and the p90s.

No kube-controller-manager by default: the figure is one admission round trip, and controllers
would turn each Deployment into a ReplicaSet and Pods whose creations (each admitted too) load the
same two cores unevenly between the phases. `--controllers` runs it anyway, for the realistic mix.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.admission_latency import EXAMPLES, ServerProcess
from bench.apiserver import admission_counts
from bench.measure import latency_summary

NAMESPACE = "prod-chat"


def durable_control_plane(controllers: bool) -> Any:
    from gpai_operator.testing.controlplane import ControlPlane

    class DurableControlPlane(ControlPlane):
        """The test control plane with etcd syncing its writes, as production etcd does."""

        def _etcd_args(self, *args: Any, **kwargs: Any) -> list[Any]:
            return [a for a in super()._etcd_args(*args, **kwargs) if a != "--unsafe-no-fsync=true"]

    return DurableControlPlane(controllers=controllers)


def example_deployment(name: str = "aurora-chat") -> dict[str, Any]:
    """A Deployment of examples/workloads/prod-chat.yaml (aurora-chat: of a compliant model)."""
    for document in yaml.safe_load_all((EXAMPLES / "workloads" / "prod-chat.yaml").read_text()):
        if document and document.get("kind") == "Deployment" and document["metadata"]["name"] == name:
            return document
    raise LookupError(f"examples/workloads/prod-chat.yaml has no Deployment {name}")


def _namespaces() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / "namespaces.yaml").read_text()) if d]


def timed_create(apps: Any, body: dict[str, Any], name: str) -> float:
    """Seconds to create `body` under `name` in prod-chat, the answer read in full."""
    obj = copy.deepcopy(body)
    obj["metadata"]["name"] = name
    started = time.perf_counter()
    apps.create_namespaced_deployment(NAMESPACE, obj, _preload_content=False).read()
    return time.perf_counter() - started


def _webhook_calls(api_client: Any) -> tuple[float, float]:
    """(count, seconds) of validate.gpai.dev calls, by kube-apiserver's own measure."""
    from gpai_operator.admission.configuration import VALIDATE

    calls = admission_counts(api_client).webhook_calls([VALIDATE])
    return calls.calls, calls.seconds


def _wait_for(api_client: Any, apps: Any, body: dict[str, Any], called: bool, timeout: float = 30.0) -> None:
    """Until kube-apiserver does (or no longer does) call the webhook for a dry-run creation."""
    probe = copy.deepcopy(body)
    probe["metadata"]["name"] = "probe"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _webhook_calls(api_client)[0]
        apps.create_namespaced_deployment(NAMESPACE, probe, dry_run="All")
        if (_webhook_calls(api_client)[0] > before) == called:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the API server did not {'start' if called else 'stop'} calling the webhook")


PHASES = ("none", "gpai", "baseline")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench admission_e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="creations per phase (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three phases (default 3)")
    parser.add_argument(
        "--etcd-fsync", choices=("off", "on", "both"), default="both", help="etcd durability (default: both)"
    )
    parser.add_argument(
        "--controllers", action="store_true", help="also run kube-controller-manager (default: not)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"controllers": args.controllers}
    for fsync in ("off", "on") if args.etcd_fsync == "both" else (args.etcd_fsync,):
        label = (
            "etcd --unsafe-no-fsync (the test control plane)" if fsync == "off" else "etcd syncing to disk"
        )
        print(f"== {label}")
        results[f"fsync_{fsync}"] = run(args.count, args.rounds, fsync == "on", args.controllers)
        print()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def run(count: int, rounds: int, fsync: bool, controllers: bool = False) -> dict[str, Any]:
    from kubernetes.client import AdmissionregistrationV1Api, AppsV1Api, CoreV1Api

    from gpai_operator.admission.configuration import webhook_configuration
    from gpai_operator.admission.testing import WebhookCertificates
    from gpai_operator.testing.controlplane import ControlPlane

    body = example_deployment()
    times: dict[str, list[float]] = {phase: [] for phase in PHASES}
    calls: dict[str, list[float]] = {phase: [0.0, 0.0] for phase in PHASES}  # count, seconds
    servers: dict[str, ServerProcess] = {}
    plane = durable_control_plane(controllers) if fsync else ControlPlane(controllers=controllers)
    with tempfile.TemporaryDirectory(prefix="gpai-bench-e2e-") as tmp, plane as cluster:
        certs = WebhookCertificates.create(Path(tmp))
        try:
            for name in ("gpai", "baseline"):
                servers[name] = ServerProcess(name, Path(tmp), cpu=None)
            with cluster.api_client() as api_client:
                core, apps = CoreV1Api(api_client), AppsV1Api(api_client)
                admission = AdmissionregistrationV1Api(api_client)
                for namespace in _namespaces():
                    core.create_namespace(namespace)
                for i in range(20):  # warm-up: connections and caches on every side
                    timed_create(apps, body, f"warm-{i}")
                created = 0
                for round_ in range(rounds):
                    for phase in PHASES:
                        configuration = None
                        if phase != "none":
                            configuration = webhook_configuration(servers[phase].url, certs.ca_pem)
                            admission.create_validating_webhook_configuration(configuration)
                        _wait_for(api_client, apps, body, called=phase != "none")
                        before = _webhook_calls(api_client)
                        for _ in range(count):
                            times[phase].append(timed_create(apps, body, f"chat-{created}"))
                            created += 1
                        after = _webhook_calls(api_client)
                        calls[phase][0] += after[0] - before[0]
                        calls[phase][1] += after[1] - before[1]
                        if configuration is not None:
                            admission.delete_validating_webhook_configuration(
                                configuration["metadata"]["name"]
                            )
                            _wait_for(api_client, apps, body, called=False)
                    medians = ", ".join(f"{p} {1000 * statistics.median(times[p]):.2f} ms" for p in PHASES)
                    print(f"round {round_ + 1}: medians {medians}", file=sys.stderr)
        finally:
            for server in servers.values():
                server.stop()

    result: dict[str, Any] = {phase: latency_summary(times[phase]) for phase in PHASES}
    for phase in ("gpai", "baseline"):
        count_, seconds = calls[phase]
        result[phase]["webhook_call_mean_ms"] = 1000 * seconds / count_ if count_ else float("nan")
    base = result["none"]["median_ms"]
    result["ratio"] = {phase: result[phase]["median_ms"] / base for phase in ("gpai", "baseline")}
    labels = {"none": "no webhook", "gpai": "gpai webhook", "baseline": "trivial webhook"}
    for phase in PHASES:
        figures = result[phase]
        print(
            f"{labels[phase]:16} n={figures['count']:.0f} median {figures['median_ms']:.2f} ms, "
            f"p90 {figures['p90_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms"
        )
    print(
        f"ratio of medians to no webhook: gpai {result['ratio']['gpai']:.3f} (aim: under 1.2), "
        f"trivial webhook {result['ratio']['baseline']:.3f}"
    )
    print(
        "the webhook call as kube-apiserver measures it (mean): "
        f"gpai {result['gpai']['webhook_call_mean_ms']:.2f} ms, "
        f"trivial webhook {result['baseline']['webhook_call_mean_ms']:.2f} ms"
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
