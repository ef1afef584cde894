"""`make demo` is the README's first command: run it as a user would and check what it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gpai_operator.testing.controlplane import ASSETS_ENV, BinariesUnavailable, find_binaries
from tests.unavailable import unavailable

ROOT = Path(__file__).resolve().parents[3]


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_the_demo_shows_the_story_and_leaves_nothing_running(tmp_path: Path) -> None:
    try:
        binaries = find_binaries()
    except BinariesUnavailable as error:
        unavailable(str(error))  # the README's first command must not rot unnoticed under CI
    workdir = tmp_path / "demo"

    result = subprocess.run(
        [sys.executable, "hack/demo.py", "--exit-after-showcase", "--workdir", str(workdir)],
        cwd=ROOT,
        env={**os.environ, ASSETS_ENV: str(binaries)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    output = result.stdout
    assert result.returncode == 0, f"{output}\n{result.stderr}"
    # the models table, as kubectl get gpai -A prints it, with each model's value-chain role
    assert (
        "NAMESPACE     NAME               VERSION   ROLE               SYSTEMIC   COP SIGNED   COMPLIANT   "
        "REASON" in output
    )
    for row in (
        "prod-chat     borealis-1         1.0       Provider           True       S            False       "
        "ObligationsUnmet",
        "prod-chat     aurora-2           2.0       Provider           True       T,C,S        True        "
        "ObligationsMet",
        "ml-research   lumen-8b-legal     1.0       ModifierProvider   False      T,C          True        "
        "ObligationsMet",
        "ml-research   lumen-8b-support   1.0       Downstream         False      -            True        "
        "ObligationsMet",
    ):
        assert row in output
    # the per-chapter view: each chapter's declaration and the obligation's verdict
    assert (
        "NAMESPACE     NAME               TRANSPARENCY   COPYRIGHT      SAFETY-AND-SECURITY   "
        "ALTERNATIVE-MEANS        CODE-OF-PRACTICE" in output
    )
    assert (
        "prod-chat     borealis-1         NonSignatory   NonSignatory   Signatory             "
        "Transparency,Copyright   Met" in output
    )
    # serious incidents, with the report each owes next: aurora-2's is closed, every report on time
    assert (
        "NAMESPACE   NAME                       MODEL      CATEGORY        AWARE        NEXT REPORT" in output
    )
    assert (
        "prod-chat   aurora-2-credential-leak   aurora-2   Cybersecurity   2026-09-14   <none>        <none>"
        "          True" in output
    )
    assert (
        'gpai_model_obligation_status{model="lumen-8b",namespace="ml-research",'
        'obligation="governance/code-of-practice",status="Met"} 1.0' in output
    )
    # a non-compliant Deployment denied, with the model, each obligation, its article and the fix
    assert (
        'Error from server (Forbidden): admission webhook "validate.gpai.dev" denied the request: '
        "Deployment prod-chat/borealis-preview is denied by policy eu-ai-act-enforce: "
        "it serves GPAIModel prod-chat/borealis-1 version 1.0" in output
    )
    assert "- systemic-risk/evaluation (Art. 55(1)(a); CoP S&S Commitments 2-3) is Missing" in output
    # warnings where the policy only warns
    assert (
        "Warning: Job ml-research/kestrel-finetune is allowed with a warning by policy eu-ai-act-warn"
        in output
    )
    # a compliant one admitted and annotated by the operator
    assert "deployment.apps/aurora-chat created" in output
    assert "gpai.dev/compliance: Compliant" in output
    # the denial fixed by adding the evidence
    assert "deployment.apps/borealis-preview created" in output
    # the metrics
    assert 'gpai_model_compliant{model="borealis-1",namespace="prod-chat"} 1.0' in output
    assert 'gpai_admission_requests_total{decision="Deny",kind="Deployment",operation="CREATE"} 1.0' in output
    assert output.rstrip().endswith("Everything the demo started has stopped.")
    # nothing left behind: no process, no files
    assert processes_mentioning(str(workdir)) == []
    assert not workdir.exists()


def test_the_demo_in_native_mode_shows_the_gate_holding_while_the_operator_is_stopped(tmp_path: Path) -> None:
    try:
        binaries = find_binaries()
    except BinariesUnavailable as error:
        unavailable(str(error))
    workdir = tmp_path / "demo"

    result = subprocess.run(
        [
            sys.executable,
            "hack/demo.py",
            "--exit-after-showcase",
            "--admission",
            "native",
            "--workdir",
            str(workdir),
        ],
        cwd=ROOT,
        env={**os.environ, ASSETS_ENV: str(binaries)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    output = result.stdout
    assert result.returncode == 0, f"{output}\n{result.stderr}"
    native_denial = (
        "ValidatingAdmissionPolicy 'gpai-operator-deny' with binding 'gpai-operator-deny' denied request: "
        "Deployment prod-chat/{name} is denied by policy eu-ai-act-enforce: it serves GPAIModel "
        "prod-chat/borealis-1 version 1.0, which leaves 3 obligations unmet: "
        "systemic-risk/adversarial-testing, systemic-risk/evaluation, systemic-risk/risk-acceptance. "
        "In full: kubectl describe gpai borealis-1 -n prod-chat"
    )
    assert native_denial.format(name="borealis-preview") in output
    assert "Job ml-research/kestrel-finetune is allowed with a warning by policy eu-ai-act-warn" in output
    # the operator's verdicts, one per namespace, then the gate without the operator
    stopped = output[output.index("The operator stopped: the native gate still holds") :]
    assert "prod-chat         gpai-verdicts   2        1        0" in stopped
    assert "gpai run stopped" in stopped
    assert native_denial.format(name="borealis-preview-2") in stopped
    assert "deployment.apps/aurora-chat-canary created" in stopped
    assert "gpai run started again" in stopped
    # the denial fixed by adding the evidence: the operator rewrote the verdicts
    assert "deployment.apps/borealis-preview created" in output
    assert output.rstrip().endswith("Everything the demo started has stopped.")
    assert processes_mentioning(str(workdir)) == []
    assert not workdir.exists()
