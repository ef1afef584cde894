"""Our API surface is real: the API server itself serves, lists, validates and splits our kinds.

Nothing here runs the operator. What is checked is what a user of a plain cluster sees once the
CRDs from crds/ are installed: kubectl-style tables, the API server's own validation errors, the
status subresource, and that every manifest in examples/ is accepted.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient, ApiextensionsV1Api
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.namespaces import create_namespace, delete_namespace
from gpai_operator.testing.rest import TABLE, request_json

REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION = "gpai.dev", "v1alpha1"
CRDS = {
    crd["spec"]["names"]["kind"]: crd
    for path in sorted((REPO / "crds").glob("*.yaml"))
    for crd in yaml.safe_load_all(path.read_text())
    if crd and crd.get("kind") == "CustomResourceDefinition"
}
SHORT_NAMES = {  # SPEC section 2
    "GPAIModel": "gpai",
    "ModelDocumentation": "mdoc",
    "CopyrightPolicy": "cpol",
    "RiskEvaluation": "reval",
    "CompliancePolicy": "gpaipol",
    "SeriousIncident": "sinc",  # issue 10
    "AdmissionVerdicts": "gpaiv",  # the operator's own output, the native gate's parameter
}
# The smallest spec of each kind that the SPEC's required fields allow.
NO_FINDINGS: dict[str, Any] = {"models": {}, "unlabelled": [], "unknownModel": []}
MINIMAL_SPECS: dict[str, dict[str, Any]] = {
    "AdmissionVerdicts": {"models": {}, "deny": NO_FINDINGS, "warn": NO_FINDINGS, "audit": NO_FINDINGS},
    "GPAIModel": {
        "modelName": "Acme-LLM",
        "version": "3.1",
        "provider": {"name": "Acme AI GmbH", "establishedInEU": True},
    },
    "ModelDocumentation": {
        "modelRef": {"name": "acme-llm"},
        "modelVersion": "3.1",
        "lastUpdated": "2026-09-01",
    },
    "CopyrightPolicy": {"document": {"url": "https://acme.example/copyright-policy.pdf"}},
    "RiskEvaluation": {
        "modelRef": {"name": "acme-llm"},
        "modelVersion": "3.1",
        "type": "Evaluation",
        "risks": ["Cbrn", "CyberOffence"],
        "completed": "2026-03-01",
        "validUntil": "2027-03-01",
        "outcome": "Acceptable",
    },
    "SeriousIncident": {
        "modelRef": {"name": "acme-llm"},
        "modelVersion": "3.1",
        "category": "Cybersecurity",
        "aware": "2026-11-20",
    },
    # Selects no namespace, so an operator running elsewhere in the session is not affected.
    "CompliancePolicy": {
        "validationActions": ["Audit"],
        "namespaceSelector": {"matchLabels": {"gpai.dev/selected-by": "no-namespace"}},
    },
}


class Kind:
    """One of our kinds, as its CRD declares it, with the API paths to reach its objects."""

    def __init__(self, crd: dict[str, Any]) -> None:
        self.crd = crd
        self.name: str = crd["spec"]["names"]["kind"]
        self.plural: str = crd["spec"]["names"]["plural"]
        self.namespaced = crd["spec"]["scope"] == "Namespaced"
        self.version = next(v for v in crd["spec"]["versions"] if v["name"] == VERSION)

    def path(self, namespace: str, name: str = "", subresource: str = "") -> str:
        scope = f"/namespaces/{namespace}" if self.namespaced else ""
        return "/".join(filter(None, [f"/apis/{GROUP}/{VERSION}{scope}/{self.plural}", name, subresource]))

    def manifest(self, name: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": self.name,
            "metadata": {"name": name},
            "spec": copy.deepcopy(MINIMAL_SPECS[self.name] if spec is None else spec),
        }

    def printer_columns(self) -> list[dict[str, Any]]:
        return self.version.get("additionalPrinterColumns", [])

    def spec_schema(self, *path: str) -> dict[str, Any]:
        schema = self.version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        for part in path:
            schema = schema["properties"][part]
        return schema


KINDS = {name: Kind(crd) for name, crd in CRDS.items()}


@pytest.fixture
def create(api_client: ApiClient, namespace: str) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    """Creates objects of our kinds (namespaced ones in the test's namespace); deletes the cluster-scoped."""
    cluster_scoped: list[str] = []

    def create(manifest: dict[str, Any]) -> dict[str, Any]:
        kind = KINDS[manifest["kind"]]
        created = request_json(api_client, "POST", kind.path(namespace), body=manifest)
        if not kind.namespaced:
            cluster_scoped.append(kind.path(namespace, created["metadata"]["name"]))
        return created

    yield create
    for path in cluster_scoped:
        request_json(api_client, "DELETE", path)


def test_the_crds_define_the_six_kinds_of_the_spec_and_the_operators_verdicts():
    assert set(KINDS) == set(SHORT_NAMES)


def test_every_kind_is_established_and_discoverable_by_short_name_and_category(api_client: ApiClient):
    crds = ApiextensionsV1Api(api_client)
    for kind in KINDS.values():
        conditions = {
            c.type: c.status
            for c in crds.read_custom_resource_definition(kind.crd["metadata"]["name"]).status.conditions
        }
        assert conditions["Established"] == "True", kind.name
        assert conditions["NamesAccepted"] == "True", kind.name

    resources = {
        r["name"]: r for r in request_json(api_client, "GET", f"/apis/{GROUP}/{VERSION}")["resources"]
    }
    for kind in KINDS.values():
        resource = resources[kind.plural]
        assert resource["kind"] == kind.name
        assert resource["namespaced"] is kind.namespaced
        assert SHORT_NAMES[kind.name] in resource["shortNames"], "kubectl get <short name>"
        assert "gpai" in resource["categories"], "kubectl get gpai lists every kind of the group"
        assert f"{kind.plural}/status" in resources, "status is a subresource"


@pytest.mark.parametrize("kind_name", sorted(SHORT_NAMES))
def test_listing_a_kind_shows_its_printer_columns(api_client, namespace, create, kind_name):
    kind = KINDS[kind_name]
    created = create(kind.manifest("acme-llm"))

    table = request_json(api_client, "GET", kind.path(namespace), accept=TABLE)

    columns = [column["name"] for column in table["columnDefinitions"]]
    assert columns == ["Name"] + [column["name"] for column in kind.printer_columns()]
    [row] = [row for row in table["rows"] if row["cells"][0] == "acme-llm"]
    cells = dict(zip(columns, row["cells"], strict=True))
    for column in kind.printer_columns():
        value = _simple_path(created, column["jsonPath"])
        if column["type"] == "string" and isinstance(value, str):
            assert cells[column["name"]] == value, column["name"]


def test_kubectl_get_gpai_answers_whether_a_model_is_compliant(api_client, namespace, create):
    gpai = KINDS["GPAIModel"]
    model = create(gpai.manifest("acme-llm"))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    model["status"] = {
        "observedGeneration": 1,
        "classification": {
            "systemicRisk": True,
            "openSourceExempt": False,
            "legacy": False,
            "euProvider": True,
            "codeOfPractice": "S",
            "role": "ModifierProvider",
        },
        "conditions": [
            {"type": "Compliant", "status": "False", "reason": "ObligationsUnmet", "lastTransitionTime": now},
        ],
    }
    request_json(api_client, "PUT", gpai.path(namespace, "acme-llm", "status"), body=model)

    table = request_json(api_client, "GET", gpai.path(namespace), accept=TABLE)

    columns = [column["name"] for column in table["columnDefinitions"]]
    [row] = table["rows"]
    shown = dict(zip(columns, row["cells"], strict=True))
    assert shown["Name"] == "acme-llm"
    assert shown["Version"] == "3.1"
    assert shown["Systemic"] is True
    assert shown["CoP Signed"] == "S"  # the provider signed only the Safety and Security chapter
    assert shown["Role"] == "ModifierProvider"  # a fine-tune above a third of its original's compute
    assert shown["Compliant"] == "False"
    assert shown["Reason"] == "ObligationsUnmet"
    assert "Age" in shown
    wide_only = {c["name"] for c in table["columnDefinitions"] if c["priority"] > 0}
    assert {"Version", "Role", "Systemic", "CoP Signed", "Compliant", "Reason"}.isdisjoint(wide_only), (
        "shown without -o wide"
    )


def _without(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, leaf = path.split(".")

    def edit(spec: dict[str, Any]) -> None:
        for part in parents:
            spec = spec[part]
        del spec[leaf]

    return edit


def _with(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec.update(values)


MODEL_NAME_LIMIT = KINDS["GPAIModel"].spec_schema("modelName")["maxLength"] if "GPAIModel" in KINDS else 256


@pytest.mark.parametrize(
    ("kind_name", "edit", "field", "message"),
    [
        pytest.param(
            "GPAIModel", _without("version"), "spec.version", "Required value", id="model-without-version"
        ),
        pytest.param(
            "GPAIModel",
            _without("provider.establishedInEU"),
            "spec.provider.establishedInEU",
            "Required value",
            id="provider-without-establishedInEU",
        ),
        pytest.param(
            "RiskEvaluation",
            _with(type="Audit"),
            "spec.type",
            "Unsupported value",
            id="unknown-evaluation-type",
        ),
        pytest.param(
            "RiskEvaluation",
            _with(completed="2026-03-01", validUntil="2026-02-28"),
            "spec.validUntil",
            "validUntil must not be before completed",
            id="valid-until-before-completed",
        ),
        pytest.param(
            "GPAIModel",
            _with(modelName="x" * (MODEL_NAME_LIMIT + 1)),
            "spec.modelName",
            "Too long",
            id="over-long-model-name",
        ),
        pytest.param(
            "CopyrightPolicy",
            _with(document={"url": "http://acme.example/policy.pdf"}),
            "spec.document.url",
            "should match",
            id="document-over-plain-http",
        ),
        pytest.param(
            "GPAIModel",
            lambda spec: spec["provider"].update(codeOfPractice={"copyright": "Yes"}),
            "spec.provider.codeOfPractice.copyright",
            "Unsupported value",
            id="code-of-practice-adherence-not-an-enum-value",
        ),
        pytest.param(
            "CompliancePolicy",
            _with(parameters={"requireSignatory": ["Copyright", "Copyright"]}),
            "spec.parameters.requireSignatory[1]",
            "Duplicate value",
            id="require-signatory-twice-the-same-chapter",
        ),
        pytest.param(
            "SeriousIncident",
            _with(initialReport="2026-11-19"),
            "spec.initialReport",
            "initialReport must not be before aware",
            id="incident-reported-before-it-was-known",
        ),
        pytest.param(
            "SeriousIncident",
            _with(intermediateReports=["2026-12-01"]),
            "spec.intermediateReports",
            "intermediateReports need an initialReport",
            id="incident-intermediate-report-without-initial",
        ),
        pytest.param(
            "SeriousIncident",
            _with(finalReport="2026-12-20"),
            "spec.finalReport",
            "finalReport needs resolved",
            id="incident-final-report-before-resolution",
        ),
        pytest.param(
            "SeriousIncident",
            _with(category="Outage"),
            "spec.category",
            "Unsupported value",
            id="incident-category-not-in-the-code",
        ),
        pytest.param(
            "GPAIModel",
            _with(derivedFrom={"modelName": "Lumen-8B"}),
            "spec.derivedFrom.provider",
            "Required value",
            id="derived-from-without-provider",
        ),
        pytest.param(
            "CompliancePolicy",
            _with(validationActions=["Deny", "Warn"]),
            "spec.validationActions",
            "Deny and Warn cannot be combined",
            id="deny-and-warn-together",
        ),
    ],
)
def test_the_api_server_rejects_an_invalid_object_naming_the_field(
    api_client, namespace, create, kind_name, edit, field, message
) -> None:
    kind = KINDS[kind_name]
    manifest = kind.manifest("invalid")
    edit(manifest["spec"])

    with pytest.raises(ApiException) as rejected:
        create(manifest)

    status = json.loads(rejected.value.body)
    assert rejected.value.status == 422, status
    assert status["reason"] == "Invalid"
    assert field in {cause.get("field") for cause in status["details"]["causes"]}, status["message"]
    assert message in status["message"]


def test_spec_and_status_are_written_through_separate_doors(api_client, namespace, create):
    gpai = KINDS["GPAIModel"]
    manifest = gpai.manifest("acme-llm")
    manifest["status"] = {"workloads": 7}

    # Status sent with the object itself is dropped: only the status subresource writes it.
    model = create(manifest)
    assert "status" not in model or "workloads" not in model["status"]
    assert model["metadata"]["generation"] == 1

    # The operator writes status; spec sent along is ignored and the generation stays.
    status_write = copy.deepcopy(model)
    status_write["spec"]["version"] = "9.9"
    status_write["status"] = {"observedGeneration": 1, "workloads": 3}
    model = request_json(api_client, "PUT", gpai.path(namespace, "acme-llm", "status"), body=status_write)
    assert model["spec"]["version"] == "3.1"
    assert model["status"] == {"observedGeneration": 1, "workloads": 3}
    assert model["metadata"]["generation"] == 1

    # A user updates spec; status sent along is ignored and the generation moves on.
    user_write = copy.deepcopy(model)
    user_write["spec"]["version"] = "3.2"
    user_write["status"] = {"observedGeneration": 2, "workloads": 0}
    model = request_json(api_client, "PUT", gpai.path(namespace, "acme-llm"), body=user_write)
    assert model["spec"]["version"] == "3.2"
    assert model["status"] == {"observedGeneration": 1, "workloads": 3}
    assert model["metadata"]["generation"] == 2


# ---- examples/ ----------------------------------------------------------------------------------


class KubernetesYamlLoader(yaml.SafeLoader):
    """Reads YAML as kubectl does: `2026-09-01` stays a string and `3.8e25` is a number."""


KubernetesYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
KubernetesYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


def _example_documents() -> list[Any]:
    params = []
    for path in sorted((REPO / "examples").rglob("*.y*ml")):
        for index, document in enumerate(yaml.load_all(path.read_text(), Loader=KubernetesYamlLoader)):
            is_list = bool(document) and document.get("kind") == "List"
            for position, item in enumerate(document.get("items", []) if is_list else [document]):
                if not item:
                    continue
                source = f"{path.relative_to(REPO)}#{index}" + (f".items[{position}]" if is_list else "")
                params.append(
                    pytest.param(item, id=f"{source}:{item.get('kind')}/{item['metadata'].get('name')}")
                )
    return params


EXAMPLES = _example_documents()


def test_there_are_examples_to_check():
    assert EXAMPLES, "examples/ holds no manifests"


@pytest.fixture(scope="module")
def served_kinds(cluster, api_client: ApiClient) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> discovery record, for every kind the API server serves."""
    served = {}
    for root in ("/api", "/apis"):
        discovery = request_json(
            api_client,
            "GET",
            root,
            accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        )
        for group in discovery["items"]:
            group_name = group["metadata"].get("name", "")
            for version in group["versions"]:
                api_version = f"{group_name}/{version['version']}" if group_name else version["version"]
                for resource in version.get("resources", []):
                    kind = resource["responseKind"]["kind"]
                    served[(api_version, kind)] = {"prefix": f"/{root.strip('/')}/{api_version}", **resource}
    return served


@pytest.fixture(scope="module")
def example_namespace(cluster, api_client: ApiClient) -> Iterator[Callable[[str], str]]:
    """A fresh namespace standing in for each namespace the examples name (as `kubectl -n` would)."""
    stand_ins: dict[str, str] = {}

    def stand_in(name: str) -> str:
        if name not in stand_ins:
            stand_ins[name] = create_namespace(api_client, f"examples-{name}")
        return stand_ins[name]

    yield stand_in
    for name in stand_ins.values():
        delete_namespace(api_client, name, purge=not cluster.runs_controllers)


@pytest.mark.parametrize("manifest", EXAMPLES)
def test_every_example_is_accepted_by_the_api_server(api_client, served_kinds, example_namespace, manifest):
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    resource = served_kinds.get((api_version, kind))
    assert resource, f"the API server does not serve {kind} in {api_version}"

    path = resource["prefix"]
    if resource["scope"] == "Namespaced":
        namespace = example_namespace(manifest["metadata"].get("namespace", "default"))
        manifest["metadata"]["namespace"] = namespace
        path += f"/namespaces/{namespace}"
    path += f"/{resource['resource']}"

    dry_run = [("dryRun", "All"), ("fieldManager", "gpai-examples")]
    try:
        if "name" in manifest["metadata"]:
            # Server-side apply: accepted whether or not the object (say, a Namespace) already exists.
            accepted = request_json(
                api_client,
                "PATCH",
                f"{path}/{manifest['metadata']['name']}",
                query=[*dry_run, ("force", "true")],
                body=manifest,
                content_type="application/apply-patch+yaml",
            )
        else:
            accepted = request_json(api_client, "POST", path, query=dry_run, body=manifest)
    except ApiException as refused:
        pytest.fail(f"the API server refused it: {json.loads(refused.body)['message']}", pytrace=False)
    assert accepted["kind"] == kind


def _simple_path(obj: dict[str, Any], json_path: str) -> Any:
    """The value at a plain `.a.b.c` JSONPath, or None for anything fancier or absent."""
    if not re.fullmatch(r"(\.\w+)+", json_path):
        return None
    value: Any = obj
    for part in json_path.strip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]
