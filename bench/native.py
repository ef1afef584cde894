"""The native gate's cost: creating a Deployment through a real API server with no admission at all,
and with the native ValidatingAdmissionPolicies deciding from a namespace's AdmissionVerdicts that
hold 20 models, or 200.

    python -m bench native [--count 100] [--rounds 3] [--mode native|both|floor] [--etcd-fsync off|on]
                           [--json out.json]

Starts a local control plane (etcd + kube-apiserver, hack/control-plane.sh) with the CRDs, writes the
AdmissionVerdicts of two namespaces (admission_verdicts.py on a state of N models: the example's
compliant aurora-2 with its evidence and N-1 models lacking all of theirs, under a Deny policy), and
creates the example Deployment `aurora-chat` (compliant: admitted after every policy has judged it)
again and again under new names, one at a time, as a client would. Each round has two blocks, in
alternating order: with no policy registered at all (`none`), and with the policies of
admission/native.py registered as the chart renders them for `--mode` (native: the deny and the warn
policy; both: the deny policy alone, the webhook beside it not measured here; floor: instead of ours,
one policy with the same match and a validation as trivial as can be, no parameter, no condition: what
any ValidatingAdmissionPolicy costs), creating in turn in a
namespace they exclude (`excluded`, as kube-system is), in the namespace of 20 models and in that of
200. Each block
starts once the API server is seen to apply the change; inside a block the namespaces take turns, so
load from elsewhere on the machine falls on all of them alike.

Reported: per phase the median, p90 and mean creation time, the ratios of medians to `none` and to
`excluded` (aim: at most 1.15 with 20 models), and the size of each parameter object.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.admission_e2e import durable_control_plane, example_deployment
from bench.measure import latency_summary as summary

ROOT = Path(__file__).resolve().parents[1]
ADMISSION = "/apis/admissionregistration.k8s.io/v1"
SIZES = (20, 200)
GATED = tuple(f"native-{n}" for n in SIZES)
PHASES = ("none", "excluded", *GATED)
NAMESPACES = {"excluded": "bench-no-admission", **{f"native-{n}": f"bench-{n}-models" for n in SIZES}}


def _state(namespace: str, models: int) -> Any:
    """`models` GPAIModels in `namespace`: aurora-2 with all its evidence, the others with none."""
    from gpai_operator import objects
    from gpai_operator.engine import ClusterState
    from gpai_operator.loader import load

    state = ClusterState()
    deny = {"apiVersion": "gpai.dev/v1alpha1", "kind": "CompliancePolicy", "metadata": {"name": "eu-ai-act"}}
    objects.apply(state, {**deny, "spec": {"validationActions": ["Deny"]}})
    for manifest in load([str(ROOT / "examples" / "models" / "aurora-2.yaml")]).manifests:
        obj = copy.deepcopy(manifest.obj)
        obj["metadata"]["namespace"] = namespace
        objects.apply(state, obj)
    for i in range(models - 1):
        spec = {
            "modelName": f"Model {i}",
            "version": "1.0",
            "provider": {"name": "Bench Labs", "establishedInEU": True},
            "trainingCompute": {"flops": 3.8e25},
        }
        model = {"metadata": {"name": f"model-{i:04d}", "namespace": namespace}, "spec": spec}
        objects.apply(state, {"apiVersion": "gpai.dev/v1alpha1", "kind": "GPAIModel", **model})
    return state


def _create(apps: Any, namespace: str, body: dict[str, Any], name: str) -> float:
    obj = copy.deepcopy(body)
    obj["metadata"].update(name=name, namespace=namespace)
    started = time.perf_counter()
    apps.create_namespaced_deployment(namespace, obj, _preload_content=False).read()
    return time.perf_counter() - started


def _path(obj: dict[str, Any]) -> str:
    plural = (
        "validatingadmissionpolicies"
        if obj["kind"] == "ValidatingAdmissionPolicy"
        else ("validatingadmissionpolicybindings")
    )
    return f"{ADMISSION}/{plural}"


def _wait_for(apps: Any, namespace: str, body: dict[str, Any], gated: bool, timeout: float = 30.0) -> None:
    """Until kube-apiserver does (or no longer does) refuse a dry-run Deployment of a model lacking
    its evidence."""
    from kubernetes.client.exceptions import ApiException

    probe = copy.deepcopy(body)
    probe["metadata"].update(name="probe", namespace=namespace)
    probe["metadata"]["labels"]["gpai.dev/model"] = "model-0000"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            apps.create_namespaced_deployment(namespace, probe, dry_run="All")
            refused = False
        except ApiException as error:
            refused = error.status == 403
        if refused == gated:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the API server did not {'start' if gated else 'stop'} applying the native policies")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench native", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="creations per phase (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the phases (default 3)")
    parser.add_argument(
        "--mode", choices=("native", "both", "floor"), default="native", help="what to register"
    )
    parser.add_argument("--etcd-fsync", choices=("off", "on"), default="off", help="etcd durability")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    result = run(args.count, args.rounds, args.etcd_fsync == "on", args.mode)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _floor(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deny policy and binding reduced to what any policy costs: the same match, a trivial
    validation (it refuses only the readiness probe), no parameter, no condition, no message."""
    policy, binding = copy.deepcopy(policies[:2])
    policy["spec"] = {
        "failurePolicy": "Fail",
        "matchConstraints": policy["spec"]["matchConstraints"],
        "validations": [{"expression": 'object.metadata.name != "probe"', "reason": "Forbidden"}],
    }
    del binding["spec"]["paramRef"]
    return [policy, binding]


def run(count: int, rounds: int, fsync: bool, mode: str = "native") -> dict[str, Any]:
    from kubernetes.client import AppsV1Api, CoreV1Api

    from gpai_operator.admission.native import native_policies
    from gpai_operator.admission_verdicts import verdicts_for
    from gpai_operator.testing.controlplane import ControlPlane
    from gpai_operator.testing.crds import install_crds
    from gpai_operator.testing.rest import request_json

    body = example_deployment()
    times: dict[str, list[float]] = {phase: [] for phase in PHASES}
    sizes: dict[str, int] = {}
    policies = native_policies(
        excluded_namespaces=("kube-system", NAMESPACES["excluded"]), warnings=mode == "native"
    )
    if mode == "floor":
        policies = _floor(policies)
    plane = durable_control_plane(controllers=False) if fsync else ControlPlane(controllers=False)
    with plane as cluster, cluster.api_client() as api_client:
        core, apps = CoreV1Api(api_client), AppsV1Api(api_client)
        install_crds(api_client, sorted((ROOT / "crds").glob("*.yaml")))
        for namespace in NAMESPACES.values():
            core.create_namespace({"metadata": {"name": namespace}})
        for phase, n in zip(GATED, SIZES, strict=True):
            namespace = NAMESPACES[phase]
            manifest = verdicts_for(_state(namespace, n), namespace, _now()).manifest()
            sizes[phase] = len(json.dumps(manifest["spec"], separators=(",", ":")))
            path = f"/apis/gpai.dev/v1alpha1/namespaces/{namespace}/admissionverdicts"
            request_json(api_client, "POST", path, body=manifest)
        created = 0

        def block(phases: dict[str, str]) -> None:
            """`count` creations per entry, the namespaces taking turns; phase -> namespace."""
            nonlocal created
            for _ in range(count):
                for phase, namespace in phases.items():
                    times[phase].append(_create(apps, namespace, body, f"chat-{created}"))
                    created += 1

        def register(present: bool) -> None:
            for obj in policies if present else reversed(policies):
                if present:
                    request_json(api_client, "POST", _path(obj), body=obj)
                else:
                    request_json(api_client, "DELETE", f"{_path(obj)}/{obj['metadata']['name']}")
            _wait_for(apps, NAMESPACES[GATED[0]], body, gated=present)

        for i in range(10):  # warm-up: connections and caches on every side
            for namespace in NAMESPACES.values():
                _create(apps, namespace, body, f"warm-{i}")
        for round_ in range(rounds):
            for registered in (False, True) if round_ % 2 == 0 else (True, False):
                if registered:
                    register(True)
                    block(NAMESPACES)
                    register(False)
                else:
                    block({"none": NAMESPACES["excluded"]})
            medians = ", ".join(f"{p} {1000 * statistics.median(times[p]):.2f} ms" for p in PHASES)
            print(f"round {round_ + 1}: medians {medians}", file=sys.stderr)

    result: dict[str, Any] = {phase: summary(times[phase]) for phase in PHASES}
    for base in ("none", "excluded"):
        result[f"ratio_to_{base}"] = {
            phase: result[phase]["median_ms"] / result[base]["median_ms"] for phase in GATED
        }
    result["parameter_bytes"] = sizes
    for phase in PHASES:
        figures = result[phase]
        print(
            f"{phase:11} n={figures['count']:.0f} median {figures['median_ms']:.2f} ms, "
            f"p90 {figures['p90_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms"
        )
    for base in ("none", "excluded"):
        ratios = ", ".join(f"{phase} {ratio:.3f}" for phase, ratio in result[f"ratio_to_{base}"].items())
        print(f"ratio of medians to {base}: {ratios} (aim: at most 1.15 with 20 models)")
    print("parameter object (spec, compact JSON): " + ", ".join(f"{p} {b:,} bytes" for p, b in sizes.items()))
    return result


def _now() -> Any:
    import datetime as dt

    return dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)  # the example's evidence is current on this day


if __name__ == "__main__":
    sys.exit(main())
