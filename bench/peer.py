"""Admission beside a peer: creating Deployments with no admission, with our webhook (served by the
operator while it watches and annotates), with Kyverno's equivalent ClusterPolicy, and with native
admission (a ValidatingAdmissionPolicy) once the operator ships one. Issue 15's measuring instrument.

    python -m bench peer [--count 300] [--rounds 3] [--warmup 10] [--paths none,gpai,kyverno,native]
                         (also: alone, trivial: reference webhooks in processes of their own)
                         [--kyverno-policy plain|match-conditions] [--[no-]controllers]
                         [--json out.json] [--workdir DIR]

Set up once, on a local control plane (hack/control-plane.sh). The report says whether it runs
kube-controller-manager (`--[no-]controllers` chooses, where the test control plane can): with it,
every Deployment also becomes a ReplicaSet and three Pods, whose creation loads the same two cores
in every phase and makes the figures noisier, as in a real cluster.
Then:
- our CRDs, a stand-in for KServe's InferenceService CRD and Kyverno's CRDs; the example cluster's
  namespaces, CompliancePolicies and GPAIModels (examples/): aurora-2 is compliant, borealis-1 not;
- the operator as the chart runs it: `gpai run` in its own process, as its own ServiceAccount (bound
  to cluster-admin rather than the chart's roles), leader election on a Lease, JSON logs, watching,
  annotating every new workload and serving the webhook on TLS; the ValidatingWebhookConfiguration
  is the chart's (admission/configuration.py), which keeps the operator's own patches away from it;
- Kyverno's admission controller (hack/kyverno.sh builds the version pinned in hack/kyverno/go.mod
  from its Go module, 15 minutes the first time on 2 cores) out of cluster: `--serverIP`, its own
  ServiceAccount, its own TLS, the flags and ConfigMaps its Helm chart uses by default
  (bench/kyverno.py lists them and what differs out of cluster). No Go and nothing cached: the
  benchmark is skipped with a message.

Kyverno's policy (bench/kyverno.cluster_policy) is the gate as Kyverno users write cross-resource
checks: in the namespaces eu-ai-act-enforce selects, the gpai.dev/model label is required and a
validate rule's `context.apiCall` reads the named GPAIModel's Compliant condition and denies unless
it is True; CREATE and UPDATE. Written plainly (the default), Kyverno is also sent the operator's
annotation patches (the report counts them); `--kyverno-policy match-conditions` gives it our
webhook's match conditions instead, so both are sent the same requests, at the price of Kyverno
1.19 compiling those CEL expressions for every request.

One run, phases alternating: `--rounds` rounds, each registering one admission path at a time
(none; ours; Kyverno's ClusterPolicy, for which Kyverno registers its webhooks; native), each round
starting one phase later than the last. A phase starts only once kube-apiserver's /metrics show a
dry-run creation judged by that path and by no other, and once a Deployment of borealis-1 has been
refused by it (admitted with no admission): a gate that lets it through is not timed. Then
`--warmup` untimed and `--count` timed creations of the example Deployment aurora-chat (compliant,
admitted) under new names, one at a time as a client makes them. After each phase its Deployments
are deleted and the operator is let catch up (aurora-2's status counting no workloads), so every
phase starts from the same state; Kyverno's admission reports are removed, as its reports
controller (not run) would consume them. The operator runs throughout.

Reported per path: creations; the create latency median, p90 and p99 and their ratios to no
admission in the same run; the mean webhook call as kube-apiserver measures it; the mean review
inside the webhook by its own metric (ours: gpai_admission_duration_seconds; Kyverno's:
kyverno_admission_review_duration_seconds), so that time spent waiting to be served shows as the
difference; how long after a phase's last creation the operator had annotated them all. Then the
machine (cores, load average before and after: the machine is shared) and the versions
(Kubernetes, Kyverno, gpai-operator with its commit). `--json` writes it all, per-round medians
included; `--workdir` keeps the logs.

Native admission: see NATIVE ADMISSION below for where it is detected and wired in.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.admission_e2e import NAMESPACE, example_deployment, timed_create  # prod-chat: enforced
from bench.admission_latency import EXAMPLES, ServerProcess
from bench.admission_paths import (
    OPERATOR_ACCOUNT,
    OPERATOR_NAMESPACE,
    AdmissionPath,
    create_all,
    gpai_path,
    kyverno_path,
    native_path,
)
from bench.apiserver import (
    AdmissionCounts,
    WebhookCalls,
    admission_counts,
    metrics_text,
    parse_admission_counts,
)
from bench.measure import latency_summary, machine

ROOT = Path(__file__).resolve().parents[1]
ADMITTED, REFUSED = "aurora-chat", "borealis-preview"  # examples/workloads/prod-chat.yaml
COMPLIANT_MODEL, NON_COMPLIANT_MODEL = "aurora-2", "borealis-1"
SWITCH_TIMEOUT = 120.0


class GateError(RuntimeError):
    """An admission path does not do what the comparison assumes; the message says what it did."""


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=dict)
    rounds: list[dict[str, float]] = field(default_factory=list)  # median ms per path, per round
    calls: dict[str, AdmissionCounts] = field(default_factory=dict)  # CREATEs sent during the timed phase
    all_calls: dict[str, AdmissionCounts] = field(default_factory=dict)  # every request sent meanwhile
    reviews: dict[str, WebhookCalls] = field(default_factory=dict)  # by the webhook's own measure
    # per phase: seconds after its last creation until the operator had annotated all of them
    annotation_lag: dict[str, list[float]] = field(default_factory=dict)


# ---- the workload and its creation ------------------------------------------------------------------
def _named(body: dict[str, Any], name: str) -> dict[str, Any]:
    obj = copy.deepcopy(body)
    obj["metadata"]["name"] = name
    return obj


def _api_message(error: Any) -> str:
    try:
        return str(json.loads(error.body)["message"])
    except (TypeError, ValueError, KeyError):
        return f"HTTP {error.status} {error.reason}"


# ---- the phases -------------------------------------------------------------------------------------
def _consulted(api_client: Any, apps: Any, probe: dict[str, Any]) -> set[str]:
    """Who kube-apiserver consulted for a dry-run creation of the compliant Deployment."""
    before = admission_counts(api_client, "CREATE")
    apps.create_namespaced_deployment(NAMESPACE, probe, dry_run="All")
    return (admission_counts(api_client, "CREATE") - before).consulted()


def _wait_until_only(api_client: Any, apps: Any, current: AdmissionPath, paths: list[AdmissionPath]) -> None:
    """Until a creation is judged by `current` and by no other path (none: by no path at all)."""
    probe = _named(example_deployment(ADMITTED), "probe")
    deadline = time.monotonic() + SWITCH_TIMEOUT
    while True:
        consulted = _consulted(api_client, apps, probe)
        judging = {path.name for path in paths if any(path.owns(name) for name in consulted)}
        if judging == ({current.name} if current.name != "none" else set()):
            return
        if time.monotonic() > deadline:
            raise GateError(
                f"{current.label}: after {SWITCH_TIMEOUT:.0f} s kube-apiserver still consults "
                f"{sorted(consulted) or 'nothing'} for a Deployment"
            )
        time.sleep(0.2)


def _check_gate(apps: Any, path: AdmissionPath) -> None:
    """A Deployment of the non-compliant model is refused by every gate and admitted otherwise."""
    from kubernetes.client.exceptions import ApiException

    body = _named(example_deployment(REFUSED), f"refused-{path.name}")
    try:
        apps.create_namespaced_deployment(NAMESPACE, body)
    except ApiException as error:
        if not path.gates:
            raise GateError(
                f"with {path.label} the API server refused {REFUSED}: {_api_message(error)}"
            ) from error
        path.refusal = _api_message(error)
        return
    apps.delete_namespaced_deployment(body["metadata"]["name"], NAMESPACE)
    if path.gates:
        raise GateError(
            f"{path.label} admitted {REFUSED}, whose model is not compliant: timing it would not be honest"
        )


def _annotated_after(apps: Any, started: float) -> float:
    """Seconds from `started` until the operator has annotated every Deployment in the namespace."""
    from gpai_operator.controller.annotations import COMPLIANCE

    deadline = time.monotonic() + SWITCH_TIMEOUT
    while True:
        items = apps.list_namespaced_deployment(NAMESPACE).items
        waiting = [d.metadata.name for d in items if COMPLIANCE not in (d.metadata.annotations or {})]
        if not waiting:
            return time.perf_counter() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"the operator did not annotate {len(waiting)} Deployments, e.g. {waiting[0]}")
        time.sleep(0.1)


def _settle(api_client: Any) -> None:
    """Deletes the phase's Deployments and waits until the operator has seen them go and, with
    kube-controller-manager, until their ReplicaSets and Pods are collected too."""
    from kubernetes.client import AppsV1Api, CoreV1Api, CustomObjectsApi

    apps, core, custom = AppsV1Api(api_client), CoreV1Api(api_client), CustomObjectsApi(api_client)
    apps.delete_collection_namespaced_deployment(NAMESPACE)
    deadline = time.monotonic() + SWITCH_TIMEOUT
    while True:
        model = custom.get_namespaced_custom_object(
            "gpai.dev", "v1alpha1", NAMESPACE, "gpaimodels", COMPLIANT_MODEL
        )
        counted = (model.get("status") or {}).get("workloads")
        children = len(apps.list_namespaced_replica_set(NAMESPACE, limit=1).items) + len(
            core.list_namespaced_pod(NAMESPACE, limit=1).items
        )
        if counted == 0 and not children:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{SWITCH_TIMEOUT:.0f} s after deleting the phase's Deployments, {COMPLIANT_MODEL} still "
                f"counts {counted} workloads, or ReplicaSets or Pods remain in {NAMESPACE}"
            )
        time.sleep(0.2)


def _rotation(round_: int, paths: list[AdmissionPath]) -> list[AdmissionPath]:
    shift = round_ % len(paths)
    return paths[shift:] + paths[:shift]


def measure(api_client: Any, paths: list[AdmissionPath], count: int, rounds: int, warmup: int) -> Results:
    from kubernetes.client import AppsV1Api

    apps = AppsV1Api(api_client)
    body = example_deployment(ADMITTED)
    measured = [path for path in paths if not path.skipped]
    results = Results(
        times={path.name: [] for path in measured}, annotation_lag={path.name: [] for path in measured}
    )
    serial = 0
    for round_ in range(rounds):
        for path in _rotation(round_, measured):
            path.register()
            try:
                _wait_until_only(api_client, apps, path, measured)
                _check_gate(apps, path)
                for i in range(warmup):
                    timed_create(apps, body, f"warm-{round_}-{path.name}-{i}")
                before = metrics_text(api_client)
                reviews_before = path.reviews() if path.reviews else WebhookCalls()
                for _ in range(count):
                    results.times[path.name].append(timed_create(apps, body, f"chat-{serial}"))
                    serial += 1
                last = time.perf_counter()
                after = metrics_text(api_client)
                spent = parse_admission_counts(after, "CREATE") - parse_admission_counts(before, "CREATE")
                every = parse_admission_counts(after) - parse_admission_counts(before)
                results.all_calls[path.name] = results.all_calls.get(path.name, AdmissionCounts()) + every
                if path.reviews:
                    reviewed = path.reviews() - reviews_before
                    results.reviews[path.name] = results.reviews.get(path.name, WebhookCalls()) + reviewed
                results.annotation_lag[path.name].append(_annotated_after(apps, last))
                results.calls[path.name] = results.calls.get(path.name, AdmissionCounts()) + spent
            finally:
                path.unregister()
            path.after_phase()
            _settle(api_client)
        medians = {
            name: latency_summary(times[-count:])["median_ms"] for name, times in results.times.items()
        }
        results.rounds.append(medians)
        shown = ", ".join(f"{name} {ms:.2f} ms" for name, ms in medians.items())
        print(f"round {round_ + 1}/{rounds}: medians {shown}", file=sys.stderr, flush=True)
    _wait_until_only(api_client, apps, paths[0], measured)  # everything unregistered again
    return results


# ---- the cluster ------------------------------------------------------------------------------------
def _install_examples(api_client: Any) -> None:
    """The example cluster's namespaces, CompliancePolicies and GPAIModels with their evidence."""
    from gpai_operator.loader import load

    files = [EXAMPLES / "namespaces.yaml", EXAMPLES / "policies.yaml", EXAMPLES / "models"]
    loaded = load([str(path) for path in files])  # read as the API server reads YAML (1e+25 a number)
    if loaded.errors:
        raise RuntimeError(f"the examples do not load: {loaded.errors[0]}")
    create_all(api_client, [manifest.obj for manifest in loaded.manifests])


def _wait_for_verdicts(api_client: Any, expected: dict[str, str], timeout: float = SWITCH_TIMEOUT) -> None:
    """Until the operator has written each model's Compliant condition as expected (Kyverno reads it)."""
    from kubernetes.client import CustomObjectsApi

    custom = CustomObjectsApi(api_client)
    deadline = time.monotonic() + timeout
    while True:
        seen = {}
        for name in expected:
            model = custom.get_namespaced_custom_object("gpai.dev", "v1alpha1", NAMESPACE, "gpaimodels", name)
            conditions = (model.get("status") or {}).get("conditions") or []
            seen[name] = next((c["status"] for c in conditions if c["type"] == "Compliant"), None)
        if seen == expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the operator did not write the models' Compliant conditions: {seen}")
        time.sleep(0.2)


def _versions(api_client: Any, kyverno_folder: Path | None) -> dict[str, str]:
    from gpai_operator import __version__
    from gpai_operator.testing.rest import request_json

    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return {
        "kubernetes": request_json(api_client, "GET", "/version")["gitVersion"],
        # hack/kyverno.sh keys its cache by the version pinned in hack/kyverno/go.mod
        "kyverno": kyverno_folder.name if kyverno_folder else "not run",
        "gpai_operator": f"{__version__} ({commit}{dirty})",
        "python": sys.version.split()[0],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return "unknown CPU"


# ---- the report -------------------------------------------------------------------------------------
def report(paths: list[AdmissionPath], results: Results, context: dict[str, Any]) -> dict[str, Any]:
    from bench.measure import print_table

    summaries: dict[str, Any] = {}
    for path in paths:
        if path.skipped:
            summaries[path.name] = {"skipped": path.skipped}
            continue
        figures: dict[str, Any] = latency_summary(results.times[path.name])
        calls = results.calls[path.name].webhook_calls(path.webhook_names(results.calls[path.name]))
        every = results.all_calls[path.name].webhook_calls(path.webhook_names(results.all_calls[path.name]))
        figures["webhook_calls_create"] = calls.calls
        figures["webhook_calls_other"] = every.calls - calls.calls
        figures["webhook_call_mean_ms"] = 1000 * calls.mean_seconds if calls.calls else None
        reviewed = results.reviews.get(path.name)
        figures["review_mean_ms"] = 1000 * reviewed.mean_seconds if reviewed and reviewed.calls else None
        figures["refusal"] = path.refusal
        figures["annotations_complete_after_s"] = max(results.annotation_lag[path.name])
        summaries[path.name] = figures
    base = summaries["none"]
    for figures in summaries.values():
        if "median_ms" in figures:
            for key in ("median_ms", "p90_ms", "p99_ms"):
                figures[f"{key.removesuffix('_ms')}_ratio"] = figures[key] / base[key]

    machine_ = context["machine"]
    print(
        f"machine: {machine_['cpus']} cores ({_cpu_model()}), load average "
        f"{machine_['load_before'][0]:.2f} before, {machine_['load_after'][0]:.2f} after "
        f"(1 min; other work shares the machine)"
    )
    versions = context["versions"]
    print(
        f"versions: Kubernetes {versions['kubernetes']} ({context['control_plane']}), Kyverno "
        f"{versions['kyverno']}, gpai-operator {versions['gpai_operator']}, Python {versions['python']}"
    )
    print(f"creations: {context['count']} per phase x {context['rounds']} rounds, one at a time\n")
    rows = []
    for path in paths:
        figures = summaries[path.name]
        if "skipped" in figures:
            rows.append([path.label, "-", "skipped", "", "", "", "", "", ""])
            continue
        call, review = figures["webhook_call_mean_ms"], figures["review_mean_ms"]
        rows.append(
            [
                path.label,
                f"{figures['count']}",
                f"{figures['median_ms']:.2f} ms",
                f"{figures['p90_ms']:.2f} ms",
                f"{figures['p99_ms']:.2f} ms",
                f"{figures['median_ratio']:.2f}x",
                f"{figures['p99_ratio']:.2f}x",
                f"{call:.2f} ms" if call is not None else "-",
                f"{review:.2f} ms" if review is not None else "-",
            ]
        )
    headers = ["admission", "n", "median", "p90", "p99", "median/none", "p99/none", "webhook call", "review"]
    print_table(headers, rows)
    print(
        "(webhook call: the mean as kube-apiserver measures it, "
        "apiserver_admission_webhook_admission_duration_seconds;\n"
        " review: the mean inside the webhook by its own metric, "
        "gpai_admission_duration_seconds or kyverno_admission_review_duration_seconds)"
    )
    lags = ", ".join(
        f"{path.name} {summaries[path.name]['annotations_complete_after_s']:.2f} s"
        for path in paths
        if not path.skipped
    )
    print(f"the operator had annotated every Deployment of a phase at most this long after its last: {lags}")
    for path in paths:
        if other := summaries[path.name].get("webhook_calls_other"):
            print(
                f"{path.label} was also sent {other:.0f} requests other than CREATE (UPDATEs: the operator's "
                "annotations and, with kube-controller-manager, the deployment controller's)"
            )
    for path in paths:
        if path.skipped:
            print(f"{path.label}: skipped: {path.skipped}")
        elif path.refusal:
            print(f"{path.label} refused {REFUSED}: {' '.join(path.refusal.split())[:300]}")
    return {**context, "paths": summaries, "round_medians_ms": results.rounds}


# ---- main -------------------------------------------------------------------------------------------
PATHS = ("none", "gpai", "kyverno", "native", "alone", "trivial")
# Reference paths, measured only when asked for: what a webhook costs when its process does nothing
# else. `alone`: our reviewer judging the example cluster in a process of its own (no watches, no
# reconciliation); `trivial`: a webhook there that allows everything. Both on the same configuration.
REFERENCES = {"alone": "gpai reviewer alone", "trivial": "trivial webhook alone"}


def _paths(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in PATHS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)} (choose from {', '.join(PATHS)})")
    return ("none", *(name for name in names if name != "none"))  # the baseline is always measured


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench peer",
        description="Deployment creations with no admission, with our webhook in the running operator, "
        "with Kyverno's equivalent ClusterPolicy and with native admission, in alternating phases.",
    )
    parser.add_argument("--count", type=int, default=300, help="timed creations per phase (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every phase (default 3)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed creations per phase (default 10)")
    parser.add_argument(
        "--paths",
        type=_paths,
        default=PATHS,
        metavar="NAME,...",
        help=f"admission paths to compare (default: {','.join(PATHS)}; none is always measured)",
    )
    parser.add_argument(
        "--kyverno-policy",
        choices=("plain", "match-conditions"),
        default="plain",
        help="the ClusterPolicy as Kyverno users commonly write it (default), or with our webhook's "
        "match conditions so that Kyverno is sent exactly the requests our webhook is sent",
    )
    parser.add_argument(
        "--native-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a chart value for rendering the native admission templates (repeatable)",
    )
    parser.add_argument(
        "--controllers",
        action=argparse.BooleanOptionalAction,
        help="run kube-controller-manager, or not (default: as the test control plane does)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep each run's logs (operator, Kyverno, control plane) in a new folder here",
    )
    args = parser.parse_args(argv)

    from bench import kyverno

    kyverno_folder = None
    if "kyverno" in args.paths:
        try:
            kyverno_folder = kyverno.provide()
        except kyverno.KyvernoUnavailable as error:
            print(f"peer: skipped: {error}")
            return 0
    results = run(kyverno_folder, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


def run(kyverno_folder: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with contextlib.ExitStack() as folders:
        if args.workdir:  # a new folder per run: etcd must start empty
            args.workdir.mkdir(parents=True, exist_ok=True)
            workdir = Path(tempfile.mkdtemp(prefix="peer-", dir=args.workdir)).resolve()
            print(f"logs in {workdir}", file=sys.stderr)
        else:
            workdir = Path(folders.enter_context(tempfile.TemporaryDirectory(prefix="gpai-bench-peer-")))
        return _run_in(workdir, kyverno_folder, args, load_before)


def _run_in(
    workdir: Path, kyverno_folder: Path | None, args: argparse.Namespace, load_before: tuple[float, ...]
) -> dict[str, Any]:
    from gpai_operator.testing.controlplane import ControlPlane
    from gpai_operator.testing.processes import tail

    options: dict[str, Any] = {"workdir": workdir / "control-plane" if args.workdir else None}
    if args.controllers is not None:
        if "controllers" not in inspect.signature(ControlPlane).parameters:
            raise SystemExit(
                "--controllers: this checkout's test control plane never runs kube-controller-manager"
            )
        options["controllers"] = args.controllers
    with (
        ControlPlane(**options) as cluster,
        cluster.api_client() as api_client,
        contextlib.ExitStack() as stack,
    ):
        control_plane = (
            "kube-apiserver, etcd and kube-controller-manager"
            if getattr(cluster, "runs_controllers", False)
            else "kube-apiserver and etcd; no kube-controller-manager, so a Deployment makes no ReplicaSet"
        )
        print(f"control plane: {control_plane}", file=sys.stderr, flush=True)
        try:
            paths = _set_up(api_client, cluster.kubeconfig, workdir, stack, kyverno_folder, args)
            results = measure(api_client, paths, args.count, args.rounds, args.warmup)
        except BaseException:
            for log in ("operator.log", "kyverno.log"):
                if (workdir / log).exists():
                    print(f"--- {log} (last 30 lines)\n{tail(workdir / log, 30)}", file=sys.stderr)
            raise
        context = {
            "count": args.count,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "kyverno_policy": args.kyverno_policy,
            "control_plane": control_plane,
            "versions": _versions(api_client, kyverno_folder),
            "machine": {**machine(), "load_before": load_before, "load_after": os.getloadavg()},
        }
        return report(paths, results, context)


def _set_up(
    api_client: Any,
    admin_kubeconfig: Path,
    workdir: Path,
    stack: contextlib.ExitStack,
    kyverno_folder: Path | None,
    args: argparse.Namespace,
) -> list[AdmissionPath]:
    """CRDs, the example cluster, the operator and Kyverno running: the admission paths to compare."""
    from bench import kyverno
    from bench.service_accounts import service_account_kubeconfig
    from gpai_operator.admission.testing import WebhookCertificates, install_kserve_crd
    from gpai_operator.testing.crds import install_crds
    from gpai_operator.testing.operator_process import OperatorProcess

    install_crds(api_client, sorted((ROOT / "crds").glob("*.yaml")))
    install_kserve_crd(api_client)
    _install_examples(api_client)
    certs = WebhookCertificates.create(workdir / "webhook")
    operator = OperatorProcess(
        service_account_kubeconfig(
            api_client,
            admin_kubeconfig,
            OPERATOR_NAMESPACE,
            OPERATOR_ACCOUNT,
            workdir / "operator.kubeconfig",
        ),
        workdir / "operator.log",
        certs=certs,
        extra_args=(  # as the chart runs it; in mode both or native it writes the verdicts too
            "--leader-elect",
            f"--leader-election-namespace={OPERATOR_NAMESPACE}",
            "--log-format=json",
            *(("--admission-verdicts",) if "native" in args.paths else ()),
        ),
    )
    stack.callback(operator.stop)
    print(f"operator ready in {operator.wait_ready():.1f} s", file=sys.stderr, flush=True)
    _wait_for_verdicts(api_client, {COMPLIANT_MODEL: "True", NON_COMPLIANT_MODEL: "False"})
    assert operator.webhook_url is not None
    paths = [AdmissionPath("none", "no admission", gates=False)]
    if "gpai" in args.paths:
        paths.append(gpai_path(api_client, operator.webhook_url, certs.ca_pem, operator.metrics))
    if kyverno_folder is not None:
        install_crds(api_client, sorted((kyverno_folder / "crds").glob("*.yaml")))
        account = service_account_kubeconfig(  # creates the namespace too
            api_client,
            admin_kubeconfig,
            kyverno.NAMESPACE,
            kyverno.SERVICE_ACCOUNT,
            workdir / "kyverno.kubeconfig",
        )
        create_all(api_client, kyverno.config_maps())
        process = kyverno.KyvernoProcess(kyverno_folder, account, workdir)
        stack.callback(process.stop)
        print(f"Kyverno ready in {process.wait_ready():.1f} s", file=sys.stderr, flush=True)
        match_conditions = args.kyverno_policy == "match-conditions"
        paths.append(kyverno_path(api_client, process.metrics, match_conditions=match_conditions))
    if "native" in args.paths:
        paths.append(native_path(api_client, args.native_set))
    for reference, label in REFERENCES.items():
        if reference in args.paths:
            mode = "gpai" if reference == "alone" else "baseline"
            server = ServerProcess(mode, certs.cert_file.parent, cpu=None)
            stack.callback(server.stop)
            paths.append(
                gpai_path(
                    api_client,
                    server.url,
                    certs.ca_pem,
                    None,
                    name=reference,
                    label=label,
                    gates=reference != "trivial",
                )
            )
    return paths


if __name__ == "__main__":
    sys.exit(main())
