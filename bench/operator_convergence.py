"""Operator convergence: many models and workloads created at once, time until everything is right.

    python -m bench operator_convergence [--models 1000] [--workloads 5000] [--controllers] [--json out.json]

Starts a local control plane (etcd + kube-apiserver, hack/control-plane.sh) with our CRDs and a
minimal KServe InferenceService CRD, and `gpai run` in its own process (no webhook).
Generates the benchmark corpus (bench/corpus.py: models with their documentation, copyright
policies and risk evaluations, two CompliancePolicies, labelled and unlabelled workloads of every
kind, Services), creates all of it at once through the API (many requests in flight), and watches
(from before the first creation) until every GPAIModel's status and every workload's `gpai.dev/*`
annotations say what the engine, run offline on the same manifests, says they should
(gpai_operator.testing.oracle's expectations): convergence is the moment of the watch event that
made the last object right. Once converged, a fresh listing must agree, and the oracle compares
every field it knows. Then it lets the
operator rest and reads its resident memory.

No kube-controller-manager by default: the benchmark measures the operator against the workloads
the corpus creates. `--controllers` runs it, and then every Deployment, StatefulSet, Job and CronJob
also gets its ReplicaSet, Pods or Jobs, which the operator watches too (controlled objects are
never gated or annotated, so what "right" means does not change; the load does).

Reported: objects created and how long creating them took; convergence time from the first
creation and after the last one; the operator's writes; its RSS before the objects, at rest with
them, and per object; kube-apiserver's and etcd's RSS for scale. Then a restart with everything in
place: first, with the operator stopped, how long any client takes to list (and decode) what the
operator lists at start-up (`restart_listing_floor`), then the new operator's time to ready and to a
first full pass, which must write nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_SCOPED = ("Namespace", "CompliancePolicy")


def _manifests(folder: Path) -> list[dict[str, Any]]:
    from gpai_operator.loader import load

    loaded = load([str(folder)])
    if loaded.errors:
        raise RuntimeError(f"the corpus does not load: {loaded.errors[0]}")
    objs = [m.obj for m in loaded.manifests]
    for obj in objs:
        if obj["kind"] == "Service":  # headless: the test control plane has a /24 of service IPs
            obj["spec"]["clusterIP"] = "None"
    return objs


def _expected(objs: list[dict[str, Any]], now: dt.datetime) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """What the operator should write (the oracle's expectations, gpai_operator.testing.oracle),
    reduced to what `_wrong` reads back: per model (Compliant, workloads), per workload (compliance,
    unmet)."""
    from gpai_operator.testing.oracle import COMPLIANCE, COMPLIANT_STATUS, UNMET, expected

    wanted = expected(objs, now)
    models = {key: (f[COMPLIANT_STATUS], f["status.workloads"]) for key, f in wanted.models.items()}
    workloads = {key: (marks[COMPLIANCE], marks[UNMET]) for key, marks in wanted.workloads.items()}
    return models, workloads


async def _create_all(client: Any, objs: list[dict[str, Any]], concurrency: int) -> int:
    from gpai_operator import objects
    from gpai_operator.controller.kube import ApiError
    from gpai_operator.controller.resources import PLURALS

    paths = {}
    for obj in objs:
        api_version, kind, namespace, _ = objects.identity(obj)
        root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        scope = f"/namespaces/{namespace}" if namespace else ""
        paths[id(obj)] = f"{root}{scope}/{PLURALS.get(kind, kind.lower() + 's')}"
    limit = asyncio.Semaphore(concurrency)
    failures: list[str] = []

    async def create(obj: dict[str, Any]) -> None:
        async with limit:
            try:
                await client.create(paths[id(obj)], obj)
            except ApiError as error:
                failures.append(str(error))

    await asyncio.gather(*(create(obj) for obj in objs))
    if failures:
        raise RuntimeError(f"{len(failures)} creations failed, e.g. {failures[0]}")
    return len(objs)


WORKLOAD_PATHS = {
    "Deployment": "/apis/apps/v1/deployments",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "Job": "/apis/batch/v1/jobs",
    "CronJob": "/apis/batch/v1/cronjobs",
    "Pod": "/api/v1/pods",
    "InferenceService": "/apis/serving.kserve.io/v1beta1/inferenceservices",
}
MODELS_PATH = "/apis/gpai.dev/v1alpha1/gpaimodels"


def _model_seen(item: dict[str, Any]) -> tuple[Any, ...]:
    status = item.get("status") or {}
    conditions = status.get("conditions", [])
    condition: dict[str, Any] = next((c for c in conditions if c["type"] == "Compliant"), {})
    current = status.get("observedGeneration") == item["metadata"].get("generation")
    return (condition.get("status"), status.get("workloads")) if current else ("stale",)


def _workload_seen(item: dict[str, Any]) -> tuple[Any, ...]:
    annotations = item["metadata"].get("annotations") or {}
    return (annotations.get("gpai.dev/compliance"), annotations.get("gpai.dev/unmet"))


WATCH_LIMIT = 6 * 3600.0  # seconds: the API server ends a watch long before (30-60 min)


class Tracker:
    """What every watched object says now, and which do not yet say what they should: fed by watches
    opened before the first creation, so the moment the last one becomes right is known to the event
    (no polling, which would both load the machine and round the figure up to its period)."""

    def __init__(self, expected_models: dict[Any, Any], expected_workloads: dict[Any, Any]) -> None:
        self.expected = {("GPAIModel", *k): v for k, v in expected_models.items()}
        self.expected.update(expected_workloads)
        self.wrong = set(self.expected)
        self.events = 0
        self.converged = asyncio.Event()
        self.converged_at = 0.0

    def saw(self, kind: str, event: dict[str, Any]) -> None:
        item = event["object"]
        metadata = item.get("metadata") or {}
        key = (kind, metadata.get("namespace"), metadata.get("name"))
        if key not in self.expected:
            return
        self.events += 1
        seen = None
        if event["type"] != "DELETED":
            seen = _model_seen(item) if kind == "GPAIModel" else _workload_seen(item)
        if seen == self.expected[key]:
            self.wrong.discard(key)
            if not self.wrong and not self.converged.is_set():
                self.converged_at = time.monotonic()
                self.converged.set()
        else:
            self.wrong.add(key)
            self.converged.clear()


async def _watch(credentials: Any, path: str, version: str, kind: str, tracker: Tracker) -> None:
    """Watch `path` from `version`, its events into `tracker`, until cancelled; a stream the server
    ends is opened again from the last version seen."""
    from gpai_operator.controller.kube import KubeClient

    async with KubeClient(credentials, concurrency=0) as client:  # its own connection, not a creator's
        while True:
            params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true"}
            events = client.watch(path, params, timeout=WATCH_LIMIT)
            async with contextlib.aclosing(events):
                async for event in events:
                    if event["type"] == "ERROR":
                        raise RuntimeError(f"watch {path}: {event['object']}")
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] != "BOOKMARK":
                        tracker.saw(kind, event)


async def _wrong(client: Any, expected_models: dict[Any, Any], expected_workloads: dict[Any, Any]) -> int:
    """How many objects do not yet say what they should, from a fresh listing."""
    wrong = 0
    listing = await client.get(MODELS_PATH)
    for item in listing["items"]:
        model_key = (item["metadata"]["namespace"], item["metadata"]["name"])
        wrong += 0 if _model_seen(item) == expected_models.get(model_key) else 1
    wrong += len(expected_models) - len(listing["items"])
    seen_workloads = 0
    for kind, path in WORKLOAD_PATHS.items():
        for item in (await client.get(path))["items"]:
            key = (kind, item["metadata"]["namespace"], item["metadata"]["name"])
            if key not in expected_workloads:
                continue
            seen_workloads += 1
            wrong += 0 if _workload_seen(item) == expected_workloads[key] else 1
    return wrong + len(expected_workloads) - seen_workloads


def _series(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rpartition(" ")[2])
    return total


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _reconciled(metrics: str) -> float:
    return sum(_series(metrics, "gpai_reconcile_total", result=r) for r in ("changed", "unchanged", "error"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench operator_convergence", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--models", type=int, default=1000, help="GPAIModels (default 1000)")
    parser.add_argument("--workloads", type=int, default=5000, help="workloads (default 5000)")
    parser.add_argument("--concurrency", type=int, default=64, help="creations in flight (default 64)")
    parser.add_argument("--rest", type=float, default=15.0, help="seconds at rest before reading RSS")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument(
        "--controllers", action="store_true", help="also run kube-controller-manager (default: not)"
    )
    parser.add_argument(
        "--operator-log-level", default="warning", help="the operator's --log-level (default warning)"
    )
    parser.add_argument(
        "--operator-arg", action="append", default=[], help="another argument for `gpai run` (repeatable)"
    )
    parser.add_argument("--log-dir", type=Path, help="keep the operator's logs here (default: discarded)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    from bench.corpus import write_corpus
    from gpai_operator.admission.testing import install_kserve_crd
    from gpai_operator.controller.kube import load_credentials
    from gpai_operator.testing.controlplane import ControlPlane
    from gpai_operator.testing.crds import install_crds
    from gpai_operator.testing.operator_process import OperatorProcess
    from gpai_operator.testing.oracle import differences
    from gpai_operator.testing.processes import rss_bytes

    with (
        tempfile.TemporaryDirectory(prefix="gpai-bench-convergence-") as tmp,
        ControlPlane(controllers=args.controllers) as cluster,
    ):
        folder = Path(tmp)
        logs = args.log_dir or folder
        logs.mkdir(parents=True, exist_ok=True)
        write_corpus(folder / "corpus", args.models, args.workloads)
        objs = _manifests(folder / "corpus")
        with cluster.api_client() as api_client:
            install_crds(api_client, sorted((ROOT / "crds").glob("*.yaml")))
            install_kserve_crd(api_client)
        log_level = (f"--log-level={args.operator_log_level}", *args.operator_arg)
        try:
            operator = OperatorProcess(cluster.kubeconfig, logs / "operator.log", extra_args=log_level)
            ready_s = operator.wait_ready()
            rss_empty = rss_bytes(operator.process.pid)
            now = dt.datetime.now(dt.UTC)
            expected_models, expected_workloads = _expected(objs, now)
            credentials = load_credentials(str(cluster.kubeconfig))
            pids = {**cluster.pids(), "operator": operator.process.pid, "benchmark": os.getpid()}
            results = asyncio.run(_run(credentials, objs, expected_models, expected_workloads, args, pids))
            cpu_used = results["cpu_seconds"]
            with cluster.api_client() as api_client:  # every field the oracle compares, once
                wrong_fields = len(differences(api_client, dt.datetime.now(dt.UTC)))
            cpu_before = _cpu_seconds(operator.process.pid)
            time.sleep(args.rest)
            cpu_rest = (_cpu_seconds(operator.process.pid) - cpu_before) / args.rest
            rss_rest = rss_bytes(operator.process.pid)
            metrics = operator.metrics(timeout=300)
            print(  # before the restart, which takes long at scale
                json.dumps({"converged": results, "rss_mib_at_rest": round(rss_rest / 2**20, 1)}),
                file=sys.stderr,
            )
            control_plane = cluster.rss_bytes()

            # A restart with everything in place: how long until ready, and it must write nothing.
            operator.process.stop()
            listing_floor = asyncio.run(_list_everything(credentials))
            started = time.monotonic()
            operator = OperatorProcess(
                cluster.kubeconfig, logs / "operator-restarted.log", extra_args=log_level
            )
            restart_ready_s = operator.wait_ready()
            objects_to_check = len(expected_models) + sum(1 for v in expected_workloads.values() if v[0])
            # Read from /metrics, whose page grows with the models (40 MB at 10,000) and costs the
            # operator the time to build it: polled every 0.5 s, not faster.
            while _reconciled(operator.metrics(timeout=300)) < objects_to_check:
                time.sleep(0.5)
            restart_pass_s = time.monotonic() - started
            restart_metrics = operator.metrics(timeout=300)
            restart_rss = rss_bytes(operator.process.pid)
        finally:
            operator.process.stop()
    labelled = sum(1 for value in expected_workloads.values() if value[0] is not None)
    report = {
        "controllers": args.controllers,
        "models": len(expected_models),
        "workloads": len(expected_workloads),
        "labelled_workloads": labelled,
        "objects_created": results["created"],
        "operator_ready_seconds": round(ready_s, 2),
        "create_seconds": round(results["create_seconds"], 2),
        "converged_seconds_from_first_create": round(results["converged_seconds"], 2),
        "converged_seconds_after_last_create": round(
            results["converged_seconds"] - results["create_seconds"], 2
        ),
        "objects_per_second_to_convergence": round(results["created"] / results["converged_seconds"], 1),
        "oracle_differences_after_convergence": wrong_fields,
        # CPU seconds each process used from the first creation until convergence was seen, and the
        # share of the machine's cores they add up to: how much room the run left.
        "cpu_seconds_to_convergence": {name: round(used, 1) for name, used in cpu_used.items()},
        "machine_busy_percent_to_convergence": round(
            100 * sum(cpu_used.values()) / (results["converged_seconds"] * (os.cpu_count() or 1)), 1
        ),
        "watch_events_seen": results["watch_events"],
        "reconciles_changed": _series(metrics, "gpai_reconcile_total", result="changed"),
        "reconciles_unchanged": _series(metrics, "gpai_reconcile_total", result="unchanged"),
        "reconcile_errors": _series(metrics, "gpai_reconcile_total", result="error"),
        "operator_rss_mib_empty": round(rss_empty / 2**20, 1),
        "operator_rss_mib_at_rest": round(rss_rest / 2**20, 1),
        "operator_cpu_percent_at_rest": round(100 * cpu_rest, 2),
        "operator_rss_kib_per_object": round((rss_rest - rss_empty) / 1024 / max(results["created"], 1), 2),
        "kube_apiserver_rss_mib": round(control_plane.get("kube-apiserver", 0) / 2**20, 1),
        "etcd_rss_mib": round(control_plane.get("etcd", 0) / 2**20, 1),
        "kube_controller_manager_rss_mib": round(control_plane.get("kube-controller-manager", 0) / 2**20, 1),
        "restart_listing_floor": listing_floor,
        "restart_ready_seconds": round(restart_ready_s, 2),
        "restart_first_pass_seconds": round(restart_pass_s, 2),
        "restart_writes": _series(restart_metrics, "gpai_reconcile_total", result="changed"),
        "restart_rss_mib": round(restart_rss / 2**20, 1),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


async def _run(
    credentials: Any,
    objs: list[dict[str, Any]],
    expected_models: dict[Any, Any],
    expected_workloads: dict[Any, Any],
    args: argparse.Namespace,
    pids: dict[str, int],
) -> dict[str, Any]:
    from gpai_operator.controller.kube import KubeClient

    first = [o for o in objs if o["kind"] in CLUSTER_SCOPED]
    rest = [o for o in objs if o["kind"] not in CLUSTER_SCOPED]
    tracker = Tracker(expected_models, expected_workloads)
    async with KubeClient(credentials, concurrency=args.concurrency, timeout=120) as client:
        watches = []
        for kind, path in {"GPAIModel": MODELS_PATH, **WORKLOAD_PATHS}.items():
            version = (await client.get(path, {"limit": "1"}))["metadata"]["resourceVersion"]
            watches.append(asyncio.create_task(_watch(credentials, path, version, kind, tracker)))
        try:
            cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
            started = time.monotonic()
            created = await _create_all(client, first, args.concurrency)  # namespaces before their objects
            created += await _create_all(client, rest, args.concurrency)
            create_seconds = time.monotonic() - started
            print(f"created {created} objects in {create_seconds:.1f} s", file=sys.stderr)
            while not tracker.converged.is_set():
                for watch in watches:
                    if watch.done():
                        watch.result()  # a watch that failed: its error
                elapsed = time.monotonic() - started
                print(f"{elapsed:6.1f} s: {len(tracker.wrong)} objects not yet right", file=sys.stderr)
                if elapsed > args.timeout:
                    raise TimeoutError(f"{len(tracker.wrong)} objects still wrong after {args.timeout:.0f} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(tracker.converged.wait(), 2.0)
            converged_seconds = tracker.converged_at - started
            cpu_used = {name: _cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        finally:
            for watch in watches:
                watch.cancel()
            await asyncio.gather(*watches, return_exceptions=True)
        wrong = await _wrong(client, expected_models, expected_workloads)
        if wrong:
            raise RuntimeError(f"the watches saw everything right, a listing finds {wrong} objects wrong")
    return {
        "created": created,
        "create_seconds": create_seconds,
        "converged_seconds": converged_seconds,
        "watch_events": tracker.events,
        "cpu_seconds": cpu_used,
    }


async def _list_everything(credentials: Any) -> dict[str, Any]:
    """What any client pays to list what the operator lists at start-up, with the operator stopped:
    the same resources in the same pages of 500, each page decoded from JSON, nothing more. Its
    ready time after a restart less this is what building the state costs."""
    from gpai_operator.controller.kube import KubeClient
    from gpai_operator.controller.listing import collection_path, pages
    from gpai_operator.controller.preflight import served_version
    from gpai_operator.controller.resources import NAMESPACES, OUR_KINDS, workload_watches

    objects = requests = 0
    async with KubeClient(credentials, timeout=120) as client:
        started = time.monotonic()
        for resource in (*OUR_KINDS, NAMESPACES, *workload_watches()):
            if resource.optional:  # as the operator does: the version served, if any
                version = await served_version(client, resource.group, resource.version, resource.plural)
                if not version:
                    continue
                resource = dataclasses.replace(resource, version=version)
            async for page in pages(client, collection_path(resource, None)):
                objects, requests = objects + len(page.get("items") or ()), requests + 1
        seconds = time.monotonic() - started
    return {"objects": objects, "pages": requests, "seconds": round(seconds, 2)}


if __name__ == "__main__":
    sys.exit(main())
