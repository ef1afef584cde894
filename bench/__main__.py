"""Run a benchmark: `python -m bench NAME [options]`; without NAME, every benchmark in turn.

Each benchmark is a module of this package with `main(argv) -> int`; add yours to BENCHMARKS.
`python -m bench NAME --help` lists a benchmark's options.
"""

from __future__ import annotations

import sys
from importlib import import_module

BENCHMARKS: dict[str, str] = {
    "cli": "gpai check on 1,000 models and 5,000 workloads, beside PyYAML's C loader on the same files",
    "scale": "gpai check on 10,000 models and 50,000 workloads: wall time, evaluations/s, peak memory",
    "admission_latency": "webhook latency: HTTPS AdmissionReview posts on loopback, beside a trivial webhook",
    "admission_e2e": "creating a Deployment through a real API server with and without our webhook",
    "admission_flood": "reviews and /healthz under a flood of huge bodies, beside a run without",
    "native": "creating a Deployment with no admission, and with the native policies (20 and 200 models)",
    "operator_convergence": "1,000 models and 5,000 workloads created at once: time until all is right",
    "soak": "20 minutes of steady churn: the operator's RSS and open asyncio tasks over time, their slopes",
    "peer": "Deployment creations with no admission, our webhook in the running operator, Kyverno, native",
}


def usage() -> str:
    width = max(map(len, BENCHMARKS))
    lines = [f"  {name.ljust(width)}  {text}" for name, text in BENCHMARKS.items()]
    return "usage: python -m bench [NAME [options]]\n\nbenchmarks:\n" + "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    if argv and argv[0] not in BENCHMARKS:
        print(f"unknown benchmark {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    names = [argv[0]] if argv else list(BENCHMARKS)
    worst = 0
    for name in names:
        if not argv:
            print(f"== {name}: {BENCHMARKS[name]}", flush=True)
        worst = max(worst, import_module(f"bench.{name}").main(argv[1:]))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
