"""Soak: steady churn against the operator for 20 minutes; its memory and open tasks must stay flat.

    python -m bench soak [--minutes 20] [--rate 10] [--models 200] [--workloads 400] [--json out.json]

A local control plane (etcd, kube-apiserver) with our CRDs; the operator in a child process of
this benchmark (bench/soak_child.py: `Operator` in a thread, as `gpai run` runs it), which writes
its RSS and the number of asyncio tasks open in its event loop every 5 s. The churn
(gpai_operator.testing.churn) first creates the population (`--models` models, half documented,
`--workloads` Deployments and Pods in four namespaces), then creates, changes and deletes models,
documentation, copyright policies, Deployments and Pods at `--rate` operations a second for
`--minutes`; at the population caps a creation deletes instead, so the number of objects stays
steady and any growth is the operator's.

Reported: the open tasks at rest (15 s without churn) before and after the churn, which must not
differ by more than 5; the series every 30 s (RSS in MiB, tasks, models and workloads in the cluster); the
least-squares slope of RSS (MiB/min) and tasks (tasks/min) after a warm-up (the first fifth of the
run, at most 2 minutes), with its standard error and a verdict: flat when the slope is within two
standard errors of zero (noise: the task count swings with the writes in flight), or would
grow the quantity by less than 5 % of its mean per hour (RSS) or by less than 5 tasks per hour.
Also the slope of the objects Python's garbage collector tracks: objects growing with RSS are a
leak, RSS growing alone is the allocator. At the end the oracle (gpai_operator.testing.oracle)
checks every status and annotation. The JSON has every sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_EVERY = 5.0
REPORT_EVERY = 30.0
REST = 15.0  # seconds without churn before the open tasks are counted at rest
FLAT_RSS_FRACTION_PER_HOUR = 0.05
FLAT_TASKS_PER_HOUR = 5.0
TASKS_LEFT_AT_REST = 5  # more open tasks after the churn than before it, at rest
NAMESPACES = 4


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of (seconds, value) points per minute, and its standard error."""
    if len(points) < 3:
        return 0.0, 0.0
    xs = [t / 60 for t, _ in points]
    ys = [v for _, v in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return 0.0, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    residuals = sum((y - mean_y - slope * (x - mean_x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, (residuals / (len(points) - 2) / spread) ** 0.5


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    return fit(points)[0]


def flat(slope: float, error: float, hourly_limit: float) -> bool:
    """No growth to speak of: the slope is within two standard errors of zero (noise), or it
    would add less than `hourly_limit` in an hour."""
    return slope <= 2 * error or slope * 60 < hourly_limit


def verdicts(samples: list[dict[str, float]], start: float, warmup: float) -> dict[str, Any]:
    """Slopes and verdicts of the samples taken `warmup` seconds or more after `start` (Unix time)."""
    steady = [s for s in samples if s["time"] - start >= warmup]
    rss = [(s["time"] - start, s["rss"] / 2**20) for s in steady]
    tasks = [(s["time"] - start, float(s["tasks"])) for s in steady]
    objects = [(s["time"] - start, float(s.get("objects", 0))) for s in steady]
    (rss_slope, rss_error), (tasks_slope, tasks_error) = fit(rss), fit(tasks)
    objects_slope, objects_error = fit(objects)
    rss_mean = statistics.fmean(v for _, v in rss) if rss else 0.0
    return {
        "warmup_seconds": warmup,
        "samples_after_warmup": len(steady),
        "rss_mib_mean": round(rss_mean, 1),
        "rss_mib_min": round(min((v for _, v in rss), default=0.0), 1),
        "rss_mib_max": round(max((v for _, v in rss), default=0.0), 1),
        "rss_slope_mib_per_min": round(rss_slope, 3),
        "rss_slope_standard_error": round(rss_error, 3),
        "rss_flat": flat(rss_slope, rss_error, FLAT_RSS_FRACTION_PER_HOUR * rss_mean),
        "tasks_mean": round(statistics.fmean(v for _, v in tasks), 1) if tasks else 0.0,
        "tasks_min": min((int(v) for _, v in tasks), default=0),
        "tasks_max": max((int(v) for _, v in tasks), default=0),
        "tasks_slope_per_min": round(tasks_slope, 3),
        "tasks_slope_standard_error": round(tasks_error, 3),
        "tasks_flat": flat(tasks_slope, tasks_error, FLAT_TASKS_PER_HOUR),
        "gc_objects_mean": round(statistics.fmean(v for _, v in objects)) if objects else 0,
        "gc_objects_slope_per_min": round(objects_slope, 1),
        "gc_objects_slope_standard_error": round(objects_error, 1),
        "gc_types_grown": _grown(steady),
    }


def _grown(steady: list[dict[str, Any]], top: int = 10) -> dict[str, int]:
    """The object types whose count grew most between the first and the last steady samples (the
    median of the first and the last five, as per-object workers come and go)."""
    if len(steady) < 10:
        return {}

    def typical(samples: list[dict[str, Any]]) -> dict[str, float]:
        names = {name for s in samples for name in s.get("types", {})}
        return {n: statistics.median(s.get("types", {}).get(n, 0) for s in samples) for n in names}

    first, last = typical(steady[:5]), typical(steady[-5:])
    growth = {name: round(last[name] - first.get(name, 0)) for name in last}
    return dict(sorted(growth.items(), key=lambda item: -item[1])[:top])


def read_samples(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="churn duration (default 20)")
    parser.add_argument("--rate", type=float, default=10.0, help="operations per second (default 10)")
    parser.add_argument("--models", type=int, default=200, help="model population (default 200)")
    parser.add_argument("--workloads", type=int, default=400, help="workload population (default 400)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    from gpai_operator.testing.churn import Churn
    from gpai_operator.testing.controlplane import ControlPlane, free_ports
    from gpai_operator.testing.crds import install_crds
    from gpai_operator.testing.namespaces import create_namespace
    from gpai_operator.testing.operator_process import http_get
    from gpai_operator.testing.oracle import wait_until_right
    from gpai_operator.testing.processes import ManagedProcess, tail

    seconds = args.minutes * 60
    warmup = min(120.0, seconds / 5)
    with (
        tempfile.TemporaryDirectory(prefix="gpai-bench-soak-") as tmp,
        ControlPlane(controllers=False) as cluster,
    ):
        folder = Path(tmp)
        samples_path = folder / "samples.jsonl"
        api = cluster.api_client()
        install_crds(api, sorted((ROOT / "crds").glob("*.yaml")))
        namespaces = [create_namespace(api, f"soak-{i}") for i in range(NAMESPACES)]
        _, health = free_ports(2)
        child = ManagedProcess(
            "soak-operator",
            [
                sys.executable,
                "-m",
                "bench.soak_child",
                f"--kubeconfig={cluster.kubeconfig}",
                f"--samples={samples_path}",
                f"--every={SAMPLE_EVERY}",
                f"--health-port={health}",
            ],
            folder / "operator.log",
        )
        try:
            while http_get(f"http://127.0.0.1:{health}/readyz")[0] != 200:
                if child.exit_code() is not None:
                    raise RuntimeError(f"the operator exited:\n{tail(folder / 'operator.log')}")
                time.sleep(0.2)
            churn = Churn(api, namespaces, today=dt.datetime.now(dt.UTC).date(), seed=20)
            churn.populate(args.models, documented=0.5, workloads=args.workloads)
            churn.max_models, churn.max_workloads = args.models, args.workloads
            print(
                f"populated {len(churn.models)} models, "
                f"{len(churn.deployments) + len(churn.pods)} workloads; "
                f"churning at {args.rate:g}/s for {args.minutes:g} min",
                file=sys.stderr,
            )
            time.sleep(REST)  # the writes for the population end
            tasks_before = _tasks_now(samples_path)
            series = []
            churn_started = time.time()
            background = churn.in_background(seconds, args.rate, workers=4)
            started = time.monotonic()
            while (elapsed := time.monotonic() - started) < seconds:
                time.sleep(min(REPORT_EVERY, seconds - elapsed))
                last = (read_samples(samples_path) or [{"rss": 0, "tasks": 0}])[-1]
                row = {
                    "minute": round((time.monotonic() - started) / 60, 1),
                    "rss_mib": round(last["rss"] / 2**20, 1),
                    "tasks": last["tasks"],
                    "gc_objects": last.get("objects", 0),
                    "models": len(churn.models),
                    "workloads": len(churn.deployments) + len(churn.pods),
                }
                series.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                if child.exit_code() is not None:
                    raise RuntimeError(f"the operator exited:\n{tail(folder / 'operator.log')}")
            background.join()
            converged = wait_until_right(api, lambda: dt.datetime.now(dt.UTC), 120)
            time.sleep(REST)
            tasks_after = _tasks_now(samples_path)
            operations = sum(n for what, n in churn.counts.items() if "failed" not in what)
            failed = sum(n for what, n in churn.counts.items() if "failed" in what)
        finally:
            child.stop()
        samples = read_samples(samples_path)
        result = {
            "minutes": args.minutes,
            "rate_per_second": args.rate,
            "operations": operations,
            "operations_failed": failed,
            "population": {"models": args.models, "workloads": args.workloads, "namespaces": NAMESPACES},
            "converged_seconds_after_churn": round(converged, 2),
            "tasks_at_rest_before_churn": tasks_before,
            "tasks_at_rest_after_churn": tasks_after,
            "series": series,
            **verdicts(samples, churn_started, warmup),
            "samples": [
                {
                    "second": round(s["time"] - churn_started, 1),
                    "rss": s["rss"],
                    "tasks": s["tasks"],
                    "objects": s.get("objects", 0),
                }
                for s in samples
            ],
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    # Open tasks swing with the writes in flight during churn; what must not grow is the count once
    # the churn has stopped and the writes have ended.
    tasks_kept = tasks_after - tasks_before <= TASKS_LEFT_AT_REST
    return 0 if result["rss_flat"] and (result["tasks_flat"] or tasks_kept) else 1


def _tasks_now(samples_path: Path) -> int:
    time.sleep(SAMPLE_EVERY + 1)  # a sample taken after the wait
    return int((read_samples(samples_path) or [{"tasks": -1}])[-1]["tasks"])


if __name__ == "__main__":
    sys.exit(main())
