"""What `gpai check` reads: files, folders, stdin, Lists, JSON; numbers, dates and namespaces."""

from __future__ import annotations

import json

from tests.cli.helpers import deployment, documents, evidence, model, policy, run_gpai

COMPLIANT = documents(model(), evidence(), deployment())


def test_a_compliant_model_and_its_workload_exit_0(write) -> None:
    path = write("app.yaml", COMPLIANT)

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 0, run.stdout + run.stderr
    report = run.json
    assert [m["name"] for m in report["models"] if m["compliant"]] == ["acme"]
    assert report["workloads"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "namespace": "ml",
            "name": "chat",
            "model": "acme",
            "decision": "Allow",
            "unmet": [],
        }
    ]


def test_json_has_exactly_the_documented_shape(write) -> None:
    path = write("app.yaml", documents(model(copyrightPolicyRef=None), deployment()))

    report = run_gpai("check", str(path), "-o", "json").json

    assert list(report) == ["models", "workloads", "errors"]
    (acme,) = report["models"]
    assert list(acme) == ["namespace", "name", "compliant", "classification", "obligations"]
    # SPEC section 5's four flags, then what was added: the Code of Practice chapters signed
    assert list(acme["classification"]) == [
        "systemicRisk",
        "openSourceExempt",
        "legacy",
        "euProvider",
        "codeOfPractice",
        "role",
    ]
    assert acme["classification"]["codeOfPractice"] == "T,C"
    assert all(list(o) == ["id", "status", "message"] for o in acme["obligations"])
    assert {o["id"] for o in acme["obligations"]} >= {"copyright/policy", "systemic-risk/evaluation"}
    (chat,) = report["workloads"]
    assert list(chat) == ["apiVersion", "kind", "namespace", "name", "model", "decision", "unmet"]
    assert chat["decision"] == "Deny"
    assert chat["unmet"] == sorted(chat["unmet"])
    assert "copyright/policy" in chat["unmet"]


def test_stdin(write) -> None:
    run = run_gpai("check", "-", "-o", "json", stdin=COMPLIANT)

    assert run.code == 0, run.stderr
    assert [w["name"] for w in run.json["workloads"]] == ["chat"]


def test_stdin_errors_are_named_stdin() -> None:
    run = run_gpai("check", "-", stdin="kind: Deployment\n")

    assert run.code == 2
    assert run.error_lines == ["<stdin>#1: error: not a Kubernetes object: apiVersion required"]


def test_folders_are_read_recursively_for_yaml_yml_and_json(write, tmp_path) -> None:
    write("team/models/acme.yaml", model())
    write("team/models/evidence.yml", evidence())
    json_deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "from-json", "namespace": "ml", "labels": {"gpai.dev/model": "acme"}},
    }
    write("team/deploy/app.json", json.dumps(json_deployment))
    write("team/deploy/notes.txt", "not a manifest: not read")
    write("team/.git/config.yaml", "not: read, a dot-folder")

    run = run_gpai("check", str(tmp_path), "-o", "json")

    assert run.code == 0, run.stderr
    assert [w["name"] for w in run.json["workloads"]] == ["from-json"]
    assert [m["name"] for m in run.json["models"]] == ["acme"]


def test_an_empty_folder_is_an_input_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()

    run = run_gpai("check", str(tmp_path / "empty"))

    assert run.code == 2
    assert run.error_lines == [
        f"{tmp_path / 'empty'}: error: no *.yaml, *.yml or *.json files in this folder"
    ]


def test_kind_list_items_are_objects(write) -> None:
    items = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "ml"}},
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": "j1", "namespace": "ml", "labels": {"gpai.dev/model": "acme"}},
                },
            ],
        }
    )
    path = write("list.yaml", documents(model(), evidence(), items))

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 0, run.stderr
    assert sorted((w["kind"], w["name"], w["decision"]) for w in run.json["workloads"]) == [
        ("Job", "j1", "Allow"),
        ("Pod", "p1", "Allow"),
    ]


def test_numbers_in_exponent_form_are_numbers(write) -> None:
    # PyYAML reads 3.8e25 and 1e25 as strings (YAML 1.1); Kubernetes reads numbers. So does gpai check.
    path = write(
        "models.yaml",
        documents(
            model("big", trainingCompute="{flops: 3.8e25}"),
            model("threshold", trainingCompute="{flops: 1e25}"),
            model("small", trainingCompute="{flops: 9.9e24}"),
            model("quoted", trainingCompute='{flops: "3.8e25"}'),
        ),
    )

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 0, run.stderr
    systemic = {m["name"]: m["classification"]["systemicRisk"] for m in run.json["models"]}
    # Art. 51(2): strictly greater than 1e25 FLOP
    assert systemic == {"big": True, "threshold": False, "small": False, "quoted": True}


def test_unquoted_and_quoted_dates_are_dates(write) -> None:
    path = write(
        "models.yaml",
        documents(
            model("unquoted", euMarketDate="2025-06-01"),
            model("quoted", euMarketDate='"2025-06-01"'),
            model("recent", euMarketDate="2025-08-02"),
        ),
    )

    legacy = {
        m["name"]: m["classification"]["legacy"]
        for m in run_gpai("check", str(path), "-o", "json").json["models"]
    }

    assert legacy == {"unquoted": True, "quoted": True, "recent": False}


def test_objects_without_a_namespace_are_in_default(write) -> None:
    path = write("app.yaml", documents(model(namespace="default"), deployment(namespace=None)))
    text = path.read_text().replace("  namespace: default\n", "")
    path.write_text(text)

    report = run_gpai("check", str(path), "-o", "json").json

    assert [(m["namespace"], m["name"]) for m in report["models"]] == [("default", "acme")]
    assert [(w["namespace"], w["model"]) for w in report["workloads"]] == [("default", "acme")]


def test_namespace_objects_carry_their_labels(write) -> None:
    # The staged pack: Deny only where gpai.dev/enforce=true, Warn elsewhere.
    namespace = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels: {gpai.dev/enforce: 'true'}\n"
    )
    path = write(
        "app.yaml",
        documents(
            namespace,
            model(namespace="prod", copyrightPolicyRef=None),
            deployment(namespace="prod"),
            model(namespace="dev", copyrightPolicyRef=None),
            deployment(namespace="dev"),
        ),
    )

    run = run_gpai("check", str(path), "--policy", "policies/eu-ai-act-staged.yaml", "-o", "json")

    assert run.code == 1
    decisions = {w["namespace"]: w["decision"] for w in run.json["workloads"]}
    assert decisions == {"prod": "Deny", "dev": "Warn"}


def test_kinds_we_do_not_evaluate_are_accepted_and_ignored(write) -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: chat, namespace: ml}\nspec: {ports: [{port: 80}]}\n"
    )
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
    path = write("app.yaml", documents(COMPLIANT, service, config))

    run = run_gpai("check", str(path), "-o", "json")

    assert run.code == 0, run.stderr
    assert [w["kind"] for w in run.json["workloads"]] == ["Deployment"]


def test_controlled_objects_are_judged_offline(write) -> None:
    """No requester identity offline: an ownerReference proves nothing, every workload is judged."""
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: chat-abc\n  namespace: ml\n"
        "  labels: {gpai.dev/model: acme}\n"
        "  ownerReferences:\n"
        "    - {apiVersion: apps/v1, kind: ReplicaSet, name: chat-x, uid: u1, controller: true}\n"
    )
    replica_set = (
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: chat-x\n  namespace: ml\n"
        "  labels: {gpai.dev/model: acme}\n"
    )
    controller = "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: chat-rc\n  namespace: ml\n"
    path = write("app.yaml", documents(model(copyrightPolicyRef=None), pod, replica_set, controller))

    run = run_gpai("check", str(path), "-o", "json")

    kinds = {w["kind"]: w for w in run.json["workloads"]}
    assert set(kinds) == {"Pod", "ReplicaSet", "ReplicationController"}
    assert kinds["Pod"]["decision"] == "Deny"
    assert kinds["ReplicaSet"]["decision"] == "Deny"
    assert kinds["ReplicationController"]["model"] is None
    assert run.code == 1


def test_a_configured_workload_kind_is_judged(write) -> None:
    rollout = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: chat\n  namespace: ml\n"
        "  labels: {gpai.dev/model: acme}\nspec: {template: {}}\n"
    )
    path = write("app.yaml", documents(model(copyrightPolicyRef=None), rollout))
    kind = "argoproj.io/v1alpha1/rollouts:Rollout:spec.template"

    without = run_gpai("check", str(path), "-o", "json")
    with_kind = run_gpai("check", str(path), "--workload-kind", kind, "-o", "json")
    bad = run_gpai("check", str(path), "--workload-kind", "rollouts")

    assert (without.code, without.json["workloads"]) == (0, [])
    assert with_kind.code == 1
    assert [(w["kind"], w["decision"]) for w in with_kind.json["workloads"]] == [("Rollout", "Deny")]
    assert bad.code == 2
    assert "--workload-kind" in bad.stderr
    assert "GROUP/VERSION/RESOURCE:KIND:PATH" in bad.stderr


def test_policy_option_replaces_the_policies_among_the_inputs(write) -> None:
    path = write(
        "app.yaml", documents(model(copyrightPolicyRef=None), deployment(), policy("warn", "[Warn]"))
    )
    audit = write("audit.yaml", policy("audit-only", "[Audit]"))

    with_inputs = run_gpai("check", str(path), "-o", "json")
    with_option = run_gpai("check", str(path), "--policy", str(audit), "-o", "json")

    assert (with_inputs.code, with_inputs.json["workloads"][0]["decision"]) == (0, "Warn")
    assert (with_option.code, with_option.json["workloads"][0]["decision"]) == (0, "Allow")
    assert "copyright/policy" in with_option.json["workloads"][0]["unmet"]  # audited, still listed
    assert (
        "note: 1 CompliancePolicy object(s) among the inputs not used: --policy was given"
        in with_option.stderr
    )


def test_policy_option_is_repeatable(write) -> None:
    path = write("app.yaml", documents(model(copyrightPolicyRef=None), deployment()))
    audit = write("audit.yaml", policy("audit-only", "[Audit]"))
    deny = write("deny.yaml", policy("deny-all", "[Deny]"))

    run = run_gpai("check", str(path), "--policy", str(audit), "--policy", str(deny))

    assert run.code == 1
    assert run.stdout.splitlines()[0] == (
        "Evaluated at 2026-11-28T00:00:00Z under audit-only [Audit], deny-all [Deny]"
    )


def test_without_any_policy_the_built_in_eu_ai_act_policy_denies(write) -> None:
    path = write("app.yaml", documents(model(copyrightPolicyRef=None), deployment()))

    run = run_gpai("check", str(path))

    assert run.code == 1
    assert "under eu-ai-act [Deny] (built-in) policies/eu-ai-act.yaml" in run.stdout.splitlines()[0]


def test_policy_option_rejects_other_kinds(write) -> None:
    path = write("app.yaml", COMPLIANT)

    run = run_gpai("check", str(path), "--policy", str(path))

    assert run.code == 2
    assert f"{path}#1: error: kind: --policy takes CompliancePolicy objects, not GPAIModel" in run.error_lines


def _expiring(valid_until: str) -> str:
    return f"""apiVersion: gpai.dev/v1alpha1
kind: GPAIModel
metadata: {{name: acme, namespace: ml}}
spec:
  modelName: Acme
  version: "1"
  provider: {{name: Acme, establishedInEU: true}}
  systemicRisk:
    designated: true
---
apiVersion: gpai.dev/v1alpha1
kind: RiskEvaluation
metadata: {{name: red-team, namespace: ml}}
spec:
  modelRef: {{name: acme}}
  modelVersion: "1"
  type: AdversarialTesting
  risks: [Cbrn]
  completed: 2026-01-01
  validUntil: {valid_until}
  outcome: Acceptable
"""


def _red_team_status(path, now: str) -> str:
    (acme,) = run_gpai("check", str(path), "--now", now, "-o", "json").json["models"]
    return next(o["status"] for o in acme["obligations"] if o["id"] == "systemic-risk/adversarial-testing")


def test_now_as_a_date_is_midnight_utc_and_a_limit_includes_its_day(write) -> None:
    path = write("m.yaml", _expiring("2026-12-01"))

    assert _red_team_status(path, "2026-12-01") == "Met"
    assert _red_team_status(path, "2026-12-02") == "Expired"


def test_now_as_rfc3339_with_an_offset_is_converted_to_utc(write) -> None:
    path = write("m.yaml", _expiring("2026-12-01"))

    assert _red_team_status(path, "2026-12-01T23:59:59Z") == "Met"
    assert _red_team_status(path, "2026-12-02T00:30:00+01:00") == "Met"  # still 2026-12-01 in UTC
    assert _red_team_status(path, "2026-12-02T00:00:00Z") == "Expired"


def test_now_must_be_a_date_or_rfc3339() -> None:
    for bad in ("tomorrow", "2026-11-28T10:00:00", "2026-02-30"):
        run = run_gpai("check", "examples/", "--now", bad)
        assert run.code == 2, bad
        assert "argument --now" in run.stderr
