"""Shared by the gpai check benchmarks: timing commands, process-tree memory, results on disk."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
GPAI = Path(sys.executable).with_name("gpai")
NOW = "2026-11-28"  # the corpora's evidence is current on this day


@dataclass(frozen=True)
class Measured:
    seconds: float
    code: int
    cpu_seconds: float  # user + system, the process and the children it waited for (its workers)
    peak_rss_largest: int  # bytes: the largest single process (the kernel's ru_maxrss)
    peak_rss_tree: int  # bytes: the process and its children together, sampled (0 if not sampled)


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids += _tree(int(child))
    return pids


def run(command: Sequence[str], env: dict[str, str] | None = None, sample_memory: bool = False) -> Measured:
    """Run a command to completion, output discarded; wall time, exit code and peak memory."""
    import tempfile

    environment = {**os.environ, **(env or {})}
    peak_tree = 0
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=environment)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG if sample_memory else 0)
            if pid:
                break
            peak_tree = max(peak_tree, sum(_rss(p) for p in _tree(process.pid)))
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            errors.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited {code}:\n{errors.read().decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, code, cpu, usage.ru_maxrss * 1024, peak_tree)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest of the sorted values with at least `fraction` of them at or below it."""
    if not ordered:
        raise ValueError("no values")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {fraction} is not in (0, 1]")
    rank = math.ceil(round(fraction * len(ordered), 9))  # round: 0.29 * 100 is 28.999999999999996
    return ordered[max(rank, 1) - 1]


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Count, median, p90, p99 and mean of durations in seconds, the times in milliseconds."""
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "median_ms": 1000 * statistics.median(ordered),
        "p90_ms": 1000 * percentile(ordered, 0.90),
        "p99_ms": 1000 * percentile(ordered, 0.99),
        "mean_ms": 1000 * statistics.fmean(ordered),
    }


def machine() -> dict[str, Any]:
    import yaml

    return {
        "python": platform.python_version(),
        "pyyaml": yaml.__version__,
        "libyaml": bool(yaml.__with_libyaml__),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
