"""Steady churn for fault tests and the soak benchmark: models, evidence and workloads created,
changed and deleted against a real API server.

    churn = Churn(api_client, ["team-a", "team-b"], today=dt.date.today(), seed=7)
    churn.populate(models=40, documented=0.5, workloads=80)
    churn.run(seconds=10, rate=40, workers=4)       # about 400 operations, 4 at a time
    print(churn.counts)                              # operations done and failed, by name

The models are general-purpose models from EU providers without systemic risk, each compliant when
its namespace's CopyrightPolicy exists and a ModelDocumentation matches its current version.
Operations flip that both ways (documentation created, moved to another version, deleted; a model's
version bumped; the copyright policy deleted and recreated) and move workloads between models
(labels changed or removed, Deployments and Pods created and deleted, Pods made by a Deployment).
Evidence is dated around `today`, far from any deadline, so verdicts do not change with the clock
over a run of hours.

Failures (the API server down, a conflict) are counted, never raised: what the cluster ends up with
is what the oracle (testing/oracle.py) compares against, whatever the churn meant to do.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.rest import request_json

GPAI = "gpai.dev/v1alpha1"
MODEL_LABEL = "gpai.dev/model"
MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT = 15.0
COPYRIGHT = "provider-copyright"
Obj = dict[str, Any]


# ---- manifests ----------------------------------------------------------------------------------
def model(namespace: str, name: str, today: dt.date, version: str = "1.0") -> Obj:
    return {
        "apiVersion": GPAI,
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "modelName": f"Model {name}",
            "version": version,
            "provider": {
                "name": "Churn Models GmbH",
                "establishedInEU": True,
                "codeOfPractice": {"transparency": "Signatory", "copyright": "Signatory"},
            },
            "euMarketDate": "2025-10-01",
            "modalities": {"input": ["text"], "output": ["text"]},
            "trainingCompute": {"flops": 4.2e23, "method": "HardwareBased"},
            "license": {
                "name": "Proprietary",
                "openSource": False,
                "weightsPublic": False,
                "monetised": True,
            },
            "copyrightPolicyRef": {"name": COPYRIGHT},
            "trainingContentSummary": {
                "url": f"https://churn.example/models/{name}/training-content-summary",
                "updated": (today - dt.timedelta(days=20)).isoformat(),
            },
        },
    }


def documentation(namespace: str, model_name: str, version: str, today: dt.date) -> Obj:
    """The Model Documentation Form of one version, every Annex XI and XII field filled in."""
    return {
        "apiVersion": GPAI,
        "kind": "ModelDocumentation",
        "metadata": {"name": f"{model_name}-documentation", "namespace": namespace},
        "spec": {
            "modelRef": {"name": model_name},
            "modelVersion": version,
            "documentVersion": "1",
            "lastUpdated": (today - dt.timedelta(days=10)).isoformat(),
            "general": {
                "legalName": "Churn Models GmbH",
                "modelName": f"Model {model_name}",
                "authenticity": {"sha256": "a" * 64},
                "releaseDate": "2025-09-15",
                "euReleaseDate": "2025-10-01",
                "dependencies": [],
            },
            "properties": {
                "architecture": "Decoder-only transformer",
                "designSpecification": "32 layers",
                "parameterCount": 7.0e9,
                "inputModalities": [{"modality": "text", "maxSize": "32000 tokens"}],
                "outputModalities": [{"modality": "text", "maxSize": "4096 tokens"}],
            },
            "distribution": {
                "channels": ["api"],
                "license": {"name": "Proprietary", "url": "https://churn.example/licence"},
            },
            "use": {
                "acceptableUsePolicy": "https://churn.example/acceptable-use",
                "intendedUses": ["chat assistants"],
                "prohibitedUses": ["social scoring"],
                "integrationSystems": ["chatbots"],
                "integrationMeans": "HTTPS API",
                "requiredHardware": "none",
                "requiredSoftware": "any HTTPS client",
            },
            "training": {
                "designSpecification": "Next-token prediction, then RLHF.",
                "decisionRationale": "Dense transformer for simplicity.",
            },
            "data": {
                "types": ["text"],
                "provenance": ["WebCrawled", "ThirdPartyLicensed"],
                "acquisition": "Crawled with a disclosed crawler; licensed corpora.",
                "dataPoints": {"count": 1.0e12, "unit": "tokens"},
                "scope": "Multilingual web text.",
                "curation": "Deduplication and quality filtering.",
                "unsuitableContentMeasures": "Hash matching and classifiers.",
                "biasMeasures": "Audits on samples.",
            },
            "compute": {"trainingTimeDays": 30, "trainingFlops": 4.2e23, "methodology": "Hardware-based."},
            "energy": {"trainingMWh": 400, "methodology": "Metered consumption."},
            "contact": "docs@churn.example",
        },
    }


def copyright_policy(namespace: str, today: dt.date) -> Obj:
    return {
        "apiVersion": GPAI,
        "kind": "CopyrightPolicy",
        "metadata": {"name": COPYRIGHT, "namespace": namespace},
        "spec": {
            "provider": "Churn Models GmbH",
            "document": {"url": "https://churn.example/copyright-policy.pdf", "sha256": "b" * 64},
            "crawling": {
                "respectsRobotsTxt": True,
                "optOutProtocols": ["robots.txt"],
                "respectsPaywalls": True,
                "excludesInfringingSites": True,
                "crawlerDisclosure": "https://churn.example/crawler",
            },
            "outputSafeguards": {
                "description": "Filters against verbatim reproduction.",
                "termsProhibitInfringement": True,
            },
            "complaints": {
                "contact": "copyright@churn.example",
                "procedure": {"url": "https://churn.example/complaints"},
            },
            "reviewBy": (today + dt.timedelta(days=365)).isoformat(),
        },
    }


def _pod_spec() -> Obj:
    return {"containers": [{"name": "server", "image": "registry.example/inference:1"}]}


def deployment(namespace: str, name: str, model_name: str | None) -> Obj:
    labels = {"app": name, **({MODEL_LABEL: model_name} if model_name else {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": _pod_spec()},
        },
    }


def pod(namespace: str, name: str, model_name: str | None, owner: Mapping[str, Any] | None = None) -> Obj:
    """A Pod; with `owner` (a Deployment as the API returned it), one that Deployment controls."""
    metadata: Obj = {"name": name, "namespace": namespace}
    if model_name:
        metadata["labels"] = {MODEL_LABEL: model_name}
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": _pod_spec()}


def path_of(obj: Mapping[str, Any]) -> str:
    """The object's REST path (namespaced kinds only)."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    root = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    plural = {"GPAIModel": "gpaimodels", "ModelDocumentation": "modeldocumentations"}.get(kind)
    plural = plural or {"CopyrightPolicy": "copyrightpolicies"}.get(kind) or kind.lower() + "s"
    return f"{root}/namespaces/{obj['metadata']['namespace']}/{plural}/{obj['metadata']['name']}"


# ---- the churn ----------------------------------------------------------------------------------
class Churn:
    """Random operations (seeded) on models, evidence and workloads in `namespaces`."""

    def __init__(
        self, api_client: ApiClient, namespaces: Iterable[str], *, today: dt.date, seed: int = 0
    ) -> None:
        self.api = api_client
        self.namespaces = list(namespaces)
        self.today = today
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._serial = 0
        # What we believe exists: (namespace, name) -> current version / model label.
        self.models: dict[tuple[str, str], str] = {}
        self.documented: dict[tuple[str, str], str] = {}  # model -> the version its documentation names
        self.deployments: dict[tuple[str, str], str | None] = {}
        self.pods: dict[tuple[str, str], str | None] = {}
        self.copyright: set[str] = set()
        # Population caps (None: none): at a cap, an operation that would create deletes instead, so
        # a long run churns around a steady population.
        self.max_models: int | None = None
        self.max_workloads: int | None = None
        self.operations: list[tuple[int, Callable[[], None]]] = [
            (6, self.create_model),
            (3, self.delete_model),
            (4, self.bump_version),
            (6, self.document),
            (3, self.undocument),
            (1, self.toggle_copyright),
            (8, self.create_workload),
            (6, self.relabel_workload),
            (5, self.delete_workload),
            (2, self.create_controlled_pod),
        ]

    # ---- requests ---------------------------------------------------------------------------------
    def _request(self, what: str, method: str, path: str, body: Any = None, **options: Any) -> Any:
        """One request; counted as `what` or `what failed`; None on failure (404 on DELETE counts
        as done: it is gone)."""
        try:
            answer = request_json(self.api, method, path, body=body, timeout=REQUEST_TIMEOUT, **options)
        except ApiException as error:
            if method == "DELETE" and error.status == 404:
                self._count(what)
                return {}
            self._count(f"{what} failed ({error.status})")
            return None
        except (OSError, urllib3.exceptions.HTTPError):
            self._count(f"{what} failed (unreachable)")
            return None
        self._count(what)
        return answer if answer is not None else {}

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def create(self, what: str, obj: Obj) -> Any:
        return self._request(what, "POST", path_of(obj).rpartition("/")[0], obj)

    def patch(self, what: str, obj: Obj, body: Obj) -> Any:
        return self._request(what, "PATCH", path_of(obj), body, content_type=MERGE_PATCH)

    def delete(self, what: str, obj: Obj) -> Any:
        return self._request(what, "DELETE", path_of(obj), query=[("gracePeriodSeconds", "0")])

    # ---- choices ----------------------------------------------------------------------------------
    def _name(self, prefix: str) -> str:
        with self._lock:
            self._serial += 1
            return f"{prefix}-{self._serial:05d}"

    def _pick(self, table: Mapping[tuple[str, str], Any]) -> tuple[str, str] | None:
        with self._lock:
            keys = list(table)
        return self.random.choice(keys) if keys else None

    def _some_model(self, namespace: str) -> str | None:
        """A model of the namespace, now and then one that does not exist (UnknownModel)."""
        with self._lock:
            names = [name for ns, name in self.models if ns == namespace]
        if not names or self.random.random() < 0.05:
            return "no-such-model"
        return self.random.choice(names)

    # ---- operations -------------------------------------------------------------------------------
    def _at_cap(self, table: Mapping[tuple[str, str], Any], cap: int | None, extra: int = 0) -> bool:
        with self._lock:
            return cap is not None and len(table) + extra >= cap

    def create_model(self, namespace: str | None = None, documented: bool | None = None) -> None:
        if self._at_cap(self.models, self.max_models):
            self.delete_model()
            return
        namespace = namespace or self.random.choice(self.namespaces)
        name = self._name("model")
        if self.create("create model", model(namespace, name, self.today)) is not None:
            with self._lock:
                self.models[(namespace, name)] = "1.0"
            if documented if documented is not None else self.random.random() < 0.5:
                self._document(namespace, name, "1.0")

    def delete_model(self) -> None:
        """A model goes, and its documentation with it (documentation of models long gone would
        otherwise pile up over a long run)."""
        key = self._pick(self.models)
        if key and self.delete("delete model", model(*key, self.today)) is not None:
            with self._lock:
                self.models.pop(key, None)
                documented = self.documented.pop(key, None) is not None
            if documented:
                self.delete("delete documentation", documentation(*key, "1.0", self.today))

    def bump_version(self) -> None:
        key = self._pick(self.models)
        if key is None:
            return
        with self._lock:
            major, _, minor = self.models.get(key, "1.0").partition(".")
            version = f"{major}.{int(minor or 0) + 1}"
        if self.patch("bump model version", model(*key, self.today), {"spec": {"version": version}}):
            with self._lock:
                if key in self.models:
                    self.models[key] = version

    def document(self) -> None:
        """Documentation for a model's current version: created, or moved to it."""
        key = self._pick(self.models)
        if key is not None:
            with self._lock:
                version = self.models.get(key, "1.0")
            self._document(*key, version)

    def _document(self, namespace: str, name: str, version: str) -> None:
        doc = documentation(namespace, name, version, self.today)
        with self._lock:
            exists = (namespace, name) in self.documented
        if exists:
            done = self.patch("move documentation", doc, {"spec": {"modelVersion": version}})
        else:
            done = self.create("create documentation", doc)
        if done is not None:
            with self._lock:
                self.documented[(namespace, name)] = version

    def undocument(self) -> None:
        key = self._pick(self.documented)
        if key and self.delete("delete documentation", documentation(*key, "1.0", self.today)) is not None:
            with self._lock:
                self.documented.pop(key, None)

    def toggle_copyright(self) -> None:
        namespace = self.random.choice(self.namespaces)
        policy = copyright_policy(namespace, self.today)
        if namespace in self.copyright:
            if self.delete("delete copyright policy", policy) is not None:
                self.copyright.discard(namespace)
        elif self.create("create copyright policy", policy) is not None:
            self.copyright.add(namespace)

    def _workloads_at_cap(self) -> bool:
        return self._at_cap(self.deployments, self.max_workloads, len(self.pods))

    def create_workload(self, namespace: str | None = None) -> None:
        if self._workloads_at_cap():
            self.delete_workload()
            return
        namespace = namespace or self.random.choice(self.namespaces)
        label = None if self.random.random() < 0.1 else self._some_model(namespace)
        if self.random.random() < 0.6:
            name = self._name("deploy")
            if self.create("create deployment", deployment(namespace, name, label)) is not None:
                with self._lock:
                    self.deployments[(namespace, name)] = label
        else:
            name = self._name("pod")
            if self.create("create pod", pod(namespace, name, label)) is not None:
                with self._lock:
                    self.pods[(namespace, name)] = label

    def relabel_workload(self) -> None:
        table = self.deployments if self.random.random() < 0.6 else self.pods
        key = self._pick(table)
        if key is None:
            return
        label = None if self.random.random() < 0.15 else self._some_model(key[0])
        obj = deployment(*key, None) if table is self.deployments else pod(*key, None)
        if self.patch("relabel workload", obj, {"metadata": {"labels": {MODEL_LABEL: label}}}):
            with self._lock:
                if key in table:
                    table[key] = label

    def delete_workload(self) -> None:
        table = self.deployments if self.random.random() < 0.6 else self.pods
        key = self._pick(table)
        if key is None:
            return
        obj = deployment(*key, None) if table is self.deployments else pod(*key, None)
        if self.delete("delete workload", obj) is not None:
            with self._lock:
                table.pop(key, None)

    def create_controlled_pod(self) -> None:
        """A Pod as a Deployment's controller would make it (the Deployment carries the verdict)."""
        if self._workloads_at_cap():
            self.delete_workload()
            return
        key = self._pick(self.deployments)
        if key is None:
            return
        owner = self._request("read deployment", "GET", path_of(deployment(*key, None)))
        if not owner:
            return
        name = self._name("controlled-pod")
        label = ((owner.get("metadata") or {}).get("labels") or {}).get(MODEL_LABEL)
        if self.create("create controlled pod", pod(key[0], name, label, owner)) is not None:
            with self._lock:
                self.pods[(key[0], name)] = label

    def step(self) -> None:
        """One operation, chosen by weight."""
        weights = [weight for weight, _ in self.operations]
        self.random.choices([op for _, op in self.operations], weights)[0]()

    # ---- driving ----------------------------------------------------------------------------------
    def populate(self, models: int, documented: float, workloads: int, workers: int = 8) -> None:
        """The starting point: each namespace's copyright policy, `models` models (a `documented`
        share with documentation) and `workloads` workloads, spread over the namespaces."""
        for namespace in self.namespaces:
            if self.create("create copyright policy", copyright_policy(namespace, self.today)) is not None:
                self.copyright.add(namespace)
        documented_count = round(models * documented)
        with ThreadPoolExecutor(workers) as pool:
            for index in range(models):
                namespace = self.namespaces[index % len(self.namespaces)]
                pool.submit(self.create_model, namespace, index < documented_count)
        with ThreadPoolExecutor(workers) as pool:
            for index in range(workloads):
                pool.submit(self.create_workload, self.namespaces[index % len(self.namespaces)])

    def run(self, seconds: float, rate: float, workers: int = 4, stop: threading.Event | None = None) -> int:
        """Operations at `rate` per second for `seconds` (or until `stop` is set), `workers` at a
        time; returns how many were started. A slow API server lowers the rate, never queues up."""
        started = time.monotonic()
        stop = stop or threading.Event()
        issued = 0
        lock = threading.Lock()

        def worker() -> None:
            nonlocal issued
            while not stop.is_set():
                with lock:
                    due = started + issued / rate
                    issued += 1
                if due - started >= seconds:
                    return
                delay = due - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
                self.step()

        threads = [threading.Thread(target=worker, name=f"churn-{i}", daemon=True) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(count for name, count in self.counts.items() if "failed" not in name)

    def in_background(self, seconds: float, rate: float, workers: int = 4) -> Background:
        return Background(self, seconds, rate, workers)


class Background:
    """`Churn.run` in a thread: `stop()` ends it early, `join()` waits for it."""

    def __init__(self, churn: Churn, seconds: float, rate: float, workers: int) -> None:
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=churn.run, args=(seconds, rate, workers, self.stopping), name="churn", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
