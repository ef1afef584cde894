"""The committed CRDs are exactly what the API models generate, and they say what users need."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gpai_operator import crdgen
from gpai_operator.api.kinds import ADMISSION_VERDICTS, CRD_KINDS, KINDS

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"


@pytest.mark.parametrize("kind", CRD_KINDS, ids=lambda k: k.kind)
def test_committed_crd_matches_the_models(kind):
    committed = (CRDS / crdgen.file_name(kind)).read_text()
    assert committed == crdgen.render(kind), f"crds/ is stale: run `make crds` ({kind.kind})"


def test_no_stray_files_in_crds():
    assert sorted(p.name for p in CRDS.glob("*.yaml")) == sorted(crdgen.file_name(k) for k in CRD_KINDS)


def _walk(schema, path="spec"):
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("kind", CRD_KINDS, ids=lambda k: k.kind)
def test_schema_is_structural_and_bounded(kind):
    crd = yaml.safe_load(crdgen.render(kind))
    version = crd["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    for part in ("spec", "status"):
        for path, schema in _walk(root["properties"][part], part):
            assert "type" in schema, f"{path} has no type"
            assert not {"anyOf", "oneOf", "$ref", "default", "title"} & schema.keys(), path
            if schema["type"] == "string" and "enum" not in schema and schema.get("format") != "date":
                assert "maxLength" in schema or "pattern" in schema, f"{path} is an unbounded string"
            if schema["type"] == "array":
                assert "maxItems" in schema, f"{path} is an unbounded list"
            if isinstance(schema.get("additionalProperties"), dict):
                assert "maxProperties" in schema, f"{path} is an unbounded map"
    names = crd["spec"]["names"]
    assert names["categories"] == ["gpai"]
    assert names["shortNames"]
    assert version["subresources"] == {"status": {}}
    assert version["additionalPrinterColumns"][-1]["name"] == "Age"


def test_gpaimodel_printer_columns_answer_the_first_question():
    crd = yaml.safe_load(crdgen.render(KINDS[0]))
    columns = [
        c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"] if not c.get("priority")
    ]
    assert columns == ["Version", "Role", "Systemic", "CoP Signed", "Compliant", "Reason", "Age"]


def test_required_fields_follow_the_spec():
    def required(kind_name, *path):
        crd = yaml.safe_load(crdgen.render(next(k for k in KINDS if k.kind == kind_name)))
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        for step in path:
            schema = schema["properties"][step]
        return set(schema.get("required", []))

    assert required("GPAIModel") == {"modelName", "version", "provider"}
    assert required("GPAIModel", "provider") == {"name", "establishedInEU"}
    assert required("ModelDocumentation") == {"modelRef", "modelVersion", "lastUpdated"}
    assert required("CopyrightPolicy") == {"document"}
    assert required("RiskEvaluation") == {
        "modelRef", "modelVersion", "type", "risks", "completed", "validUntil", "outcome"
    }  # fmt: skip
    assert required("CompliancePolicy") == {"validationActions"}
    assert required("SeriousIncident") == {"modelRef", "modelVersion", "category", "aware"}
    assert required("GPAIModel", "derivedFrom") == {"modelName", "provider"}
    crd = yaml.safe_load(crdgen.render(KINDS[4]))
    exception = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "exceptions"
    ]["items"]
    assert set(exception["required"]) == {"namespace", "model", "reason", "expires"}


def test_the_native_gates_parameter_has_every_field_its_policies_read() -> None:
    """The policies' CEL reads these without has(): the API server must refuse an object without them."""
    crd = yaml.safe_load(crdgen.render(ADMISSION_VERDICTS))
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert set(spec["required"]) == {"models", "deny", "warn", "audit"}
    for action in ("deny", "warn", "audit"):
        section = spec["properties"][action]
        assert set(section["required"]) == {"models", "unlabelled", "unknownModel"}
        assert set(section["properties"]["models"]["additionalProperties"]["required"]) == {
            "policies",
            "unmet",
        }


def test_the_operators_output_is_not_a_kind_the_engine_reads() -> None:
    assert ADMISSION_VERDICTS in CRD_KINDS
    assert ADMISSION_VERDICTS not in KINDS
    assert crdgen.file_name(ADMISSION_VERDICTS) == "gpai.dev_admissionverdicts.yaml"
