"""`gpai check examples/`: the story a newcomer runs first, with every decision it should show."""

from __future__ import annotations

import re

from tests.cli.helpers import EXAMPLES, by_name, run_gpai

EXPECTED_WORKLOADS = {
    # name: (kind, namespace, model, decision, unmet)
    "aurora-chat": ("Deployment", "prod-chat", "aurora-2", "Allow", []),
    "aurora-serving": ("InferenceService", "prod-chat", "aurora-2", "Allow", []),
    "borealis-preview": (
        "Deployment",
        "prod-chat",
        "borealis-1",
        "Deny",
        ["systemic-risk/adversarial-testing", "systemic-risk/evaluation", "systemic-risk/risk-acceptance"],
    ),
    "embedding-probe": ("Pod", "prod-chat", None, "Deny", ["workload/model-declared"]),
    "lumen-batch": ("StatefulSet", "ml-research", "lumen-8b", "Allow", []),
    "sable-nightly-eval": ("CronJob", "ml-research", "sable-2", "Allow", []),
    "kestrel-finetune": (
        "Job",
        "ml-research",
        "kestrel-7b",
        "Warn",
        ["governance/authorised-representative"],
    ),
    "orca-demo": ("Deployment", "ml-research", "orca-1", "Warn", ["workload/model-exists"]),
    "notebook": ("Pod", "ml-research", None, "Allow", []),
    "support-assistant": ("Deployment", "ml-research", "lumen-8b-support", "Allow", []),
    "legal-drafting": ("Deployment", "ml-research", "lumen-8b-legal", "Allow", []),
}


def test_examples_show_allow_warn_and_deny_and_exit_1() -> None:
    run = run_gpai("check", "examples/", "-o", "json")

    assert run.code == 1, run.stderr
    assert run.stderr == ""
    report = run.json
    assert report["errors"] == []
    workloads = by_name(report["workloads"])
    assert set(workloads) == set(EXPECTED_WORKLOADS)
    for name, (kind, namespace, model, decision, unmet) in EXPECTED_WORKLOADS.items():
        assert workloads[name]["kind"] == kind
        assert workloads[name]["namespace"] == namespace
        assert workloads[name]["model"] == model
        assert (workloads[name]["decision"], workloads[name]["unmet"]) == (decision, unmet), name


def test_examples_models_are_classified_as_their_comments_say() -> None:
    models = by_name(run_gpai("check", str(EXAMPLES), "-o", "json").json["models"])

    assert set(models) == {
        "aurora-2", "borealis-1", "kestrel-7b", "lumen-8b", "lumen-8b-legal", "lumen-8b-support", "sable-2"
    }  # fmt: skip
    assert models["aurora-2"]["compliant"] is True
    assert models["aurora-2"]["classification"]["systemicRisk"] is True
    aurora = {o["id"]: o["status"] for o in models["aurora-2"]["obligations"]}
    assert aurora.pop("governance/authorised-representative") == "NotApplicable"  # an EU provider
    assert aurora.pop("value-chain/upstream-information") == "NotApplicable"  # made from scratch
    assert set(aurora.values()) == {"Met"}
    assert len(aurora) == 15
    assert models["lumen-8b"]["classification"]["openSourceExempt"] is True
    assert models["lumen-8b"]["compliant"] is True
    assert models["sable-2"]["classification"]["legacy"] is True
    assert "Grace" in {o["status"] for o in models["sable-2"]["obligations"]}
    assert models["sable-2"]["compliant"] is True
    assert models["borealis-1"]["classification"]["euProvider"] is False
    assert models["borealis-1"]["compliant"] is False
    missing = {o["id"] for o in models["borealis-1"]["obligations"] if o["status"] == "Missing"}
    assert missing == {
        "systemic-risk/evaluation",
        "systemic-risk/adversarial-testing",
        "systemic-risk/risk-acceptance",
    }
    kestrel = {o["id"]: o["status"] for o in models["kestrel-7b"]["obligations"]}
    assert kestrel["governance/authorised-representative"] == "Missing"
    assert [i for i, status in kestrel.items() if status not in ("Met", "NotApplicable")] == [
        "governance/authorised-representative"  # everything else is in place
    ]


def obligation(model: dict, obligation_id: str) -> dict:
    return next(o for o in model["obligations"] if o["id"] == obligation_id)


def test_examples_show_each_way_of_adhering_to_the_code_of_practice() -> None:
    models = by_name(run_gpai("check", str(EXAMPLES), "-o", "json").json["models"])
    signed = {name: m["classification"]["codeOfPractice"] for name, m in models.items()}
    assert signed == {
        "aurora-2": "T,C,S",  # signed every chapter
        "borealis-1": "S",  # like xAI: Safety and Security only, alternative means for the others
        "kestrel-7b": "T,C",  # no systemic risk: Safety and Security does not apply
        "lumen-8b": "-",  # like Meta: signed nothing; open-source exempt, so only Copyright applies
        "lumen-8b-legal": "T,C",  # its modifier is its provider, and signed
        "lumen-8b-support": "-",  # downstream: the Code is its upstream provider's business
        "sable-2": "-",  # declared nothing yet: a legacy model in Grace
    }
    cop = "governance/code-of-practice"
    statuses = {name: obligation(m, cop)["status"] for name, m in models.items()}
    assert statuses == {
        "aurora-2": "Met",
        "borealis-1": "Met",
        "kestrel-7b": "Met",
        "lumen-8b": "Met",
        "lumen-8b-legal": "Met",
        "lumen-8b-support": "NotApplicable",
        "sable-2": "Grace",
    }
    lumen = obligation(models["lumen-8b"], cop)["message"]
    assert lumen.endswith(
        "is Met: Copyright chapter not signed, alternative adequate means documented at "
        "https://lumen-collective.example/compliance/copyright-measures, updated 2026-02-01."
    )
    borealis = models["borealis-1"]
    assert (
        "(Art. 53(1)(c); alternative adequate means (Art. 53(4))) is Met"
        in (obligation(borealis, "copyright/policy")["message"])
    )
    assert (
        "(Art. 55(1)(a); CoP S&S Commitments 2-3) is Missing"
        in (obligation(borealis, "systemic-risk/evaluation")["message"])
    )
    assert (
        "CoP Transparency M1.1, M1.3"
        in (obligation(models["aurora-2"], "transparency/technical-documentation")["message"])
    )


def test_examples_owe_notification_only_on_the_compute_route() -> None:
    models = by_name(run_gpai("check", str(EXAMPLES), "-o", "json").json["models"])
    aurora = obligation(models["aurora-2"], "systemic-risk/notification")
    assert aurora["status"] == "Met"
    assert "by the deadline 2025-12-19" in aurora["message"]
    borealis = obligation(models["borealis-1"], "systemic-risk/notification")
    assert borealis["status"] == "NotApplicable"
    assert "designation only" in borealis["message"]


def test_the_table_is_aligned_and_names_every_model_and_workload() -> None:
    run = run_gpai("check", "examples/")

    assert run.code == 1
    lines = run.stdout.splitlines()
    assert (
        lines[0]
        == "Evaluated at 2026-11-28T00:00:00Z under eu-ai-act-enforce [Deny], eu-ai-act-warn [Warn, Audit]"
    )
    header = next(line for line in lines if line.startswith("NAMESPACE") and "DECISION" in line)
    rows = lines[lines.index(header) + 1 : lines.index(header) + 1 + len(EXPECTED_WORKLOADS)]
    decision_column = header.index("DECISION")
    for row in rows:
        name = row.split()[2]
        assert row[decision_column:].split()[0] == EXPECTED_WORKLOADS[name][3], row
    assert "prod-chat/borealis-1: not compliant" in lines
    assert "  - systemic-risk/evaluation: Missing" in lines
    assert lines[-1] == "7 models: 5 compliant, 2 not. 11 workloads: 7 Allow, 2 Warn, 2 Deny."
    models_header = next(line for line in lines if line.startswith("NAMESPACE") and "COP SIGNED" in line)
    signed_column = models_header.index("COP SIGNED")
    borealis = next(line for line in lines if line.startswith("prod-chat    borealis-1"))
    assert borealis[signed_column:].split()[0] == "S"


def test_no_colour_when_piped() -> None:
    run = run_gpai("check", "examples/")

    assert "\033[" not in run.stdout
    assert "\033[" not in run.stderr


def test_colour_on_a_terminal_unless_no_color() -> None:
    import os
    import pty
    import subprocess

    from tests.cli.helpers import GPAI, NOW

    def on_terminal(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"} | extra_env
        process = subprocess.Popen(
            [str(GPAI), "check", str(EXAMPLES), "--now", NOW],
            stdout=follower,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks).decode()

    coloured = on_terminal({})
    assert re.search(r"\033\[1;31mDeny", coloured)
    assert "\033[" not in on_terminal({"NO_COLOR": "1"})


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    import subprocess

    from tests.cli.helpers import GPAI, NOW, REPO

    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{GPAI}' check examples/ --now {NOW} -o json | head -c 10"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )

    assert done.stdout == '{\n  "model'
    assert "Traceback" not in done.stderr
    assert done.returncode == 1  # the verdict, not a crash


def test_the_fine_tunes_sit_on_either_side_of_the_one_third_line() -> None:
    """Lumen-8B (4.2e23 FLOP) and two fine-tunes: 6e21 FLOP is downstream, 2.1e23 FLOP (more than
    1.4e23) makes the modifier the provider of the modified model."""
    run = run_gpai("check", str(EXAMPLES), "-o", "json")
    models = by_name(run.json["models"])
    roles = {name: m["classification"]["role"] for name, m in models.items()}
    assert roles == {
        "aurora-2": "Provider",
        "borealis-1": "Provider",
        "kestrel-7b": "Provider",
        "lumen-8b": "Provider",
        "lumen-8b-legal": "ModifierProvider",
        "lumen-8b-support": "Downstream",
        "sable-2": "Provider",
    }
    support = {o["id"]: o for o in models["lumen-8b-support"]["obligations"]}
    assert {i for i, o in support.items() if o["status"] != "NotApplicable"} == {
        "value-chain/upstream-information"
    }
    upstream = support["value-chain/upstream-information"]
    assert upstream["status"] == "Met"
    assert (
        "GPAIModel ml-research/lumen-8b (spec.derivedFrom.modelRef) has its "
        "transparency/downstream-information Exempt" in upstream["message"]
    )
    assert (
        "Lumen-8B 1.2 by Lumen Collective e.V. modified with 6e+21 FLOP, not more than a third of the "
        "original's 4.2e+23 FLOP" in support["transparency/technical-documentation"]["message"]
    )
    legal = {o["id"]: o["status"] for o in models["lumen-8b-legal"]["obligations"]}
    assert legal["value-chain/upstream-information"] == "NotApplicable"
    assert legal["transparency/technical-documentation"] == "Met"  # it lists Lumen-8B among its dependencies
    assert legal["copyright/training-content-summary"] == "Met"
    assert models["lumen-8b-legal"]["classification"]["systemicRisk"] is False  # 6.3e23 FLOP in all
    assert models["lumen-8b-legal"]["compliant"] is True
    assert models["lumen-8b-support"]["compliant"] is True

    table = run_gpai("check", str(EXAMPLES)).stdout.splitlines()
    header = next(line for line in table if line.startswith("NAMESPACE") and "ROLE" in line)
    role = header.index("ROLE")
    shown = {line.split()[1]: line[role:].split()[0] for line in table[table.index(header) + 1 :][:7]}
    assert shown["lumen-8b-support"] == "Downstream"
    assert shown["lumen-8b-legal"] == "ModifierProvider"


def test_the_closed_serious_incident_of_aurora_2_was_reported_on_time() -> None:
    models = by_name(run_gpai("check", str(EXAMPLES), "-o", "json").json["models"])
    timeliness = obligation(models["aurora-2"], "systemic-risk/incident-timeliness")
    assert timeliness["status"] == "Met"
    assert "closed, every report on time: prod-chat/aurora-2-credential-leak" in timeliness["message"]
    # the other systemic-risk model has no incident, and a model without systemic risk owes no reports
    assert obligation(models["borealis-1"], "systemic-risk/incident-timeliness")["status"] == "Met"
    assert obligation(models["kestrel-7b"], "systemic-risk/incident-timeliness")["status"] == "NotApplicable"
