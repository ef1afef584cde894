"""`gpai check` beside PyYAML's C loader, on the same generated corpus, in one run.

    python -m bench cli [--models 1000] [--workloads 5000] [--repeats 5] [--corpus DIR]

The corpus (bench/corpus.py: about 10,000 objects, models with their documentation, copyright
policies and risk evaluations, and workloads with full pod templates) is written to a temporary
folder. Then, alternating run by run so that any change in machine load hits both alike:
- baseline: a Python process that walks the folder and parses every file with
  `yaml.load_all(..., Loader=yaml.CSafeLoader)` and nothing else; its parse time is also measured
  inside the process;
- `gpai check <corpus> --now 2026-11-28 -o json`, the installed command, as a subprocess: start-up,
  reading, validation, evaluation and the JSON output all count; with the default parallelism
  and with GPAI_CHECK_JOBS=1 (a single process).

Reported: medians (and minimums) of wall time, and the ratios gpai check / baseline; the target is
at most 2x the C loader's parse time. Results also go to bench/out/cli.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.corpus import write_corpus
from bench.measure import GPAI, NOW, machine, print_table, run, summary, write_results

BASELINE = """
import os, sys, time
import yaml
start = time.perf_counter()
documents = 0
for root, folders, files in os.walk(sys.argv[1]):
    folders.sort()
    for name in sorted(files):
        if name.endswith((".yaml", ".yml", ".json")):
            with open(os.path.join(root, name), "rb") as stream:
                documents += sum(1 for _ in yaml.load_all(stream, Loader=yaml.CSafeLoader))
sys.stderr.write(f"PARSE {time.perf_counter() - start} {documents}\\n")
"""


def _baseline(corpus: Path) -> tuple[float, float]:
    """(wall seconds of the whole process, seconds spent parsing inside it)."""
    import subprocess
    import time

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", BASELINE, str(corpus)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    parse = next(float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PARSE "))
    return wall, parse


def measure(corpus: Path, repeats: int) -> dict[str, Any]:
    command = [str(GPAI), "check", str(corpus), "--now", NOW, "-o", "json"]
    walls: dict[str, list[float]] = {
        "baseline_process": [],
        "baseline_parse": [],
        "gpai": [],
        "gpai_1": [],
        "gpai_cpu": [],
        "gpai_1_cpu": [],
    }
    run(command)  # warm the page cache and the interpreter's bytecode cache
    for _ in range(repeats):
        wall, parse = _baseline(corpus)
        walls["baseline_process"].append(wall)
        walls["baseline_parse"].append(parse)
        measured = run(command)
        if measured.code != 1:  # the corpus has denied workloads and no input error
            raise RuntimeError(f"gpai check exited {measured.code}, expected 1")
        walls["gpai"].append(measured.seconds)
        walls["gpai_cpu"].append(measured.cpu_seconds)
        single = run(command, env={"GPAI_CHECK_JOBS": "1"})
        walls["gpai_1"].append(single.seconds)
        walls["gpai_1_cpu"].append(single.cpu_seconds)
    figures = {name: summary(values) for name, values in walls.items()}
    parse = figures["baseline_parse"]["median"]
    figures["ratio"] = {
        "gpai_vs_parse": figures["gpai"]["median"] / parse,
        "gpai_1_vs_parse": figures["gpai_1"]["median"] / parse,
        "gpai_vs_baseline_process": figures["gpai"]["median"] / figures["baseline_process"]["median"],
    }
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cli", description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--workloads", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument(
        "--corpus", type=Path, help="use (or create) this corpus folder instead of a temporary one"
    )
    args = parser.parse_args(argv)

    load_before = machine()["load_average"]
    with tempfile.TemporaryDirectory(prefix="gpai-bench-cli-") as temporary:
        folder = args.corpus or Path(temporary) / "corpus"
        info = (
            write_corpus(folder, args.models, args.workloads)
            if not (folder / "cluster.yaml").exists()
            else None
        )
        print(
            f"corpus: {folder}"
            + (f", {info.objects} objects in {info.files} files, {info.bytes / 1e6:.1f} MB" if info else "")
        )
        figures = measure(folder, args.repeats)

    rows = [
        ("PyYAML CSafeLoader, parse only", figures["baseline_parse"], ""),
        ("PyYAML CSafeLoader, whole process", figures["baseline_process"], ""),
        ("gpai check -o json", figures["gpai"], f"{figures['ratio']['gpai_vs_parse']:.2f}x"),
        ("gpai check -o json, one process", figures["gpai_1"], f"{figures['ratio']['gpai_1_vs_parse']:.2f}x"),
    ]
    print_table(
        ("run", "median s", "min s", "vs parse"),
        [(name, f"{f['median']:.3f}", f"{f['min']:.3f}", ratio) for name, f, ratio in rows],
    )
    target = figures["ratio"]["gpai_vs_parse"] <= 2
    print(f"target: gpai check <= 2x the C loader's parse time: {'met' if target else 'NOT met'}")
    results = {
        "corpus": info.as_dict() if info else str(folder),
        "figures": figures,
        "machine": {**machine(), "load_average_before": load_before},
    }
    print(f"results: {write_results('cli', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
