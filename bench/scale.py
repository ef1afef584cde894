"""`gpai check` at scale: 10,000 models with their evidence and 50,000 workloads (~100,000 objects).

    python -m bench scale [--models 10000] [--workloads 50000] [--repeats 3] [--corpus DIR]

The installed command runs as a subprocess on a generated corpus (bench/corpus.py), output
discarded, with the default parallelism and with GPAI_CHECK_JOBS=1: wall time, and peak memory as
the largest single process (the kernel's maximum RSS) and as the sum over the process tree (sampled
every 20 ms). Evaluations per second are the models and workload decisions of the run divided by
its wall time. Then, in this process, the same pipeline phase by phase (read, validate, evaluate,
render) to show where the time goes, with the engine's own rate. Targets: under 10 s, under 1 GiB.
Results also go to bench/out/scale.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.cli import _baseline
from bench.corpus import write_corpus
from bench.measure import GPAI, NOW, machine, print_table, run, summary, write_results

MIB = 1 << 20


def phases(corpus: Path) -> dict[str, Any]:
    """The check pipeline in this process, one phase at a time (GC off, as the command runs)."""
    from gpai_operator.cli.output import write_json
    from gpai_operator.engine import evaluate_all
    from gpai_operator.loader import iter_load
    from gpai_operator.report import CheckReport, _StateBuilder

    gc.disable()
    try:
        times: dict[str, float] = {}
        start = time.perf_counter()
        items = list(iter_load([str(corpus)], jobs=1, lean=True))
        times["read (1 process)"] = time.perf_counter() - start
        start = time.perf_counter()
        builder = _StateBuilder([])
        for item in items:
            builder.put(item)  # type: ignore[arg-type]
        times["validate into state"] = time.perf_counter() - start
        del items
        start = time.perf_counter()
        report = evaluate_all(builder.state, dt.datetime.fromisoformat(NOW).replace(tzinfo=dt.UTC))
        times["evaluate (engine)"] = time.perf_counter() - start
        start = time.perf_counter()
        write_json(CheckReport(report.models, report.workloads, builder.errors), io.StringIO())
        times["render JSON"] = time.perf_counter() - start
        return {
            "seconds": times,
            "models": len(report.models),
            "workloads": len(report.workloads),
            "engine_models_per_second": len(report.models) / times["evaluate (engine)"],
            "engine_decisions_per_second": (len(report.models) + len(report.workloads))
            / times["evaluate (engine)"],
        }
    finally:
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--workloads", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument(
        "--corpus", type=Path, help="use (or create) this corpus folder instead of a temporary one"
    )
    parser.add_argument("--no-phases", action="store_true", help="skip the in-process breakdown")
    parser.add_argument(
        "--baseline", action="store_true", help="also time PyYAML's C loader alone on the corpus (slow)"
    )
    args = parser.parse_args(argv)

    load_before = machine()["load_average"]
    with tempfile.TemporaryDirectory(prefix="gpai-bench-scale-") as temporary:
        folder = args.corpus or Path(temporary) / "corpus"
        info = None
        if not (folder / "cluster.yaml").exists():
            start = time.perf_counter()
            info = write_corpus(folder, args.models, args.workloads)
            print(
                f"corpus: {info.objects} objects in {info.files} files, {info.bytes / 1e6:.0f} MB "
                f"(written in {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
        command = [str(GPAI), "check", str(folder), "--now", NOW, "-o", "json"]
        runs: dict[str, list[Any]] = {"parallel": [], "one process": []}
        for _ in range(args.repeats):
            runs["parallel"].append(run(command, sample_memory=True))
            runs["one process"].append(run(command, env={"GPAI_CHECK_JOBS": "1"}, sample_memory=True))
        breakdown = None if args.no_phases else phases(folder)
        baseline = _baseline(folder)[1] if args.baseline else None

    evaluated = args.models + args.workloads
    figures: dict[str, Any] = {}
    for name, measured in runs.items():
        figures[name] = {
            "seconds": summary([m.seconds for m in measured]),
            "cpu_seconds": summary([m.cpu_seconds for m in measured]),
            "peak_rss_largest_mib": max(m.peak_rss_largest for m in measured) / MIB,
            "peak_rss_tree_mib": max(m.peak_rss_tree for m in measured) / MIB,
            "evaluations_per_second": evaluated / summary([m.seconds for m in measured])["median"],
        }
    print_table(
        (
            "gpai check -o json",
            "median s",
            "min s",
            "cpu s",
            "evaluations/s",
            "peak MiB (largest)",
            "peak MiB (tree)",
        ),
        [
            (
                name,
                f"{f['seconds']['median']:.2f}",
                f"{f['seconds']['min']:.2f}",
                f"{f['cpu_seconds']['median']:.2f}",
                f"{f['evaluations_per_second']:,.0f}",
                f"{f['peak_rss_largest_mib']:.0f}",
                f"{f['peak_rss_tree_mib']:.0f}",
            )
            for name, f in figures.items()
        ],
    )
    if baseline is not None:
        print(f"PyYAML CSafeLoader alone, parse only: {baseline:.2f} s")
    if breakdown:
        print()
        print_table(
            ("phase, in process", "seconds"), [(k, f"{v:.2f}") for k, v in breakdown["seconds"].items()]
        )
        print(
            f"engine: {breakdown['engine_models_per_second']:,.0f} models/s, "
            f"{breakdown['engine_decisions_per_second']:,.0f} models and workload decisions/s"
        )
    best = min(f["seconds"]["median"] for f in figures.values())
    memory = max(f["peak_rss_tree_mib"] for f in figures.values())
    print(
        f"targets: under 10 s: {'met' if best < 10 else 'NOT met'} ({best:.1f} s); "
        f"under 1 GiB: {'met' if memory < 1024 else 'NOT met'} ({memory:.0f} MiB)"
    )
    results = {
        "corpus": info.as_dict() if info else str(folder),
        "figures": figures,
        "phases": breakdown,
        "baseline_parse_seconds": baseline,
        "machine": {**machine(), "load_average_before": load_before},
    }
    print(f"results: {write_results('scale', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
