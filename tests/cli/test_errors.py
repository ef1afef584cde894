"""Unusable input: every problem reported with its source and field, all in one run, exit 2."""

from __future__ import annotations

from tests.cli.helpers import deployment, documents, evidence, model, run_gpai

BAD_DOCUMENTS = documents(
    model(),  # 1: fine
    "just: a mapping\n",  # 2: not a Kubernetes object
    model("no-version", version=None, provider="{name: Acme, establishedInEU: maybe}", colour="blue"),  # 3
    """apiVersion: gpai.dev/v1alpha1
kind: RiskEvaluation
metadata: {name: backwards, namespace: ml}
spec:
  modelRef: {name: acme}
  modelVersion: "1.0"
  type: Evaluation
  risks: [Cbrn]
  completed: 2026-05-01
  validUntil: 2026-04-01
  outcome: Acceptable
""",  # 4: the CEL rule validUntil >= completed
    "apiVersion: gpai.dev/v1alpha1\nkind: ModelCard\nmetadata: {name: card, namespace: ml}\nspec: {}\n",  # 5
    # 6: an item without apiVersion
    "apiVersion: v1\nkind: List\nitems:\n  - {kind: Pod, metadata: {name: p}}\n",
    deployment("chat"),  # 7: fine, served by acme
)


def test_every_problem_is_reported_with_its_source_and_field_in_one_run(write, tmp_path) -> None:
    write("models.yaml", BAD_DOCUMENTS)
    write("syntax.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n")
    write("z.json", '{"apiVersion": "v1", "kind": "Pod",}')

    run = run_gpai("check", str(tmp_path))

    assert run.code == 2
    models, syntax, json_file = (str(tmp_path / name) for name in ("models.yaml", "syntax.yaml", "z.json"))
    assert run.error_lines == [
        f"{models}#2: error: not a Kubernetes object: apiVersion and kind required",
        f"{models}#3: error: GPAIModel ml/no-version: spec.version: required",
        f"{models}#3: error: GPAIModel ml/no-version: spec.provider.establishedInEU: "
        "Input should be a valid boolean",
        f"{models}#3: error: GPAIModel ml/no-version: spec.colour: unknown field",
        f"{models}#4: error: RiskEvaluation ml/backwards: spec.validUntil: "
        "validUntil must not be before completed",
        f"{models}#5: error: ModelCard ml/card: kind: gpai.dev/v1alpha1 ModelCard is not a kind of gpai.dev "
        "(CompliancePolicy, CopyrightPolicy, GPAIModel, ModelDocumentation, RiskEvaluation, SeriousIncident)",
        f"{models}#6: error: not a Kubernetes object: items[0].apiVersion required",
        f"{syntax}#1: error: invalid YAML at line 4, column 1: while parsing a flow sequence "
        "(from line 3, column 18), "
        "did not find expected ',' or ']'",
        f"{json_file}#1: error: invalid JSON at line 1, column 36: "
        "Expecting property name enclosed in double quotes",
    ]


def test_the_report_of_the_valid_objects_is_still_printed(write) -> None:
    path = write("models.yaml", BAD_DOCUMENTS)

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 2  # not 1, although chat is denied: the input is unusable
    report = run.json
    assert [m["name"] for m in report["models"]] == ["acme"]
    assert [(w["name"], w["decision"]) for w in report["workloads"]] == [("chat", "Deny")]
    assert len(report["errors"]) == 7
    assert report["errors"][0] == {
        "source": f"{path}#2",
        "message": "not a Kubernetes object: apiVersion and kind required",
    }
    assert len(run.error_lines) == 7  # and on stderr too
    assert run.stdout.count("\n") > 3


def test_the_table_summary_says_there_were_input_errors(write) -> None:
    path = write("models.yaml", BAD_DOCUMENTS)

    run = run_gpai("check", str(path))

    assert run.stdout.splitlines()[-1].endswith("7 input errors (on stderr): exit 2.")


def test_documents_after_a_syntax_error_are_still_read(write) -> None:
    path = write(
        "app.yaml", documents("apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n", model(), evidence())
    )

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 2
    assert [e["source"] for e in run.json["errors"]] == [f"{path}#1"]
    assert [m["name"] for m in run.json["models"]] == ["acme"]


def test_a_document_that_is_not_an_object(write) -> None:
    path = write("app.yaml", documents("- a\n- list\n", "just a string\n", "apiVersion: v1\n"))

    run = run_gpai("check", str(path))

    assert run.error_lines == [
        f"{path}#1: error: not a Kubernetes object (found a list)",
        f"{path}#2: error: not a Kubernetes object (found a string)",
        f"{path}#3: error: not a Kubernetes object: kind required",
    ]


def test_duplicate_keys_and_duplicate_objects_are_errors(write) -> None:
    duplicate_key = model().replace("  modelName: Acme\n", "  modelName: Acme\n  modelName: Other\n")
    path = write("app.yaml", documents(duplicate_key, deployment(), deployment()))

    run = run_gpai("check", str(path))

    assert run.code == 2
    assert run.error_lines == [
        f"{path}#1: error: spec.modelName: duplicate key (line 8)",
        f"{path}#3: error: Deployment ml/chat: also defined at {path}#2",
    ]


def test_a_workload_needs_a_name(write) -> None:
    path = write("app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: ml}\n")

    run = run_gpai("check", str(path))

    assert (run.code, run.error_lines) == (2, [f"{path}#1: error: Deployment: metadata.name: required"])


def test_missing_paths_and_unknown_flags_exit_2(tmp_path) -> None:
    missing = run_gpai("check", str(tmp_path / "nope.yaml"))
    flag = run_gpai("check", "examples/", "--colour")
    no_path = run_gpai("check")

    assert (missing.code, missing.error_lines) == (
        2,
        [f"{tmp_path / 'nope.yaml'}: error: no such file or folder"],
    )
    assert flag.code == 2
    assert "unrecognized arguments: --colour" in flag.stderr
    assert no_path.code == 2
    assert "the following arguments are required: PATH" in no_path.stderr


def test_unsupported_yaml_is_reported_not_ignored(write) -> None:
    path = write(
        "app.yaml",
        documents(
            model().replace("modelName: Acme", "modelName: !secret acme-name"),
            "apiVersion: gpai.dev/v1alpha1\nkind: GPAIModel\nmetadata: &m {name: loop, labels: *m}\n",
        ),
    )

    run = run_gpai("check", str(path))

    assert run.code == 2
    assert (
        run.error_lines[0]
        == f"{path}#1: error: spec.modelName: invalid YAML at line 7: unsupported tag !secret"
    )
    assert run.error_lines[1].startswith(f"{path}#2: error: ")
