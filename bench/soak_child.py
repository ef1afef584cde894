"""The soak benchmark's operator: `Operator` in a thread of this process (as `gpai run` runs it),
and this process's main thread writing, every few seconds, one JSON line to a file:
{"time": Unix time, "rss": bytes (from /proc), "tasks": asyncio tasks open in the operator's event
loop, "objects": objects the garbage collector tracks (growing objects are a leak; RSS growing
without them is the allocator), "types": the 40 most numerous of them, by type}. The operator's
task count is not exposed anywhere else.

    python -m bench.soak_child --kubeconfig FILE --samples FILE [--every 5] [--metrics-port N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gpai_operator.app import OperatorThread


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def open_tasks(operator: OperatorThread) -> int:
    """len(asyncio.all_tasks()) in the operator's event loop, asked from its own thread; -1 when the
    loop does not answer within 10 s (worth seeing)."""
    counted = threading.Event()
    tasks: list[int] = []

    def count() -> None:
        tasks.append(len(asyncio.all_tasks()))
        counted.set()

    operator.call(count)
    return tasks[0] if counted.wait(10) else -1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_child")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--metrics-port", type=int, default=0)
    parser.add_argument("--health-port", type=int, default=0)
    args = parser.parse_args(argv)

    from gpai_operator.app import Operator, OperatorThread, Options
    from gpai_operator.runtime import configure

    configure("text", 30)  # warnings and errors only
    options = Options(
        kubeconfig=args.kubeconfig,
        webhook=False,
        bind_address="127.0.0.1",
        metrics_port=args.metrics_port,
        metrics_secure=False,
        health_port=args.health_port,
    )
    operator = OperatorThread(Operator(options))
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stopping.set())
    operator.start(timeout=120)
    with args.samples.open("a") as out:
        while not stopping.wait(0 if out.tell() == 0 else args.every):
            tracked = gc.get_objects()
            sample = {
                "time": time.time(),
                "rss": _rss(os.getpid()),
                "tasks": open_tasks(operator),
                "objects": len(tracked),
                "types": dict(Counter(type(o).__name__ for o in tracked).most_common(40)),
            }
            del tracked
            out.write(json.dumps(sample) + "\n")
            out.flush()
    operator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
