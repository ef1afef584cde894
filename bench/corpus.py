"""Generated manifest corpora for the benchmarks: models with their evidence, and workloads.

`write_corpus(folder, models=1000, workloads=5000)` writes one multi-document YAML file per model
(the GPAIModel, its ModelDocumentation and RiskEvaluations), one file of CopyrightPolicies per
namespace, one file of workloads per namespace, the Namespaces and two CompliancePolicies. Objects
look like real ones (full documentation forms, Deployments with a pod template) so that parsing cost
is realistic. Content is deterministic for a given size.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

MODELS_PER_NAMESPACE = 50
MODELS_PER_PROVIDER = 10
WORKLOAD_KINDS = ("Deployment", "Deployment", "StatefulSet", "Job", "CronJob", "Pod", "InferenceService")


@dataclass(frozen=True)
class CorpusInfo:
    folder: Path
    files: int
    objects: int
    models: int
    workloads: int
    bytes: int

    def as_dict(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "files": self.files,
            "objects": self.objects,
            "models": self.models,
            "workloads": self.workloads,
            "bytes": self.bytes,
        }


def _namespace(index: int) -> str:
    return f"team-{index // MODELS_PER_NAMESPACE:03d}"


def _model_name(index: int) -> str:
    return f"model-{index:05d}"


def _namespace_doc(name: str, enforce: bool) -> str:
    return f"""apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels:
    gpai.dev/enforce: "{"true" if enforce else "false"}"
    team: {name}
"""


POLICIES = """apiVersion: gpai.dev/v1alpha1
kind: CompliancePolicy
metadata:
  name: enforce
spec:
  validationActions: [Deny]
  namespaceSelector:
    matchLabels:
      gpai.dev/enforce: "true"
  requireModelLabel: true
---
apiVersion: gpai.dev/v1alpha1
kind: CompliancePolicy
metadata:
  name: warn
spec:
  validationActions: [Warn]
  namespaceSelector:
    matchExpressions:
      - {key: gpai.dev/enforce, operator: NotIn, values: ["true"]}
"""


def _copyright_doc(namespace: str, provider: int) -> str:
    return f"""apiVersion: gpai.dev/v1alpha1
kind: CopyrightPolicy
metadata:
  name: provider-{provider:04d}-copyright
  namespace: {namespace}
spec:
  provider: Provider {provider} GmbH
  document:
    url: https://provider-{provider}.example/legal/copyright-policy.pdf
    sha256: "{provider:064x}"
    version: "2"
  crawling:
    respectsRobotsTxt: true
    optOutProtocols: [robots.txt, TDMRep, ai.txt]
    respectsPaywalls: true
    excludesInfringingSites: true
    crawlerDisclosure: https://provider-{provider}.example/crawler
  outputSafeguards:
    description: Output filters against verbatim reproduction of protected works.
    termsProhibitInfringement: true
  complaints:
    contact: copyright@provider-{provider}.example
    procedure:
      url: https://provider-{provider}.example/legal/copyright-complaints
  reviewBy: 2027-06-30
"""


def _model_docs(index: int) -> str:
    namespace, name = _namespace(index), _model_name(index)
    provider = index // MODELS_PER_PROVIDER
    systemic = index % 2 == 0
    flops = "3.8e25" if systemic else "4.2e23"
    broken = index % 7 == 0  # some models miss evidence, so decisions vary
    parts = [
        f"""apiVersion: gpai.dev/v1alpha1
kind: GPAIModel
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/part-of: model-catalogue
spec:
  modelName: Model {index}
  version: "{1 + index % 3}.{index % 10}"
  provider:
    name: Provider {provider} GmbH
    establishedInEU: {"true" if provider % 3 else "false"}
    authorisedRepresentative:
      name: EU Representative {provider} SARL
      contact: eu-rep@provider-{provider}.example
    codeOfPractice:
      transparency: Signatory
      copyright: Signatory
      safetyAndSecurity: Signatory
  euMarketDate: 2025-10-01
  modalities:
    input: [text, image]
    output: [text]
  trainingCompute:
    flops: {flops}
    method: HardwareBased
  license:
    name: Proprietary
    openSource: false
    weightsPublic: false
    monetised: true
  copyrightPolicyRef:
    name: provider-{provider:04d}-copyright
  trainingContentSummary:
    url: https://provider-{provider}.example/models/{name}/training-content-summary
    updated: 2026-09-15
  systemicRisk:
    designated: false
    notified: 2025-07-20
    framework:
      url: https://provider-{provider}.example/safety/framework.pdf
      assessed: 2026-03-01
    modelReport:
      url: https://provider-{provider}.example/safety/{name}-model-report.pdf
      updated: 2026-09-01
    incidentReporting:
      contact: incidents@provider-{provider}.example
      procedure:
        url: https://provider-{provider}.example/safety/incident-procedure
    cybersecurity:
      url: https://provider-{provider}.example/safety/security-measures.pdf
""",
        f"""apiVersion: gpai.dev/v1alpha1
kind: ModelDocumentation
metadata:
  name: {name}-documentation
  namespace: {namespace}
spec:
  modelRef:
    name: {name}
  modelVersion: "{1 + index % 3}.{index % 10}"
  documentVersion: "3"
  lastUpdated: 2026-09-01
  general:
    legalName: Provider {provider} GmbH
    modelName: Model {index}
    authenticity:
      sha256: "{index:064x}"
    releaseDate: 2025-09-15
    euReleaseDate: 2025-10-01
    dependencies: []
  properties:
    architecture: Decoder-only transformer with mixture-of-experts layers
    designSpecification: 64 layers, 128 experts, 2 active per token
    parameterCount: 7.1e11
    inputModalities:
      - {{modality: text, maxSize: "128000 tokens"}}
      - {{modality: image, maxSize: "20 MB"}}
    outputModalities:
      - {{modality: text, maxSize: "8192 tokens"}}
  distribution:
    channels: [api, cloud-marketplace]
    license:
      name: Proprietary
      url: https://provider-{provider}.example/legal/model-licence
  use:
    acceptableUsePolicy: https://provider-{provider}.example/legal/acceptable-use
    intendedUses: [chat assistants, document summarisation, code completion]
    prohibitedUses: [biometric categorisation, social scoring]
    integrationSystems: [chatbots, retrieval-augmented generation pipelines]
    integrationMeans: HTTPS API and SDKs
    requiredHardware: none for API use
    requiredSoftware: any HTTPS client
  training:
    designSpecification: Pre-training on next-token prediction, then RLHF.
    decisionRationale: Mixture of experts for inference efficiency.
  data:
    types: [text, code, images]
    provenance: [WebCrawled, ThirdPartyLicensed, SyntheticNonPublic]
    acquisition: Crawled with a disclosed crawler; licensed corpora.
    dataPoints: {{count: 1.5e13, unit: tokens}}
    scope: Multilingual web text up to 2025-03.
    curation: Deduplication, quality filtering, PII scrubbing.
    unsuitableContentMeasures: CSAM hash matching, toxicity classifiers.
    biasMeasures: Demographic balance audits on samples.
  compute:
    trainingTimeDays: 92
    trainingFlops: {flops}
    methodology: Hardware-based estimate (GPU hours x peak throughput x utilisation).
  energy:
    trainingMWh: 21000
    methodology: Metered data-centre consumption.
  systemicRisk:
    evaluationStrategy: Internal and third-party evaluations for each specified risk.
    adversarialTesting: Quarterly red-teaming by an external firm.
    systemArchitecture: Model served behind moderation and rate limiting.
  contact: docs@provider-{provider}.example
""",
    ]
    if systemic:
        risks = ("Cbrn", "LossOfControl", "CyberOffence", "HarmfulManipulation")
        for risk in risks[:1] if broken else risks:
            parts.append(_evaluation(index, f"eval-{risk.lower()}", "Evaluation", [risk]))
        parts.append(_evaluation(index, "redteam", "AdversarialTesting", ["Cbrn", "CyberOffence"]))
    return "---\n".join(parts)


def _evaluation(index: int, suffix: str, kind: str, risks: list[str]) -> str:
    namespace, name = _namespace(index), _model_name(index)
    return f"""apiVersion: gpai.dev/v1alpha1
kind: RiskEvaluation
metadata:
  name: {name}-{suffix}
  namespace: {namespace}
spec:
  modelRef:
    name: {name}
  modelVersion: "{1 + index % 3}.{index % 10}"
  type: {kind}
  risks: [{", ".join(risks)}]
  performedBy:
    organisation: Independent Evaluators Ltd
    independent: true
  completed: 2026-08-15
  validUntil: 2027-08-15
  outcome: Acceptable
  report:
    url: https://evals.example/reports/{name}-{suffix}.pdf
  mitigations: [refusal training, output classifiers]
"""


def _pod_spec(model: str, indent: str) -> str:
    lines = f"""containers:
  - name: server
    image: registry.example/inference/vllm:0.9.1
    args: ["--model", "/models/{model}", "--max-model-len", "32768"]
    ports:
      - {{containerPort: 8000, name: http}}
    env:
      - {{name: MODEL_NAME, value: {model}}}
      - {{name: LOG_LEVEL, value: info}}
    resources:
      requests: {{cpu: "4", memory: 32Gi, nvidia.com/gpu: "1"}}
      limits: {{memory: 32Gi, nvidia.com/gpu: "1"}}
    readinessProbe:
      httpGet: {{path: /health, port: http}}
      periodSeconds: 10
    volumeMounts:
      - {{name: weights, mountPath: /models, readOnly: true}}
volumes:
  - name: weights
    persistentVolumeClaim: {{claimName: {model}-weights}}
"""
    return "".join(indent + line + "\n" for line in lines.splitlines())


def _workload(index: int, models: int) -> str:
    model_index = index % models
    namespace, model = _namespace(model_index), _model_name(model_index)
    kind = WORKLOAD_KINDS[index % len(WORKLOAD_KINDS)]
    name = f"{model}-{kind.lower()}-{index:06d}"
    label = "" if index % 50 == 0 else f"\n    gpai.dev/model: {model}"
    if index % 97 == 0:
        label = "\n    gpai.dev/model: no-such-model"
    metadata = f"""metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app.kubernetes.io/name: {name}{label}
"""
    if kind == "Pod":
        return f"apiVersion: v1\nkind: Pod\n{metadata}spec:\n{_pod_spec(model, '  ')}"
    if kind == "InferenceService":
        return f"""apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
{metadata}spec:
  predictor:
    minReplicas: 1
    model:
      modelFormat: {{name: huggingface}}
      storageUri: s3://models/{model}
      resources:
        limits: {{nvidia.com/gpu: "1"}}
"""
    template = f"""    template:
      metadata:
        labels:
          app.kubernetes.io/name: {name}
      spec:
{_pod_spec(model, "        ")}"""
    if kind == "Job":
        return f"""apiVersion: batch/v1
kind: Job
{metadata}spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
{_pod_spec(model, "      ")}"""
    if kind == "CronJob":
        return f"""apiVersion: batch/v1
kind: CronJob
{metadata}spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
{_pod_spec(model, "          ")}"""
    selector = f"  selector:\n    matchLabels:\n      app.kubernetes.io/name: {name}\n"
    extra = f"  serviceName: {name}\n" if kind == "StatefulSet" else ""
    return (
        f"apiVersion: apps/v1\nkind: {kind}\n{metadata}spec:\n  replicas: 2\n{extra}{selector}{template[2:]}"
    )


def _service(index: int, models: int) -> str:
    model_index = index % models
    namespace, model = _namespace(model_index), _model_name(model_index)
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {model}-svc-{index:06d}
  namespace: {namespace}
spec:
  selector:
    app.kubernetes.io/name: {model}
  ports:
    - {{name: http, port: 80, targetPort: http}}
"""


def write_corpus(folder: Path, models: int = 1000, workloads: int = 5000) -> CorpusInfo:
    """Write a corpus into `folder` (created); returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    files = objects = size = 0

    def write(relative: str, documents: list[str]) -> None:
        nonlocal files, objects, size
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "---\n".join(documents)
        path.write_text(text)
        files += 1
        objects += text.count("\napiVersion: ") + (1 if text.startswith("apiVersion: ") else 0)
        size += len(text.encode())

    namespaces = sorted({_namespace(i) for i in range(models)})
    write(
        "cluster.yaml",
        [POLICIES, *(_namespace_doc(ns, i % 2 == 0) for i, ns in enumerate(namespaces))],
    )
    for namespace_index, namespace in enumerate(namespaces):
        first = namespace_index * MODELS_PER_NAMESPACE
        indices = range(first, min(first + MODELS_PER_NAMESPACE, models))
        providers = sorted({i // MODELS_PER_PROVIDER for i in indices})
        write(f"{namespace}/copyright.yaml", [_copyright_doc(namespace, p) for p in providers])
        for index in indices:
            write(f"{namespace}/models/{_model_name(index)}.yaml", [_model_docs(index)])
    by_namespace: dict[str, list[str]] = {}
    for index in range(workloads):
        documents = by_namespace.setdefault(_namespace(index % models), [])
        documents.append(_workload(index, models))
        if index % 10 == 0:  # a Service now and then: a kind `gpai check` accepts and ignores
            documents.append(_service(index, models))
    for namespace, documents in by_namespace.items():
        write(f"{namespace}/workloads.yaml", documents)
    return CorpusInfo(folder, files, objects, models, workloads, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--workloads", type=int, default=5000)
    args = parser.parse_args()
    info = write_corpus(args.folder, args.models, args.workloads)
    print(json.dumps(info.as_dict(), indent=2))


if __name__ == "__main__":
    main()
