"""What the `gpai check` tests share: running the INSTALLED command, and small manifests.

`gpai` is the console script next to the interpreter running pytest (the virtual environment's
bin/). Every run pins `--now` unless a test sets it, so results never depend on the calendar.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
POLICIES = REPO / "policies"
NOW = "2026-11-28"
GPAI = Path(sys.executable).with_name("gpai")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if ": error: " in line]


def run_gpai(
    *args: str, stdin: str | None = None, cwd: Path = REPO, env: dict[str, str] | None = None
) -> Run:
    arguments = list(args)
    if arguments[:1] == ["check"] and not any(a == "--now" or a.startswith("--now=") for a in arguments):
        arguments += ["--now", NOW]
    environment = {
        key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "GPAI_CHECK_JOBS")
    }
    environment.update(env or {})
    done = subprocess.run(
        [str(GPAI), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


# ---- small manifests the tests combine -------------------------------------------------------
def model(name: str = "acme", namespace: str = "ml", **spec: str) -> str:
    """A GPAIModel without systemic risk; spec lines given as keyword arguments override the defaults."""
    fields = {
        "modelName": "Acme",
        "version": '"1.0"',
        "provider": (
            "{name: Acme AI GmbH, establishedInEU: true, "
            "codeOfPractice: {transparency: Signatory, copyright: Signatory}}"
        ),
        "euMarketDate": "2026-01-15",
        "trainingCompute": "{flops: 2.0e23}",
        "license": "{name: Proprietary, openSource: false, weightsPublic: false, monetised: true}",
        "copyrightPolicyRef": "{name: acme-copyright}",
        "trainingContentSummary": "{url: 'https://acme.example/summary', updated: 2026-10-01}",
        **spec,
    }
    body = "\n".join(f"  {key}: {value}" for key, value in fields.items() if value is not None)
    return f"""apiVersion: gpai.dev/v1alpha1
kind: GPAIModel
metadata:
  name: {name}
  namespace: {namespace}
spec:
{body}
"""


def evidence(model_name: str = "acme", namespace: str = "ml", version: str = "1.0") -> str:
    """The documentation and copyright policy a model without systemic risk needs to be compliant."""
    return f"""apiVersion: gpai.dev/v1alpha1
kind: ModelDocumentation
metadata:
  name: {model_name}-docs
  namespace: {namespace}
spec:
  modelRef: {{name: {model_name}}}
  modelVersion: "{version}"
  lastUpdated: 2026-10-01
  general: {{legalName: Acme AI GmbH, modelName: Acme, releaseDate: 2026-01-15}}
  properties:
    architecture: transformer
    parameterCount: 7.0e9
    inputModalities: [{{modality: text, maxSize: "8k tokens"}}]
    outputModalities: [{{modality: text, maxSize: "2k tokens"}}]
  distribution: {{channels: [api], license: {{name: Proprietary}}}}
  use:
    acceptableUsePolicy: https://acme.example/aup
    intendedUses: [chat]
    integrationSystems: [assistants]
    integrationMeans: HTTPS API
  training: {{designSpecification: pre-training then tuning}}
  data:
    types: [text]
    provenance: [WebCrawled]
    acquisition: crawled with a disclosed crawler
    dataPoints: {{count: 1.0e12, unit: tokens}}
    scope: English web text up to 2025-06
    curation: deduplication
    unsuitableContentMeasures: toxicity filter
    biasMeasures: balance audit
  compute: {{trainingTimeDays: 12, trainingFlops: 2.0e23, methodology: hardware}}
  energy: {{trainingMWh: 50}}
  contact: docs@acme.example
---
apiVersion: gpai.dev/v1alpha1
kind: CopyrightPolicy
metadata:
  name: {model_name}-copyright
  namespace: {namespace}
spec:
  document: {{url: https://acme.example/copyright}}
  crawling:
    respectsRobotsTxt: true
    optOutProtocols: [robots.txt]
    respectsPaywalls: true
    excludesInfringingSites: true
  outputSafeguards: {{description: output filter, termsProhibitInfringement: true}}
  complaints: {{contact: legal@acme.example}}
  reviewBy: 2027-10-01
"""


def deployment(name: str = "chat", namespace: str | None = "ml", model_name: str | None = "acme") -> str:
    namespace_line = f"\n  namespace: {namespace}" if namespace else ""
    label = f"\n    gpai.dev/model: {model_name}" if model_name else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{namespace_line}
  labels:
    app: {name}{label}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: server, image: registry.example/server:1}}]
"""


def policy(name: str = "deny-all", actions: str = "[Deny]", extra: str = "") -> str:
    return f"""apiVersion: gpai.dev/v1alpha1
kind: CompliancePolicy
metadata:
  name: {name}
spec:
  validationActions: {actions}{extra}
"""


def documents(*parts: str) -> str:
    return "---\n".join(parts)


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def only(kind: type[T], items: Iterable[object]) -> list[T]:
    """`items`, each asserted to be a `kind` (a loader's Document, Manifest or InputError)."""
    found = list(items)
    assert all(isinstance(item, kind) for item in found), found
    return cast(list[T], found)
