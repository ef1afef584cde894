"""The API models accept what Kubernetes accepts and reject what it rejects, naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from gpai_operator import objects
from gpai_operator.engine import ClusterState


def load(text: str) -> dict:
    return yaml.safe_load(text)


def errors_of(obj: dict) -> list[str]:
    with pytest.raises(objects.InvalidObject) as caught:
        objects.apply(ClusterState(), obj)
    return [str(e) for e in caught.value.errors]


MODEL = """
apiVersion: gpai.dev/v1alpha1
kind: GPAIModel
metadata: {name: acme-llm, namespace: ml}
spec:
  modelName: Acme-LLM
  version: "3.1"
  provider: {name: Acme AI GmbH, establishedInEU: true}
  euMarketDate: 2025-09-01
  trainingCompute: {flops: 3.8e25}
"""


def test_numbers_written_as_yaml_strings_are_numbers_and_unquoted_dates_are_dates():
    state = ClusterState()
    objects.apply(state, load(MODEL))
    spec = state.models[("ml", "acme-llm")].spec
    assert spec.training_compute.flops == 3.8e25
    assert spec.eu_market_date == dt.date(2025, 9, 1)


def test_a_quoted_date_reads_the_same_as_an_unquoted_one():
    state = ClusterState()
    objects.apply(state, load(MODEL.replace("2025-09-01", '"2025-09-01"')))
    assert state.models[("ml", "acme-llm")].spec.eu_market_date == dt.date(2025, 9, 1)


def test_a_version_written_as_a_number_is_rejected_like_the_api_server_does():
    assert errors_of(load(MODEL.replace('"3.1"', "3.1"))) == ["spec.version: Input should be a valid string"]


def test_missing_required_fields_are_all_named():
    obj = load(MODEL)
    del obj["spec"]["version"]
    del obj["spec"]["provider"]["establishedInEU"]
    assert errors_of(obj) == ["spec.version: Field required", "spec.provider.establishedInEU: Field required"]


def test_a_typo_in_a_field_name_is_an_error_not_silently_dropped():
    obj = load(MODEL)
    obj["spec"]["trainingCompute"]["flop"] = 1
    assert errors_of(obj) == ["spec.trainingCompute.flop: Extra inputs are not permitted"]


def test_booleans_are_strict():
    obj = load(MODEL)
    obj["spec"]["provider"]["establishedInEU"] = "yes"
    assert errors_of(obj) == ["spec.provider.establishedInEU: Input should be a valid boolean"]


def test_dates_must_be_calendar_dates():
    obj = load(MODEL)
    obj["spec"]["euMarketDate"] = "01/09/2025"
    assert errors_of(obj) == ["spec.euMarketDate: Value error, must be a date written as YYYY-MM-DD"]


def test_evaluation_valid_until_before_completed_breaks_the_cel_rule():
    evaluation = load("""
apiVersion: gpai.dev/v1alpha1
kind: RiskEvaluation
metadata: {name: eval, namespace: ml}
spec: {modelRef: {name: acme-llm}, modelVersion: "3.1", type: Evaluation, risks: [Cbrn],
       completed: 2026-05-02, validUntil: 2026-05-01, outcome: Acceptable}
""")
    assert errors_of(evaluation) == ["spec.validUntil: validUntil must not be before completed"]
    evaluation["spec"]["validUntil"] = dt.date(2026, 5, 2)
    objects.apply(ClusterState(), evaluation)  # the same day is fine


@pytest.mark.parametrize(
    ("actions", "valid"),
    [(["Deny"], True), (["Warn"], True), (["Audit"], True), (["Warn", "Audit"], True),
     (["Deny", "Warn"], False), (["Deny", "Deny"], False), ([], False), (["Block"], False)],
)  # fmt: skip
def test_validation_actions_follow_validating_admission_policy(actions, valid):
    policy = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": "p"},
        "spec": {"validationActions": actions},
    }
    if valid:
        objects.apply(ClusterState(), policy)
    else:
        assert all(e.startswith("spec.validationActions") for e in errors_of(policy))


def test_document_urls_must_use_a_known_scheme_and_training_summary_must_be_public():
    obj = load(MODEL)
    obj["spec"]["trainingContentSummary"] = {"url": "s3://bucket/summary.pdf"}
    obj["spec"]["systemicRisk"] = {"cybersecurity": {"url": "ftp://example.com/x"}}
    errors = errors_of(obj)
    assert [e.split(":")[0] for e in errors] == [
        "spec.trainingContentSummary.url",
        "spec.systemicRisk.cybersecurity.url",
    ]


def test_code_of_practice_adherence_and_alternative_means_are_checked_like_the_api_server_does():
    obj = load(MODEL)
    obj["spec"]["provider"]["codeOfPractice"] = {"transparency": "Signatory", "copyright": "Yes"}
    obj["spec"]["provider"]["alternativeMeans"] = [
        {"chapter": "Safety", "document": {"url": "https://acme.example/measures"}},
        {"chapter": "Copyright"},
    ]
    obj["spec"]["systemicRisk"] = {"thresholdMet": "2025-07-10", "rebuttal": {"submitted": "2025-07-20"}}
    assert [e.split(":")[0] for e in errors_of(obj)] == [
        "spec.provider.codeOfPractice.copyright",
        "spec.provider.alternativeMeans[0].chapter",
        "spec.provider.alternativeMeans[1].document",
        "spec.systemicRisk.rebuttal.outcome",
    ]


def test_every_new_field_reads_as_written():
    obj = load(MODEL)
    obj["spec"]["provider"]["codeOfPractice"] = {
        "safetyAndSecurity": "Signatory",
        "transparency": "NonSignatory",
    }
    obj["spec"]["provider"]["alternativeMeans"] = [
        {"chapter": "Transparency", "document": {"url": "https://acme.example/m"}, "updated": "2026-01-10"}
    ]
    obj["spec"]["systemicRisk"] = {"thresholdMet": "2025-07-10", "rebuttal": {"outcome": "Pending"}}
    state = ClusterState()
    objects.apply(state, obj)
    spec = state.models[("ml", "acme-llm")].spec
    assert spec.provider.code_of_practice.adherence("SafetyAndSecurity") == "Signatory"
    assert spec.provider.code_of_practice.adherence("Copyright") is None
    assert spec.provider.alternative_means[0].updated == dt.date(2026, 1, 10)
    assert spec.systemic_risk.threshold_met == dt.date(2025, 7, 10)
    assert spec.systemic_risk.rebuttal.outcome == "Pending"


@pytest.mark.parametrize(
    ("chapters", "valid"),
    [([], True), (["SafetyAndSecurity"], True), (["Transparency", "Copyright", "SafetyAndSecurity"], True),
     (["Copyright", "Copyright"], False), (["Safety"], False)],
)  # fmt: skip
def test_require_signatory_is_a_set_of_chapters(chapters, valid):
    policy = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "CompliancePolicy",
        "metadata": {"name": "p"},
        "spec": {"validationActions": ["Deny"], "parameters": {"requireSignatory": chapters}},
    }
    if valid:
        objects.apply(ClusterState(), policy)
    else:
        assert all(e.startswith("spec.parameters.requireSignatory") for e in errors_of(policy))


def test_an_unknown_kind_of_our_group_is_named():
    errors = errors_of(
        {"apiVersion": "gpai.dev/v1alpha1", "kind": "GPAIThing", "metadata": {"name": "x"}, "spec": {}}
    )
    assert errors[0].startswith("kind: gpai.dev/v1alpha1 GPAIThing is not a kind of gpai.dev")


def test_every_model_declaring_cel_rules_also_runs_them():
    from gpai_operator.api import kinds  # noqa: F401  (imports every API module)
    from gpai_operator.api.base import ApiModel, CelCheckedModel

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    declaring = {m for m in subclasses(ApiModel) if m.cel_rules}
    assert declaring, "the API declares CEL rules"
    assert {m.__name__ for m in declaring if not issubclass(m, CelCheckedModel)} == set()
