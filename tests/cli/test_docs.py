"""docs/cli.md shows real output: the captured example run must match what gpai check prints today."""

from __future__ import annotations

from tests.cli.helpers import REPO, run_gpai

DOC = REPO / "docs" / "cli.md"
COMMAND = "$ gpai check examples/ --now 2026-11-28\n"


def test_the_table_in_docs_cli_md_is_the_real_output() -> None:
    text = DOC.read_text()
    start = text.index(COMMAND) + len(COMMAND)
    shown = text[start : text.index("$ echo $?", start)]

    run = run_gpai("check", "examples/", "--now", "2026-11-28")

    assert shown == run.stdout, (
        f"refresh the example in {DOC.name} with: gpai check examples/ --now 2026-11-28"
    )
    assert "$ echo $?\n1\n" in text


def test_the_json_workloads_in_docs_cli_md_are_the_real_output() -> None:
    text = DOC.read_text()
    run = run_gpai("check", "examples/", "--now", "2026-11-28", "-o", "json")

    for line in run.stdout.splitlines():
        if '"kind": ' in line and '"decision": ' in line:
            assert line in text, f"refresh the JSON example in {DOC.name}: {line}"


def test_the_sample_output_in_the_readme_is_what_gpai_check_prints() -> None:
    text = (REPO / "README.md").read_text()
    start = text.index("```\nMODELS\n") + len("```\n")
    shown = text[start : text.index("```", start)].splitlines()

    printed = run_gpai("check", "examples/", "--now", "2026-11-28").stdout.splitlines()

    # The README cuts the explanations ("..."); every line it keeps is printed, in the same order.
    kept = [line for line in shown if line.strip() != "..."]
    positions = [printed.index(line) if line in printed else -1 for line in kept if line]
    assert -1 not in positions, [line for line in kept if line and line not in printed]
    assert positions == sorted(positions), "the README's lines are out of order"
