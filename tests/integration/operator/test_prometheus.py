"""The shipped alerts and dashboard, evaluated by a real Prometheus scraping a running operator.

Prometheus (the server from Debian's `prometheus` package, as hack/promtool.sh provides it)
listens on loopback, scrapes the in-process operator every second and evaluates the chart's rules
(charts/gpai-operator/files/alerts.yaml) every second. The test speaks to it only through its HTTP
API, as Alertmanager and Grafana do.

Only one thing differs from a production rule set: every `for:` is rewritten to a few seconds in
the copy this test loads (the shipped values are an hour and 15 minutes), so an alert goes pending,
then firing, within the test. The expressions, labels and annotations are the shipped ones.

The story: model `acme` has no evidence and a Deployment serves it, so GPAIModelNonCompliant goes
pending and fires for acme (and not for `other`, non-compliant too but serving nothing). Its
evidence arrives, with an evaluation valid only 17 more days: the alert resolves and
GPAIEvidenceExpiringSoon fires for acme's systemic-risk/evaluation. The evaluation is renewed and
that alert resolves too. Meanwhile the API server sends admission reviews to the operator's
webhook, and every query of the Grafana dashboard returns data.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import AdmissionregistrationV1Api, ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator.admission.configuration import webhook_configuration, webhook_url
from gpai_operator.admission.testing import WebhookCertificates
from gpai_operator.app import OperatorThread
from gpai_operator.testing.controlplane import free_ports
from gpai_operator.testing.rest import request_json
from tests.chart.harness import CHART, find_tool
from tests.integration.operator.helpers import Kube, compliant, wait_for
from tests.unit.engine import builders as b

JOB = "gpai-operator"  # the job name alerts.yaml assumes (the chart's ServiceMonitor gives it)
FOR = "3s"  # every alert's `for:` in the copy loaded here
NON_COMPLIANT = "GPAIModelNonCompliant"
EXPIRING = "GPAIEvidenceExpiringSoon"
# Grafana's variables, as Grafana would expand them for a 1 s scrape interval over the last hour.
DASHBOARD_VARIABLES = {"$__rate_interval": "15s", "$__range": "1h", "$namespace": ".*"}


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, path: str, **query: str) -> Any:
        url = f"{self.url}/api/v1/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def alerts(self, name: str, namespace: str) -> dict[tuple[str, ...], str]:
        """(model, obligation if any) -> state, of this alert's active instances in `namespace`."""
        return {
            tuple(a["labels"][k] for k in ("model", "obligation") if k in a["labels"]): a["state"]
            for a in self.api("alerts")["alerts"]
            if a["labels"]["alertname"] == name and a["labels"].get("namespace") == namespace
        }

    def query(self, expression: str) -> list[dict[str, Any]]:
        return self.api("query", query=expression)["result"]

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def rules_for_the_test(folder: Path) -> Path:
    """alerts.yaml with every `for:` shortened to FOR; nothing else changed."""
    rules = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FOR
    path = folder / "alerts.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


@dataclass
class RunningOperator:
    thread: OperatorThread
    certs: WebhookCertificates
    webhook_port: int

    @property
    def metrics_port(self) -> int:
        assert self.thread.operator.endpoints is not None
        return self.thread.operator.endpoints.ports["metrics"]


@pytest.fixture
def running(start_operator, tmp_path: Path) -> RunningOperator:
    """The operator in-process with its webhook serving on loopback."""
    certs = WebhookCertificates.create(tmp_path / "webhook")
    (port,) = free_ports(1)
    thread = start_operator(
        webhook=True,
        webhook_address="127.0.0.1",
        webhook_port=port,
        webhook_cert_file=str(certs.cert_file),
        webhook_key_file=str(certs.key_file),
    )
    return RunningOperator(thread, certs, port)


@pytest.fixture
def prometheus(running: RunningOperator, tmp_path: Path) -> Iterator[Prometheus]:
    binary = find_tool("PROMETHEUS", "promtool.sh", "prometheus")
    metrics_port = running.metrics_port
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(rules_for_the_test(tmp_path))],
        "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    (port,) = free_ports(1)
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for(lambda: _up(server), f"Prometheus scraping the operator (log: {log})", timeout=60)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _up(server: Prometheus) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"Prometheus exited ({server.process.returncode}):\n{server.log_tail()}")
    try:
        targets = server.api("targets")["activeTargets"]
    except OSError:
        return False
    return any(t["labels"]["job"] == JOB and t["health"] == "up" for t in targets)


@pytest.fixture
def deny_policy(kube: Kube, namespace: str) -> Iterator[dict[str, Any]]:
    """A Deny CompliancePolicy selecting only this test's namespace."""
    policy = b.policy(
        f"prometheus-{namespace}",
        ("Deny",),
        namespaceSelector={"matchLabels": {"kubernetes.io/metadata.name": namespace}},
    )
    kube.create(policy)
    yield policy
    kube.delete(policy)


@contextlib.contextmanager
def gated(
    api_client: ApiClient, running: RunningOperator, namespace: str, probe: dict[str, Any]
) -> Iterator[None]:
    """The API server sends this namespace's workload requests to the operator's webhook.

    Ready once `probe` (a workload the webhook denies) is refused: kube-apiserver loads a new
    configuration within moments.
    """
    configuration = webhook_configuration(
        webhook_url("127.0.0.1", running.webhook_port),
        running.certs.ca_pem,
        name=f"gpai-prometheus-test-{namespace}",
        namespace_selector={"matchLabels": {"kubernetes.io/metadata.name": namespace}},
    )
    admission = AdmissionregistrationV1Api(api_client)
    admission.create_validating_webhook_configuration(configuration)
    try:
        wait_for(lambda: dry_run_create(api_client, probe) == 403, "the webhook in use", timeout=30)
        yield
    finally:
        admission.delete_validating_webhook_configuration(configuration["metadata"]["name"])


def dry_run_create(api_client: ApiClient, obj: dict[str, Any]) -> int:
    """Creates `obj` with dryRun=All (admission runs, nothing is stored); the HTTP status."""
    path = Kube.path(obj).rpartition("/")[0]
    try:
        request_json(api_client, "POST", path, body=obj, query=[("dryRun", "All")])
    except ApiException as error:
        return int(error.status)
    return 201


def wait_for_alert(prometheus: Prometheus, name: str, namespace: str, key: tuple[str, ...]) -> list[str]:
    """The states the alert instance went through until firing (polled faster than rules run)."""
    seen: list[str] = []

    def firing() -> bool:
        state = prometheus.alerts(name, namespace).get(key)
        if state and state not in seen[-1:]:
            seen.append(state)
        return state == "firing"

    wait_for(firing, f"{name} firing for {key}", timeout=60, interval=0.2)
    return seen


def dashboard_queries() -> dict[str, str]:
    """Every panel's query of the shipped dashboard, Grafana's variables expanded, by panel title."""
    dashboard = json.loads((CHART / "files" / "dashboard.json").read_text())
    queries = {}
    for panel in dashboard["panels"]:
        for number, target in enumerate(panel.get("targets", [])):
            expression = target["expr"]
            for variable, value in DASHBOARD_VARIABLES.items():
                expression = expression.replace(variable, value)
            queries[f"{panel['title']} #{number + 1}"] = expression
    return queries


def test_the_shipped_alerts_fire_and_resolve_and_every_dashboard_query_has_data(
    api_client: ApiClient,
    kube: Kube,
    namespace: str,
    deny_policy: dict[str, Any],
    running: RunningOperator,
    prometheus: Prometheus,
) -> None:
    acme, *evidence = b.frontier(namespace=namespace)
    evidence[2] = b.evaluation("acme-evals", valid_until="2026-12-15", namespace=namespace)  # 17 days left
    other = b.model("other", namespace=namespace)
    kube.create(acme)
    kube.create(other)
    kube.create(b.workload("Deployment", "chat", namespace=namespace))  # serves acme
    # An open incident of the model that serves nothing, reported on time: the incident rows' data.
    kube.create(b.incident("other-incident", model_name="other", aware="2026-11-27", namespace=namespace))

    # Non-compliant and serving: pending, then firing, for acme only.
    assert wait_for_alert(prometheus, NON_COMPLIANT, namespace, ("acme",)) == ["pending", "firing"]
    assert prometheus.alerts(NON_COMPLIANT, namespace) == {("acme",): "firing"}

    # The evidence arrives: the alert resolves; the evaluation about to lapse raises the expiry alert.
    for obj in evidence:
        kube.create(obj)
    wait_for(lambda: compliant(kube.get(acme)) == "True", "acme Compliant")
    wait_for(
        lambda: ("acme",) not in prometheus.alerts(NON_COMPLIANT, namespace), f"{NON_COMPLIANT} resolved"
    )
    expiring = ("acme", "systemic-risk/evaluation")
    assert wait_for_alert(prometheus, EXPIRING, namespace, expiring) == ["pending", "firing"]
    assert prometheus.alerts(EXPIRING, namespace) == {expiring: "firing"}

    # Admission traffic through the API server: other's Deployment is denied, acme's allowed.
    with gated(api_client, running, namespace, probe=b.workload("Deployment", "probe", "other", namespace)):
        for round_ in range(12):
            assert (
                dry_run_create(api_client, b.workload("Deployment", f"o{round_}", "other", namespace)) == 403
            )
            assert (
                dry_run_create(api_client, b.workload("Deployment", f"a{round_}", "acme", namespace)) == 201
            )
            time.sleep(0.25)
        wait_for(
            lambda: prometheus.query('sum(gpai_admission_requests_total{decision="Deny"}) >= 12'),
            "the denials scraped",
            timeout=30,
        )
        queries = dashboard_queries()
        empty = {title: query for title, query in queries.items() if not prometheus.query(query)}
    assert len(queries) >= 20
    assert empty == {}

    # The evaluation is renewed: the expiry alert resolves.
    kube.patch(evidence[2], {"spec": {"validUntil": "2027-11-30"}})
    wait_for(lambda: not prometheus.alerts(EXPIRING, namespace), f"{EXPIRING} resolved", timeout=60)
    assert prometheus.alerts(NON_COMPLIANT, namespace) == {}
