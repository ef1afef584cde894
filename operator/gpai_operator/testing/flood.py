"""A measured flood against the admission webhook, shared by the flood test and its benchmark.

    python -m gpai_operator.testing.flood --url https://127.0.0.1:9443/validate --ca ca.crt \\
        --health http://127.0.0.1:8081/healthz --reviews reviews.ndjson [--no-flood]

It runs in a process of its own, so that its work never competes for the GIL with the webhook it
measures, and prints one JSON object (`Report`). Three things run at once:

- ordinary reviews: `--normal` AdmissionReviews (cycling through the file, one per line) at a fixed
  `--rate`, open loop, over keep-alive HTTPS connections as kube-apiserver sends them; each latency
  counts from the request's scheduled time, so a stalled server shows as latency, not as a lower rate;
- the liveness probe: GET `--health` every 20 ms, one at a time, as long as the reviews run;
- the flood (unless `--no-flood`), shortly after the reviews start, all at once:
  `--oversized` bodies of `--oversized-mib` MiB announced with their Content-Length and sent as fast
  as the connection takes them (each should get 413 before most of it is sent), and `--at-limit`
  AdmissionReviews just under the webhook's limit (each judged, or told 429 and retried after its
  Retry-After, as kube-apiserver's client does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gpai_operator.admission.intake import MAX_BODY

PROBE_INTERVAL = 0.02
FLOOD_DELAY = 0.3  # seconds after the first ordinary review
MiB = 1024 * 1024


@dataclass
class Latencies:
    count: int = 0
    errors: list[str] = field(default_factory=list)  # what went wrong, one entry per failure
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    slowest: list[tuple[float, float]] = field(default_factory=list)  # (sent at s, took ms), worst 5

    @classmethod
    def of(cls, timed: Sequence[tuple[float, float]], errors: list[str]) -> Latencies:
        """From (sent at, seconds taken) pairs; `sent at` counts from the start of the run."""
        ordered = sorted(seconds for _, seconds in timed)
        if not ordered:
            return cls(0, errors)
        worst = sorted(timed, key=lambda pair: -pair[1])[:5]
        return cls(
            len(ordered),
            errors,
            round(1000 * ordered[len(ordered) // 2], 2),
            round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
            round(1000 * ordered[-1], 2),
            [(round(at, 3), round(1000 * seconds, 1)) for at, seconds in worst],
        )


@dataclass
class Report:
    flood: bool
    reviews: Latencies  # ordinary reviews, answered 200
    health: Latencies  # the liveness probe, answered 200
    oversized_statuses: list[int]  # one per oversized body: the status it got (0: none)
    oversized_answer_ms: list[float]  # time until that status arrived
    at_limit_statuses: list[int]  # the final status of each body just under the limit
    at_limit_retries: int  # 429s answered, then retried after Retry-After
    at_limit_answer_ms: list[float]
    seconds: float


def review_of(
    workload: dict[str, Any],
    operation: str = "CREATE",
    uid: str = "00000000-0000-4000-8000-000000000000",
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An AdmissionReview of `workload` (and, for an UPDATE, its `old` version) as kube-apiserver
    sends it, on behalf of the user alice."""
    group, _, version = workload["apiVersion"].rpartition("/")
    resource = {"group": group, "version": version, "resource": f"{workload['kind'].lower()}s"}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": workload["kind"]},
            "resource": resource,
            "requestKind": {"group": group, "version": version, "kind": workload["kind"]},
            "requestResource": resource,
            "name": workload["metadata"]["name"],
            "namespace": workload["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": workload,
            "oldObject": old,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": f"{operation.capitalize()}Options"},
        },
    }


def pod_spec(workload: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a Pod, a workload with a pod template or a CronJob; None for other kinds."""
    spec = workload.get("spec") or {}
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"].get("spec") or {}
    if "template" in spec:
        spec = spec["template"].get("spec") or {}
    return spec if spec.get("containers") else None


def at_limit(reviews: Sequence[bytes], size: int = MAX_BODY - 64 * 1024) -> bytes:
    """The first of `reviews` whose object has containers, grown to about `size` bytes the way large
    workloads grow: thousands of environment variables and a long last-applied-configuration."""
    grown = next(r for r in map(json.loads, reviews) if pod_spec(r["request"]["object"]) is not None)
    workload = grown["request"]["object"]
    spec = pod_spec(workload)
    assert spec is not None
    env = spec["containers"][0].setdefault("env", [])
    env.extend({"name": f"SETTING_{i}", "value": "v" * 200} for i in range(size // 2 // 240))
    current = len(json.dumps(grown))
    annotations = workload["metadata"].setdefault("annotations", {})
    annotations["kubectl.kubernetes.io/last-applied-configuration"] = "x" * max(0, size - current - 64)
    return json.dumps(grown).encode()


async def _ordinary(
    session: aiohttp.ClientSession, url: str, bodies: Sequence[bytes], count: int, rate: float
) -> Latencies:
    latencies: list[tuple[float, float]] = []
    errors: list[str] = []
    start = time.perf_counter()

    async def one(body: bytes, scheduled: float) -> None:
        try:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
                await answer.read()
                if answer.status != 200:
                    errors.append(f"HTTP {answer.status}")
                    return
        except (aiohttp.ClientError, OSError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            return
        latencies.append((scheduled - start, time.perf_counter() - scheduled))

    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(bodies[i % len(bodies)], scheduled)))
    await asyncio.gather(*tasks)
    return Latencies.of(latencies, errors)


async def _warm_up(
    session: aiohttp.ClientSession, url: str, body: bytes, probing: aiohttp.ClientSession, health: str
) -> None:
    """Open the connections first, as kube-apiserver keeps them open: TLS handshakes are not what
    is measured."""

    async def post() -> None:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
            await answer.read()

    await asyncio.gather(*(post() for _ in range(8)))
    async with probing.get(health) as answer:
        await answer.read()


async def _probe(session: aiohttp.ClientSession, url: str, done: asyncio.Event) -> Latencies:
    latencies: list[tuple[float, float]] = []
    errors: list[str] = []
    begin = time.perf_counter()
    while not done.is_set():
        started = time.perf_counter()
        try:
            async with session.get(url) as answer:
                await answer.read()
                if answer.status == 200:
                    latencies.append((started - begin, time.perf_counter() - started))
                else:
                    errors.append(f"HTTP {answer.status}")
        except (aiohttp.ClientError, OSError) as error:
            errors.append(f"{type(error).__name__}: {error}")
        await asyncio.sleep(PROBE_INTERVAL)
    return Latencies.of(latencies, errors)


async def _oversized(url: str, context: ssl.SSLContext, mib: int) -> tuple[int, float]:
    """Announce `mib` MiB, send as fast as the server takes it; (status received, seconds until then)."""
    parts = urllib.parse.urlsplit(url)
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, ssl=context)
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {mib * MiB}\r\n\r\n"
    )

    async def send() -> None:
        try:
            writer.write(head.encode())
            piece = b" " * (256 * 1024)
            for _ in range(mib * 4):
                writer.write(piece)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass  # the server refused and dropped the connection: expected

    sending = asyncio.create_task(send())
    try:
        line = await asyncio.wait_for(reader.readline(), 30)
        status = int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else 0
    except (OSError, ssl.SSLError, TimeoutError, ValueError, IndexError):
        status = 0
    answered = time.perf_counter() - started
    sending.cancel()
    writer.close()
    return status, answered


async def _near_limit(
    session: aiohttp.ClientSession, url: str, body: bytes, deadline: float
) -> tuple[int, int, float]:
    """POST a large review, retrying 429s after Retry-After until `deadline`: (status, 429s, seconds)."""
    started, retries = time.perf_counter(), 0
    while True:
        try:
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
                await answer.read()
                status, wait = answer.status, float(answer.headers.get("Retry-After", "1"))
        except (aiohttp.ClientError, OSError):
            return 0, retries, time.perf_counter() - started
        if status != 429 or time.perf_counter() + wait > deadline:
            return status, retries, time.perf_counter() - started
        retries += 1
        await asyncio.sleep(wait)


async def flood(args: argparse.Namespace) -> dict[str, Any]:
    """The flood itself, in a process of its own: the bodies are built first, then sent on "go"."""
    bodies = [line for line in args.reviews.read_bytes().splitlines() if line.strip()]
    large = at_limit(bodies)
    context = ssl.create_default_context(cafile=str(args.ca))
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=0)) as session:
        deadline = time.perf_counter() + 10  # the longest webhook timeout a cluster would give
        oversized = [_oversized(args.url, context, args.oversized_mib) for _ in range(args.oversized)]
        near = [_near_limit(session, args.url, large, deadline) for _ in range(args.at_limit)]
        results = await asyncio.gather(*oversized, *near)
    return {"oversized": results[: args.oversized], "near": results[args.oversized :]}


async def run(args: argparse.Namespace) -> Report:
    """Ordinary reviews and the probe, measured here; the flood from a child process (its TLS and
    body building must not stall the measuring event loop)."""
    bodies = [line for line in args.reviews.read_bytes().splitlines() if line.strip()]
    context = ssl.create_default_context(cafile=str(args.ca))
    flooding: asyncio.subprocess.Process | None = None
    if args.flood:
        flooding = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gpai_operator.testing.flood",
            *(sys.argv[1:] if args.argv is None else args.argv),
            "--role=flood",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert flooding.stdout is not None
        if (await flooding.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the flood process did not start")
    done = asyncio.Event()
    flood_results: dict[str, Any] = {"oversized": [], "near": []}
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=32)) as session,
        aiohttp.ClientSession() as probing,
    ):
        await _warm_up(session, args.url, bodies[0], probing, args.health)
        started = time.perf_counter()
        probe = asyncio.create_task(_probe(probing, args.health, done))
        ordinary = asyncio.create_task(_ordinary(session, args.url, bodies, args.normal, args.rate))
        if flooding is not None:
            assert flooding.stdin is not None
            await asyncio.sleep(FLOOD_DELAY)
            flooding.stdin.write(b"go\n")
            await flooding.stdin.drain()
            out, _ = await flooding.communicate()
            flood_results = json.loads(out)
        reviews = await ordinary
        done.set()
        health = await probe
    oversized, near = flood_results["oversized"], flood_results["near"]
    return Report(
        flood=args.flood,
        reviews=reviews,
        health=health,
        oversized_statuses=[status for status, _ in oversized],
        oversized_answer_ms=[round(1000 * seconds, 1) for _, seconds in oversized],
        at_limit_statuses=[status for status, _, _ in near],
        at_limit_retries=sum(retries for _, retries, _ in near),
        at_limit_answer_ms=[round(1000 * seconds, 1) for _, _, seconds in near],
        seconds=round(time.perf_counter() - started, 2),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpai_operator.testing.flood", description=__doc__)
    parser.add_argument("--url", required=True, help="the webhook, https://host:port/validate")
    parser.add_argument("--ca", type=Path, required=True, help="CA bundle of its serving certificate")
    parser.add_argument("--health", required=True, help="the liveness probe, http://host:port/healthz")
    parser.add_argument("--reviews", type=Path, required=True, help="AdmissionReviews, one JSON per line")
    parser.add_argument("--normal", type=int, default=200, help="ordinary reviews (default 200)")
    parser.add_argument("--rate", type=float, default=100.0, help="ordinary reviews per second (default 100)")
    parser.add_argument("--flood", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--oversized", type=int, default=8, help="bodies over the limit (default 8)")
    parser.add_argument("--oversized-mib", type=int, default=16, help="their size in MiB (default 16)")
    parser.add_argument("--at-limit", type=int, default=8, help="reviews just under the limit (default 8)")
    parser.add_argument("--role", choices=("measure", "flood"), default="measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    if args.role == "flood":
        json.dump(asyncio.run(flood(args)), sys.stdout)
    else:
        json.dump(asdict(asyncio.run(run(args))), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
