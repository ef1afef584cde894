"""`make demo`: gpai-operator on a local control plane, from nothing to a denied Deployment.

    KUBEBUILDER_ASSETS="$(hack/control-plane.sh)" .venv/bin/python hack/demo.py [--exit-after-showcase]
        [--admission webhook|native|both]        # make demo DEMO_ARGS="--admission native"

1. starts etcd, kube-apiserver and kube-controller-manager on loopback (no cluster or container
   runtime needed; admitted Deployments get ReplicaSets and Pods, which stay Pending: no nodes);
2. installs the gpai.dev CRDs (and a stand-in for KServe's InferenceService CRD), and the OpenReports
   Report and ClusterReport CRDs (hack/third-party-crds.sh) the operator writes policy reports into;
3. starts the operator, `gpai run`, with its admission webhook on TLS (certificates from a throwaway
   CA made with trustme) and registers the ValidatingWebhookConfiguration the chart would render;
   with `--admission native` instead the chart's ValidatingAdmissionPolicies, which decide inside the
   API server from the AdmissionVerdicts the operator writes (`both`: the policies gate, the webhook
   beside them failing open), and, once the workloads are judged, stops the operator to show the gate
   still holding (a denial and an admission with no operator running), then starts it again;
4. applies examples/: namespaces, policies, models with their evidence, then the workloads, showing
   what kubectl would show: the `kubectl get gpai` table, which workloads are admitted, warned about
   or denied and why, the annotations the operator writes, the policy reports (`kubectl get reports
   -A`), a fix turning a denial into an admission, and a few lines of the operator's metrics;
5. keeps everything running for kubectl (it prints the KUBECONFIG) until Ctrl-C, or exits at once
   with --exit-after-showcase. Everything it started is stopped on the way out.

Nothing here is needed by the operator itself: this is a guided tour, and a test runs it
(tests/integration/admission/test_demo.py) so that the README's first command keeps working.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import AdmissionregistrationV1Api, ApiClient

from gpai_operator.admission.configuration import webhook_configuration, webhook_url
from gpai_operator.admission.native import native_policies
from gpai_operator.admission.testing import WebhookCertificates, install_kserve_crd
from gpai_operator.api.kinds import KINDS_BY_NAME
from gpai_operator.loader import load
from gpai_operator.testing.controlplane import CONTROLLERS, ControlPlane, ControlPlaneError, free_ports
from gpai_operator.testing.crds import install_crds
from gpai_operator.testing.processes import ManagedProcess, tail

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIELD_MANAGER = "gpai-demo"
JSON = "application/json"
APPLY = "application/apply-patch+yaml"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
WAIT = 90.0  # seconds for anything the operator has to do

# (apiVersion, kind) -> (plural, namespaced) of every kind the examples hold, ours included.
RESOURCES: dict[tuple[str, str], tuple[str, bool]] = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Pod"): ("pods", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("apps/v1", "StatefulSet"): ("statefulsets", True),
    ("apps/v1", "DaemonSet"): ("daemonsets", True),
    ("batch/v1", "Job"): ("jobs", True),
    ("batch/v1", "CronJob"): ("cronjobs", True),
    ("serving.kserve.io/v1beta1", "InferenceService"): ("inferenceservices", True),
    **{(kind.api_version, name): (kind.plural, kind.namespaced) for name, kind in KINDS_BY_NAME.items()},
}

# The evidence borealis-1 lacks (examples/models/borealis-1.yaml): evaluations of version 1.0
# covering the four specified risks, one of them a red-team run.
BOREALIS_EVALUATIONS = [
    {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "RiskEvaluation",
        "metadata": {"name": name, "namespace": "prod-chat"},
        "spec": {
            "modelRef": {"name": "borealis-1"},
            "modelVersion": "1.0",
            "type": kind,
            "risks": risks,
            "performedBy": {"organisation": "Independent Model Audits BV", "independent": True},
            "completed": "2026-11-20",
            "validUntil": "2027-11-20",
            "outcome": "Acceptable",
            "report": {"url": f"https://audits.example/reports/{name}.pdf"},
        },
    }
    for name, kind, risks in (
        ("borealis-1-cbrn-cyber", "Evaluation", ["Cbrn", "CyberOffence"]),
        ("borealis-1-control-manipulation", "Evaluation", ["LossOfControl", "HarmfulManipulation"]),
        ("borealis-1-red-team", "AdversarialTesting", ["Cbrn", "CyberOffence", "LossOfControl"]),
    )
]


class DemoError(Exception):
    """Something the demo needs did not happen; the message says what and where to look."""


# ---- output ------------------------------------------------------------------------------------------
class Out:
    def __init__(self) -> None:
        self.step = 0

    def heading(self, text: str) -> None:
        self.step += 1
        print(f"\n== {self.step}. {text}", flush=True)

    def line(self, text: str = "", indent: int = 3) -> None:
        pad = " " * indent
        print("\n".join(pad + part if part else "" for part in text.split("\n")), flush=True)

    def command(self, text: str) -> None:
        self.line(f"$ {text}")


# ---- the API server, as kubectl talks to it ------------------------------------------------------------
class Reply:
    def __init__(self, status: int, body: Any, warnings: list[str]) -> None:
        self.status, self.body, self.warnings = status, body, warnings

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def call(
    api: ApiClient, method: str, path: str, body: Any = None, *, content_type: str = JSON, accept: str = JSON,
    query: list[tuple[str, str]] | None = None,
) -> Reply:  # fmt: skip
    method, url, headers, body, _ = api.param_serialize(
        method,
        path,
        query_params=query or [],
        header_params={"Accept": accept, "Content-Type": content_type},
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api.call_api(method, url, headers, body)
    data = response.read()
    warnings = [_warning_text(value) for value in response.headers.getlist("Warning")]
    return Reply(response.status, json.loads(data) if data else None, warnings)


def _warning_text(header: str) -> str:
    # `299 - "text"`; the API server escapes quotes and backslashes; Python reads headers as Latin-1
    quoted = header.split(" ", 2)[2] if header.count(" ") >= 2 else header
    text = quoted[1:-1] if quoted.startswith('"') and quoted.endswith('"') else quoted
    text = text.replace('\\"', '"').replace("\\\\", "\\")
    with contextlib.suppress(UnicodeError):
        text = text.encode("latin-1").decode("utf-8")
    return text


def path_of(obj: dict[str, Any], *, collection: bool = False) -> str:
    api_version, kind = obj["apiVersion"], obj["kind"]
    plural, namespaced = RESOURCES[(api_version, kind)]
    root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    where = f"/namespaces/{obj['metadata']['namespace']}" if namespaced else ""
    return f"{root}{where}/{plural}" + ("" if collection else f"/{obj['metadata']['name']}")


def apply(api: ApiClient, obj: dict[str, Any]) -> Reply:
    """`kubectl apply --server-side`: create or update."""
    query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
    return call(api, "PATCH", path_of(obj), obj, content_type=APPLY, query=query)


def reference(obj: dict[str, Any]) -> str:
    """kubectl's name for an object: `deployment.apps/aurora-chat`."""
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{obj['kind'].lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"


def read_manifests(path: Path) -> list[dict[str, Any]]:
    """Every object in a file, Lists unpacked. Our kinds come through gpai's loader, which reads numbers
    as Kubernetes does (`3.8e25` is a number); the rest as plain YAML, pod templates included."""
    ours = {
        (m.obj["kind"], m.obj["metadata"]["name"]): m.obj
        for m in load([str(path)]).manifests
        if m.obj.get("apiVersion", "").startswith("gpai.dev/")
    }
    found = []
    for document in yaml.safe_load_all(path.read_text()):
        if not document:
            continue
        for obj in document.get("items", []) if document.get("kind") == "List" else [document]:
            found.append(ours.get((obj["kind"], obj["metadata"]["name"]), obj))
    return found


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


# ---- showing things ----------------------------------------------------------------------------------------
def table(api: ApiClient, path: str, namespaced: bool = True) -> str:
    """What `kubectl get` prints: the server's Table, priority-0 columns, NAMESPACE first."""
    reply = call(api, "GET", path, accept=TABLE)
    columns = [(i, c) for i, c in enumerate(reply.body["columnDefinitions"]) if c.get("priority", 0) == 0]
    header = (["NAMESPACE"] if namespaced else []) + [c["name"].upper() for _, c in columns]
    rows = []
    for row in reply.body["rows"]:
        cells = [row["cells"][i] for i, _ in columns]
        shown = ["<none>" if v in (None, "") else str(v) for v in cells]  # dates come as ages already
        rows.append(([row["object"]["metadata"].get("namespace", "")] if namespaced else []) + shown)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "   ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    )


def _adherence(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda m: (m["spec"]["provider"].get("codeOfPractice") or {}).get(field)


def _alternative_means(model: dict[str, Any]) -> list[str]:
    return [entry["chapter"] for entry in model["spec"]["provider"].get("alternativeMeans") or []]


def _code_of_practice_status(model: dict[str, Any]) -> str | None:
    obligations = (model.get("status") or {}).get("obligations") or []
    return next((o["status"] for o in obligations if o["id"] == "governance/code-of-practice"), None)


# `kubectl get gpai -o custom-columns=...`: header, JSONPath as kubectl takes it, and how to read it.
Column = tuple[str, str, Callable[[dict[str, Any]], Any]]
_COP = '.status.obligations[?(@.id=="governance/code-of-practice")]'
CHAPTER_COLUMNS: list[Column] = [
    ("NAMESPACE", ".metadata.namespace", lambda m: m["metadata"]["namespace"]),
    ("NAME", ".metadata.name", lambda m: m["metadata"]["name"]),
    *(
        (header, f".spec.provider.codeOfPractice.{field}", _adherence(field))
        for header, field in (
            ("TRANSPARENCY", "transparency"),
            ("COPYRIGHT", "copyright"),
            ("SAFETY-AND-SECURITY", "safetyAndSecurity"),
        )
    ),
    ("ALTERNATIVE-MEANS", ".spec.provider.alternativeMeans[*].chapter", _alternative_means),
    ("CODE-OF-PRACTICE", f"{_COP}.status", _code_of_practice_status),
]


def _custom_columns(columns: list[Column]) -> str:
    return ",".join(f"{header}:{path}" for header, path, _ in columns)


def custom_columns(api: ApiClient, path: str, columns: list[Column]) -> str:
    """What `kubectl get -o custom-columns` prints for these columns (values read as kubectl would)."""
    items = call(api, "GET", path).body["items"]
    rows = [[header for header, _, _ in columns]]
    for item in sorted(items, key=lambda m: (m["metadata"]["namespace"], m["metadata"]["name"])):
        values = [read(item) for _, _, read in columns]
        rows.append(["<none>" if v in (None, "", []) else ",".join(v) if isinstance(v, list) else str(v)
                     for v in values])  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def show_apply(out: Out, api: ApiClient, obj: dict[str, Any]) -> Reply:
    reply = apply(api, obj)
    for warning in reply.warnings:
        out.line(f"Warning: {warning}")
    if reply.ok:
        out.line(f"{reference(obj)} {'created' if reply.status == 201 else 'configured'}")
    else:
        body = reply.body or {}
        out.line(f"Error from server ({body.get('reason', reply.status)}): {body.get('message', '')}")
    return reply


def gpai_annotations(api: ApiClient, obj: dict[str, Any]) -> dict[str, str]:
    reply = call(api, "GET", path_of(obj))
    found = (reply.body or {}).get("metadata", {}).get("annotations") or {}
    return {k: v for k, v in found.items() if k.startswith("gpai.dev/")}


def _annotated(api: ApiClient, obj: dict[str, Any]) -> dict[str, str] | None:
    found = gpai_annotations(api, obj)
    return found if "gpai.dev/compliance" in found else None


def compliant_condition(model: dict[str, Any]) -> dict[str, Any] | None:
    conditions = (model.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Compliant"), None)


def metric_lines(metrics_url: str) -> list[str]:
    """The series a platform team watches: compliance per model, its Code of Practice adherence,
    workloads, admission refusals."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode().splitlines()
    lines = [ln for ln in text if ln.startswith("gpai_model_compliant{")]
    lines += [
        ln
        for ln in text
        if ln.startswith("gpai_model_obligation_status{") and 'obligation="governance/code-of-practice"' in ln
    ]
    lines += [ln for ln in text if ln.startswith("gpai_workloads{") and not ln.endswith(" 0.0")]
    lines += [
        ln
        for ln in text
        if ln.startswith("gpai_admission_requests_total{")
        and 'operation="CREATE"' in ln
        and ('decision="Deny"' in ln or 'decision="Warn"' in ln)
    ]
    lines += [ln for ln in text if ln.startswith("gpai_admission_duration_seconds_count")]
    return lines


def _shown_path(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def third_party_crds() -> Path:
    """The folder of other projects' real CRDs: $GPAI_THIRD_PARTY_CRDS, else hack/third-party-crds.sh
    (from their Go modules, cached beside the control plane)."""
    given = os.environ.get("GPAI_THIRD_PARTY_CRDS")
    if given:
        return Path(given)
    try:
        found = subprocess.run(
            [str(ROOT / "hack" / "third-party-crds.sh")], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as error:
        raise DemoError(f"hack/third-party-crds.sh failed:\n{error.stderr}") from None
    return Path(found.stdout.strip())


# ---- the operator ---------------------------------------------------------------------------------------
class OperatorProcess:
    """`gpai run` as a user starts it, on loopback ports; its log goes to a file."""

    def __init__(self, workdir: Path, kubeconfig: Path, certs: WebhookCertificates, mode: str) -> None:
        self.webhook_port, self.metrics_port, self.health_port = free_ports(3)
        self.log = workdir / "operator.log"
        self.argv = [
            sys.executable, "-m", "gpai_operator.cli.main", "run",
            "--kubeconfig", str(kubeconfig),
            "--webhook-address", "127.0.0.1", "--webhook-port", str(self.webhook_port),
            "--webhook-cert-file", str(certs.cert_file), "--webhook-key-file", str(certs.key_file),
            "--bind-address", "127.0.0.1",
            "--metrics-port", str(self.metrics_port), "--health-port", str(self.health_port),
            # Open metrics on loopback, so that `curl` shows them; the chart serves them over HTTPS
            # to callers the API server authorises (docs/security.md).
            "--no-metrics-secure",
            "--reports", "openreports",
        ]  # fmt: skip
        if mode != "webhook":  # the native gate decides by the verdicts the operator writes
            self.argv += ["--admission-verdicts", "--admission-exclude-namespace", "kube-system"]
        self.process = ManagedProcess("gpai run", self.argv, self.log)

    def start_again(self) -> None:
        self.process = ManagedProcess("gpai run", self.argv, self.log)

    @property
    def webhook_url(self) -> str:
        return webhook_url("127.0.0.1", self.webhook_port)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def wait_ready(self, timeout: float = WAIT) -> None:
        def ready() -> bool:
            if (code := self.process.exit_code()) is not None:
                raise DemoError(f"gpai run exited with code {code}; its log:\n{tail(self.log, 30)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/readyz", timeout=2) as r:
                    return bool(r.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        try:
            wait_for("the operator to be ready (/readyz)", ready, timeout)
        except DemoError as error:
            raise DemoError(f"{error}; its log:\n{tail(self.log, 30)}") from None

    def stop(self) -> None:
        self.process.stop()


# ---- the tour ---------------------------------------------------------------------------------------
def showcase(out: Out, api: ApiClient, operator: OperatorProcess, workdir: Path, mode: str) -> None:
    out.heading("The evidence: namespaces, policies, models (kubectl apply -f examples/)")
    files = [
        EXAMPLES / "namespaces.yaml",
        EXAMPLES / "policies.yaml",
        *sorted((EXAMPLES / "models").glob("*.yaml")),
    ]
    counts: dict[str, int] = {}
    for path in files:
        for obj in read_manifests(path):
            reply = apply(api, obj)
            if not reply.ok:
                raise DemoError(
                    f"{path.relative_to(ROOT)}: {reference(obj)}: {(reply.body or {}).get('message')}"
                )
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    out.line(", ".join(f"{n} {kind}" for kind, n in counts.items()))

    def all_judged() -> bool:
        items = call(api, "GET", "/apis/gpai.dev/v1alpha1/gpaimodels").body["items"]
        return bool(items) and all(compliant_condition(m) for m in items)

    wait_for("the operator to write every GPAIModel's status", all_judged)
    out.line("")
    out.command("kubectl get gpai -A")
    out.line(table(api, "/apis/gpai.dev/v1alpha1/gpaimodels"))
    out.line("")
    out.line("CoP SIGNED: the Code of Practice chapters each provider signed (T,C,S / S / -); per chapter,")
    out.line("with the verdict of governance/code-of-practice (alternative adequate means stand in for a")
    out.line("chapter not signed):")
    out.command(f"kubectl get gpai -A -o custom-columns='{_custom_columns(CHAPTER_COLUMNS)}'")
    out.line(custom_columns(api, "/apis/gpai.dev/v1alpha1/gpaimodels", CHAPTER_COLUMNS))
    out.line("")
    out.line(
        "ROLE: lumen-8b-support is a light fine-tune of Lumen-8B (Downstream: the provider's duties stay"
    )
    out.line("upstream); lumen-8b-legal used more than a third of its compute (ModifierProvider). Serious")
    out.line("incidents, each with the report it owes next and its deadline (Art. 55(1)(c)):")

    def incidents_reported() -> bool:
        items = call(api, "GET", "/apis/gpai.dev/v1alpha1/seriousincidents").body["items"]
        return all((i.get("status") or {}).get("conditions") for i in items)

    wait_for("the operator to write every SeriousIncident's status", incidents_reported)
    out.command("kubectl get sinc -A")
    out.line(table(api, "/apis/gpai.dev/v1alpha1/seriousincidents"))

    out.heading("The workloads (kubectl apply -f examples/workloads/): judged at admission")
    out.line("prod-chat enforces (Deny, every workload names its model); ml-research only warns.\n")
    workloads: dict[str, dict[str, Any]] = {}
    for path in sorted((EXAMPLES / "workloads").glob("*.yaml")):
        out.command(f"kubectl apply -f {path.relative_to(ROOT)}")
        for obj in read_manifests(path):
            workloads[obj["metadata"]["name"]] = obj
            show_apply(out, api, obj)
        out.line("")

    chat = workloads.get("aurora-chat")
    if chat is not None:
        out.heading("A compliant workload is admitted, and annotated by the operator")
        marks = wait_for("the operator to annotate aurora-chat", lambda: _annotated(api, chat))
        out.command("kubectl get deployment aurora-chat -n prod-chat -o jsonpath='{.metadata.annotations}'")
        out.line("\n".join(f"{key}: {value or chr(34) * 2}" for key, value in sorted(marks.items())))

    if mode != "webhook" and chat is not None:
        gate_without_operator(out, api, operator, workloads)

    preview = workloads.get("borealis-preview")
    if preview is not None:
        out.heading("Fixing a denial: borealis-1 gets its risk evaluations")
        evaluations = workdir / "borealis-1-evaluations.yaml"
        evaluations.write_text(yaml.safe_dump_all(BOREALIS_EVALUATIONS, sort_keys=False))
        out.line("Evaluations of version 1.0 covering CBRN, cyber offence, loss of control and harmful")
        out.line("manipulation, one of them a red-team run:")
        out.command(f"kubectl apply -f {_shown_path(evaluations)}")
        for evaluation in BOREALIS_EVALUATIONS:
            show_apply(out, api, evaluation)

        def borealis_compliant() -> bool:
            model = call(
                api, "GET", "/apis/gpai.dev/v1alpha1/namespaces/prod-chat/gpaimodels/borealis-1"
            ).body
            condition = compliant_condition(model or {})
            return bool(condition and condition.get("status") == "True")

        wait_for("borealis-1 to turn Compliant", borealis_compliant)
        if mode != "webhook":  # and the API server to decide by the verdicts rewritten meanwhile
            wait_for(
                "the native gate to read the new verdicts",
                lambda: (
                    call(
                        api, "POST", path_of(preview, collection=True), preview, query=[("dryRun", "All")]
                    ).ok
                ),
            )
        out.line("")
        out.command("kubectl get gpai -n prod-chat")
        out.line(table(api, "/apis/gpai.dev/v1alpha1/namespaces/prod-chat/gpaimodels", namespaced=False))
        out.line("")
        out.command("kubectl apply -f examples/workloads/prod-chat.yaml   # borealis-preview, again")
        show_apply(out, api, preview)

    out.heading("Policy reports: where compliance teams and Policy Reporter look")
    out.line("One Report per namespace (a result per obligation of each model and per workload), and a")
    out.line("ClusterReport with each model's verdict; `kubectl describe report gpai-operator -n prod-chat`")
    out.line("lists the results.")

    def reported() -> bool:
        items = call(api, "GET", "/apis/openreports.io/v1alpha1/reports").body["items"]
        return {i["metadata"]["namespace"] for i in items} >= {
            w["metadata"]["namespace"] for w in workloads.values()
        }

    wait_for("the operator to write the policy reports", reported)
    out.command("kubectl get reports -A")
    out.line(table(api, "/apis/openreports.io/v1alpha1/reports"))
    out.command("kubectl get clusterreports")
    out.line(table(api, "/apis/openreports.io/v1alpha1/clusterreports", namespaced=False))

    out.heading(f"The operator's metrics ({operator.metrics_url}), a few lines")
    if mode == "native":
        out.line("(no webhook in native mode: admissions are in the API server's metrics and audit log)")
    else:
        out.line("(one Pod refusal is the demo's own dry-run probe that the webhook is registered)")
    for line in metric_lines(operator.metrics_url):
        out.line(line)


def gate_without_operator(
    out: Out, api: ApiClient, operator: OperatorProcess, workloads: dict[str, dict[str, Any]]
) -> None:
    """The native gate with the operator stopped: it decides by the last verdicts written."""
    out.heading("The operator stopped: the native gate still holds")
    out.command("kubectl get gpaiv -A   # the verdicts the operator wrote, one per namespace")
    out.line(table(api, "/apis/gpai.dev/v1alpha1/admissionverdicts"))
    operator.stop()
    out.line("")
    out.line(f"gpai run stopped (pid {operator.process.pid}). Creating workloads now:")
    preview = copy.deepcopy(workloads["borealis-preview"])
    preview["metadata"]["name"] = "borealis-preview-2"
    canary = copy.deepcopy(workloads["aurora-chat"])
    canary["metadata"]["name"] = "aurora-chat-canary"
    for obj in (preview, canary):
        out.command(f"kubectl create deployment {obj['metadata']['name']} ...   # gpai.dev/model: "
                    f"{obj['metadata']['labels']['gpai.dev/model']}")  # fmt: skip
        show_apply(out, api, obj)
    started = time.monotonic()
    operator.start_again()
    operator.wait_ready()
    out.line("")
    out.line(f"gpai run started again, ready in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--exit-after-showcase", action="store_true", help="stop everything once the tour is shown"
    )
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / ".demo", help="where the demo keeps its files (default: .demo)"
    )
    parser.add_argument(
        "--admission",
        choices=("webhook", "native", "both"),
        default="webhook",
        help="who gates workloads (docs/admission.md, admission modes); native and both also show the "
        "gate holding while the operator is stopped (default: webhook)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the demo as cleanly as Ctrl-C
    out = Out()
    workdir: Path = args.workdir.resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    print("gpai-operator demo: a local control plane, the operator and its admission webhook", flush=True)
    failed = False
    try:
        with contextlib.ExitStack() as stack:
            run(out, workdir, stack, args.exit_after_showcase, args.admission)
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    except (DemoError, ControlPlaneError) as error:
        failed = True
        print(f"\ndemo failed: {error}\n(files kept in {workdir})", file=sys.stderr, flush=True)
    except Exception:
        failed = True
        traceback.print_exc()
        print(f"\ndemo failed (files kept in {workdir})", file=sys.stderr, flush=True)
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    print("Everything the demo started has stopped.", flush=True)
    return 1 if failed else 0


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run(out: Out, workdir: Path, stack: contextlib.ExitStack, exit_after_showcase: bool, mode: str) -> None:
    out.heading("A control plane: etcd, kube-apiserver and kube-controller-manager on loopback")
    cluster = stack.enter_context(ControlPlane(workdir=workdir / "control-plane"))
    api = stack.enter_context(cluster.api_client())
    version = call(api, "GET", "/version").body.get("gitVersion", "?")
    out.line(f"kube-apiserver {version} at {cluster.server}, ready in {cluster.startup_seconds:.1f} s")
    out.line(
        f"kube-controller-manager: {len(CONTROLLERS)} controllers, each as its own service account "
        "(no scheduler or nodes: Pods stay Pending)"
    )

    out.heading("The CRDs: gpai.dev, OpenReports, and a stand-in for KServe's InferenceService")
    names = install_crds(api, sorted((ROOT / "crds").glob("*.yaml")))
    names += install_crds(api, sorted(third_party_crds().glob("openreports.io_*.yaml")))
    install_kserve_crd(api)
    out.line(", ".join(names) + ", inferenceservices.serving.kserve.io")

    out.heading(f"The operator: gpai run, with its admission webhook on TLS (admission mode {mode})")
    certs = WebhookCertificates.create(workdir / "webhook")
    operator = OperatorProcess(workdir, cluster.kubeconfig, certs, mode)
    stack.callback(operator.stop)
    started = time.monotonic()
    operator.wait_ready()
    out.line(f"ready in {time.monotonic() - started:.1f} s (pid {operator.process.pid}, log {operator.log})")
    if mode != "native":
        configuration = webhook_configuration(operator.webhook_url, certs.ca_pem)
        if mode == "both":  # the native policy is the gate; the webhook beside it fails open
            for hook in configuration["webhooks"]:
                hook["failurePolicy"] = "Ignore"
        AdmissionregistrationV1Api(api).create_validating_webhook_configuration(configuration)
        out.line(
            f"ValidatingWebhookConfiguration {configuration['metadata']['name']}: "
            f"{', '.join(w['name'] for w in configuration['webhooks'])} -> {operator.webhook_url}"
        )
    if mode != "webhook":
        policies = native_policies(name="gpai-operator", warnings=mode == "native")
        for policy in policies:
            plural = "validatingadmissionpolicies" if policy["kind"].endswith("Policy") else (
                "validatingadmissionpolicybindings"
            )  # fmt: skip
            reply = call(api, "POST", f"/apis/admissionregistration.k8s.io/v1/{plural}", policy)
            if not reply.ok:
                raise DemoError(f"{policy['kind']} {policy['metadata']['name']}: {reply.body}")
        out.line(
            "ValidatingAdmissionPolicies and bindings: "
            + ", ".join(sorted({p["metadata"]["name"] for p in policies}))
            + ", deciding from the AdmissionVerdicts the operator writes into every namespace"
        )
    _wait_until_gated(api, mode)

    showcase(out, api, operator, workdir, mode)

    if exit_after_showcase:
        return
    out.heading("Your turn")
    out.line(f"export KUBECONFIG={cluster.kubeconfig}")
    out.line("kubectl get gpai -A")
    out.line("kubectl describe gpai borealis-1 -n prod-chat")
    out.line("kubectl apply -f examples/workloads/")
    out.line("kubectl get reports -A")
    out.line(f"curl -s {operator.metrics_url} | grep ^gpai_")
    out.line(f"operator log: {operator.log}")
    out.line("\nPress Ctrl-C to stop everything.")
    while True:
        if (code := operator.process.exit_code()) is not None:
            raise DemoError(f"gpai run exited with code {code}; its log:\n{tail(operator.log, 30)}")
        time.sleep(1)


def _wait_until_gated(api: ApiClient, mode: str) -> None:
    """kube-apiserver loads a new webhook configuration or policy within moments (and the native gate
    needs the namespace's verdicts): until then, a Pod of a model that does not exist in an enforcing
    namespace would get through, or anything be refused."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpai-demo-probe"}}
    apply(api, namespace)
    only_probe = {"matchLabels": {"kubernetes.io/metadata.name": "gpai-demo-probe"}}
    policy = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": "gpai-demo-probe"},
        "spec": {"validationActions": ["Deny"], "namespaceSelector": only_probe},
    }
    apply(api, policy)
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "probe", "namespace": "gpai-demo-probe", "labels": {"gpai.dev/model": "none"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }  # fmt: skip
    try:
        wait_for(
            "kube-apiserver to call the webhook" if mode == "webhook" else "the native gate to decide",
            lambda: _refused_by_gate(
                call(api, "POST", path_of(pod, collection=True), pod, query=[("dryRun", "All")]), mode
            ),
        )
    finally:
        call(api, "DELETE", path_of(policy))
        call(api, "DELETE", path_of(namespace))


def _refused_by_gate(reply: Reply, mode: str) -> bool:
    """Refused by the gate of `mode` for the unknown model (not for want of verdicts: HTTP 422)."""
    message = str((reply.body or {}).get("message", ""))
    gate = "admission webhook" if mode == "webhook" else "ValidatingAdmissionPolicy"
    return reply.status == 403 and gate in message and (mode != "both" or "does not exist" in message)


if __name__ == "__main__":
    sys.exit(main())
