"""The shipped policy packs: valid, documented, and doing what their comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import (
    EXAMPLES,
    POLICIES,
    REPO,
    by_name,
    deployment,
    documents,
    model,
    policy,
    run_gpai,
)

PACKS = sorted(POLICIES.glob("*.yaml"))


def test_the_packs_exist() -> None:
    assert {p.name for p in PACKS} >= {"eu-ai-act.yaml", "eu-ai-act-audit.yaml", "eu-ai-act-staged.yaml"}


def test_the_built_in_policy_is_the_shipped_eu_ai_act_pack() -> None:
    # An installed wheel has no repository: gpai check reads its copy from the package.
    shipped = REPO / "operator" / "gpai_operator" / "data" / "eu-ai-act.yaml"
    assert shipped.read_bytes() == (POLICIES / "eu-ai-act.yaml").read_bytes(), (
        "cp policies/eu-ai-act.yaml there"
    )


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_each_pack_is_documented_at_its_top(pack: Path) -> None:
    lines = pack.read_text().splitlines()
    first_object_line = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    comments = lines[:first_object_line]
    assert len(comments) >= 10, f"{pack.name}: say at the top what it does and how to use it"
    assert any("kubectl apply" in line for line in comments)


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_each_pack_is_valid(pack: Path) -> None:
    run = run_gpai("check", str(EXAMPLES), "--policy", str(pack), "-o", "json")

    assert run.json["errors"] == [], run.stderr
    assert run.code in (0, 1)


def test_eu_ai_act_denies_every_non_compliant_model_everywhere() -> None:
    run = run_gpai("check", str(EXAMPLES), "--policy", str(POLICIES / "eu-ai-act.yaml"), "-o", "json")

    decisions = {name: w["decision"] for name, w in by_name(run.json["workloads"]).items()}
    assert decisions["borealis-preview"] == "Deny"
    assert decisions["kestrel-finetune"] == "Deny"  # ml-research is no exception under this pack
    assert decisions["orca-demo"] == "Deny"
    assert decisions["embedding-probe"] == "Allow"  # unlabelled workloads are not gated
    assert decisions["aurora-chat"] == "Allow"


def test_eu_ai_act_audit_never_denies_or_warns_but_lists_what_is_unmet() -> None:
    run = run_gpai("check", str(EXAMPLES), "--policy", str(POLICIES / "eu-ai-act-audit.yaml"), "-o", "json")

    assert run.code == 0
    workloads = by_name(run.json["workloads"])
    assert {w["decision"] for w in workloads.values()} == {"Allow"}
    assert workloads["borealis-preview"]["unmet"] == [
        "systemic-risk/adversarial-testing",
        "systemic-risk/evaluation",
        "systemic-risk/risk-acceptance",
    ]


def test_eu_ai_act_staged_denies_in_enforced_namespaces_and_warns_elsewhere() -> None:
    run = run_gpai("check", str(EXAMPLES), "--policy", str(POLICIES / "eu-ai-act-staged.yaml"), "-o", "json")

    decisions = {name: w["decision"] for name, w in by_name(run.json["workloads"]).items()}
    assert decisions["borealis-preview"] == "Deny"
    assert decisions["embedding-probe"] == "Deny"  # requireModelLabel in prod-chat
    assert decisions["kestrel-finetune"] == "Warn"
    assert decisions["notebook"] == "Allow"


def _excepting(version: str | None) -> str:
    pin = f", version: {version!r}" if version else ""
    return policy(
        "deny-all",
        extra=(
            "\n  exceptions:\n"
            f"    - {{namespace: ml, model: acme{pin}, reason: review under way, expires: 2026-12-31}}"
        ),
    )


def test_an_exception_pinned_to_the_version_waives_and_the_table_shows_the_pin(write) -> None:
    path = write("app.yaml", documents(model(), deployment(), _excepting("1.0")))

    run = run_gpai("check", str(path), "--now", "2026-11-28")

    assert run.code == 0, run.stdout
    assert "for version 1.0 waives it through 2026-12-31" in " ".join(run.stdout.split())
    assert "names no version" not in run.stderr


def test_an_exception_for_another_version_does_not_follow_the_name(write) -> None:
    path = write("app.yaml", documents(model(), deployment(), _excepting("0.9")))

    run = run_gpai("check", str(path), "--now", "2026-11-28", "-o", "json")

    assert run.code == 1
    [chat] = run.json["workloads"]
    assert chat["decision"] == "Deny"
    messages = " ".join(o["message"] for o in run.json["models"][0]["obligations"])
    assert "waives version 0.9 only, not version 1.0" in messages


def test_an_unpinned_exception_still_waives_but_is_pointed_out(write) -> None:
    path = write("app.yaml", documents(model(), deployment(), _excepting(None)))

    run = run_gpai("check", str(path), "--now", "2026-11-28", "-o", "json")

    assert run.code == 0
    assert "note: policy deny-all: the exception for ml/acme names no version" in run.stderr


def test_eu_ai_act_signatories_denies_models_of_providers_that_did_not_sign_a_chapter() -> None:
    pack = POLICIES / "eu-ai-act-signatories.yaml"
    run = run_gpai("check", str(EXAMPLES), "--policy", str(pack), "-o", "json")

    workloads = by_name(run.json["workloads"])
    # lumen-8b's provider signed nothing; its alternative means satisfy the law, not this policy
    assert (workloads["lumen-batch"]["decision"], workloads["lumen-batch"]["unmet"]) == (
        "Deny",
        ["governance/code-of-practice"],
    )
    assert "governance/code-of-practice" in workloads["borealis-preview"]["unmet"]  # signed S only
    assert workloads["aurora-chat"]["decision"] == "Allow"  # signed every chapter
    assert "governance/code-of-practice" not in workloads["kestrel-finetune"]["unmet"]  # T and C apply
    assert workloads["sable-nightly-eval"]["decision"] == "Allow"  # undeclared: Missing, legacy: Grace
    models = by_name(run.json["models"])
    message = next(
        o["message"] for o in models["borealis-1"]["obligations"] if o["id"] == "governance/code-of-practice"
    )
    assert "Transparency chapter not signed, and the policy admits only its signatories" in message
    assert "Copyright chapter not signed, and the policy admits only its signatories" in message
    assert "serve a model whose provider signed the Transparency and Copyright chapters" in message
