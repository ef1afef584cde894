"""The webhook under a flood of huge bodies, beside the same run without the flood.

    python -m bench admission_flood [--repeat 3] [--json out.json]

Starts a local control plane (hack/control-plane.sh) with our CRDs and the example cluster's
namespaces, models, evidence and policies, and `gpai run` in its own process as a pod runs it
(webhook on TLS, metrics, probes; standalone). Then, from another process
(gpai_operator/testing/flood.py), sends 200 AdmissionReviews of the example workloads at 100/s while
probing /healthz every 20 ms, twice per repetition, alternating:

- without flood;
- with the flood: 8 bodies of 16 MiB (announced with their Content-Length, each should be refused
  with 413 before most of it is sent) and 8 AdmissionReviews just under the 7 MiB limit (judged off
  the event loop, or 429 and retried after Retry-After), all at once, 0.3 s into the run.

Reported, as medians over the repetitions: ordinary review latency p50/p99 and the probe's p50/p99/max
in both runs and their ratios, and in the flood runs the time to each 413 and to each at-limit answer.
Separately, the measurement behind the 64 KiB threshold for parsing on the event loop: how long
json.loads holds the event loop for bodies of growing size, ordinary and adversarial.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.admission_latency import EXAMPLES, review_mix

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_SCOPED = ("Namespace", "CompliancePolicy")
THRESHOLD_SIZES = (4, 16, 64, 256, 1024)  # KiB


def _apply_examples(api_client: Any) -> None:
    """The example cluster minus its workloads (those are what the reviews are about)."""
    from gpai_operator import objects
    from gpai_operator.controller.resources import object_path
    from gpai_operator.loader import load
    from gpai_operator.testing.rest import request_json

    loaded = load([str(EXAMPLES)])
    manifests = [m.obj for m in loaded.manifests if not objects.is_workload(m.obj)]
    manifests.sort(key=lambda obj: obj["kind"] not in CLUSTER_SCOPED)
    for obj in manifests:
        api_version, kind, namespace, name = objects.identity(obj)
        path = object_path(api_version, kind, "" if kind in CLUSTER_SCOPED else namespace, name)
        request_json(api_client, "POST", path.rpartition("/")[0], body=obj)


def _flood_run(webhook: str, health: str, ca: Path, reviews: Path, flood: bool) -> dict[str, Any]:
    argv = [sys.executable, "-m", "gpai_operator.testing.flood", f"--url={webhook}", f"--ca={ca}"]
    argv += [f"--health={health}", f"--reviews={reviews}", "--flood" if flood else "--no-flood"]
    result = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300)
    return json.loads(result.stdout)


def inline_parse_costs() -> list[dict[str, Any]]:
    """json.loads time (best of 5) for AdmissionReviews of growing size: an ordinary workload padded
    with environment variables, and the slowest shape to parse (a list of empty objects)."""
    from gpai_operator.testing.flood import review_of

    def best(body: bytes) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            json.loads(body)
            times.append(time.perf_counter() - started)
        return 1000 * min(times)

    rows = []
    base = json.loads(review_mix()[0])
    for kib in THRESHOLD_SIZES:
        size = kib * 1024
        ordinary = json.loads(json.dumps(base))
        template = ordinary["request"]["object"]["spec"]
        spec = template["template"]["spec"] if "template" in template else template
        spec["containers"][0]["env"] = [
            {"name": f"SETTING_{i}", "value": "value-" * 4} for i in range(size // 50)
        ]
        adversarial = review_of(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}}
        )
        adversarial["request"]["object"]["spec"] = {"x": [{}] * (size // 3)}
        rows.append(
            {
                "kib": kib,
                "ordinary_ms": round(best(json.dumps(ordinary).encode()), 3),
                "adversarial_ms": round(best(json.dumps(adversarial).encode()), 3),
            }
        )
    return rows


def _median(runs: list[dict[str, Any]], part: str, key: str) -> float:
    return round(statistics.median(run[part][key] for run in runs), 2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench admission_flood", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs with and without the flood (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    from gpai_operator.admission.testing import WebhookCertificates
    from gpai_operator.testing.controlplane import ControlPlane
    from gpai_operator.testing.crds import install_crds
    from gpai_operator.testing.operator_process import OperatorProcess

    costs = inline_parse_costs()
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="gpai-bench-flood-") as tmp, ControlPlane() as cluster:
        folder = Path(tmp)
        with cluster.api_client() as api_client:
            install_crds(api_client, sorted((ROOT / "crds").glob("*.yaml")))
            _apply_examples(api_client)
        certs = WebhookCertificates.create(folder / "certs")
        operator = OperatorProcess(
            cluster.kubeconfig, folder / "operator.log", certs=certs, extra_args=["--log-level=warning"]
        )
        try:
            health = operator.ready_url.replace("/readyz", "/healthz")
            operator.wait_ready()
            reviews = folder / "reviews.ndjson"
            reviews.write_bytes(b"\n".join(review_mix()) + b"\n")
            webhook = operator.webhook_url or ""
            _flood_run(webhook, health, certs.ca_file, reviews, False)  # warm-up
            for repetition in range(args.repeat):
                for flood in (False, True) if repetition % 2 == 0 else (True, False):
                    run = _flood_run(webhook, health, certs.ca_file, reviews, flood)
                    runs[flood].append(run)
                    print(
                        f"flood={flood!s:5} reviews p50 {run['reviews']['p50_ms']:7.2f} ms "
                        f"p99 {run['reviews']['p99_ms']:7.2f} ms  /healthz p99 "
                        f"{run['health']['p99_ms']:6.2f} max {run['health']['max_ms']:6.2f} ms  "
                        f"413s {run['oversized_statuses']}",
                        file=sys.stderr,
                    )
        finally:
            operator.stop()

    quiet, flooded = runs[False], runs[True]
    summary: dict[str, Any] = {"repetitions": args.repeat, "inline_parse": costs}
    for name, part, key in (
        ("review_p50_ms", "reviews", "p50_ms"),
        ("review_p99_ms", "reviews", "p99_ms"),
        ("healthz_p50_ms", "health", "p50_ms"),
        ("healthz_p99_ms", "health", "p99_ms"),
        ("healthz_max_ms", "health", "max_ms"),
    ):
        without, with_flood = _median(quiet, part, key), _median(flooded, part, key)
        summary[name] = {
            "without_flood": without,
            "with_flood": with_flood,
            "ratio": round(with_flood / without, 2) if without else None,
        }
    summary["oversized_statuses"] = sorted({s for run in flooded for s in run["oversized_statuses"]})
    summary["oversized_answer_ms_median"] = statistics.median(
        ms for run in flooded for ms in run["oversized_answer_ms"]
    )
    summary["at_limit_statuses"] = sorted({s for run in flooded for s in run["at_limit_statuses"]})
    summary["at_limit_answer_ms_max"] = max(ms for run in flooded for ms in run["at_limit_answer_ms"])
    summary["at_limit_retries"] = sum(run["at_limit_retries"] for run in flooded)

    print(f"{'':16} {'without flood':>14} {'with flood':>11} {'ratio':>6}")
    for name in ("review_p50_ms", "review_p99_ms", "healthz_p50_ms", "healthz_p99_ms", "healthz_max_ms"):
        row = summary[name]
        print(f"{name:16} {row['without_flood']:14.2f} {row['with_flood']:11.2f} {row['ratio'] or 0:6.2f}")
    print(
        f"oversized bodies: statuses {summary['oversized_statuses']}, answered after "
        f"{summary['oversized_answer_ms_median']:.0f} ms (median); at-limit reviews: statuses "
        f"{summary['at_limit_statuses']}, all answered within {summary['at_limit_answer_ms_max']:.0f} ms, "
        f"{summary['at_limit_retries']} retries after 429"
    )
    print("json.loads on the event loop (best of 5):")
    for row in costs:
        ordinary, adversarial = row["ordinary_ms"], row["adversarial_ms"]
        print(f"  {row['kib']:5d} KiB: ordinary {ordinary:7.3f} ms, adversarial {adversarial:7.3f} ms")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
