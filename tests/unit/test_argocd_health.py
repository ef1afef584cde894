"""The Argo CD health check (docs/argocd/gpaimodel-health.lua), run by a real Lua 5.1 interpreter.

Argo CD runs health checks in gopher-lua, a Lua 5.1; lupa's lua51 runtime is the same language.
The GPAIModels are the examples evaluated by the engine, with the status the operator writes for
each verdict (controller/status.py), so the script reads exactly the fields the operator sets.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from lupa import lua51

from gpai_operator.controller.status import invalid_status, model_status
from gpai_operator.engine import ModelVerdict
from gpai_operator.report import build_report

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docs" / "argocd" / "gpaimodel-health.lua"
NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


def health(obj: dict[str, Any]) -> dict[str, str]:
    """What Argo CD would show for `obj`: the script's returned table."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT.read_text())
    return dict(result.items())


@pytest.fixture(scope="module")
def verdicts() -> dict[str, ModelVerdict]:
    report = build_report([str(REPO / "examples")], [], NOW, jobs=1)
    return {m.name: m for m in report.models}


def gpaimodel(name: str, status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "gpai.dev/v1alpha1",
        "kind": "GPAIModel",
        "metadata": {"name": name, "namespace": "prod-chat", "generation": generation},
        "spec": {"modelName": name, "version": "1.0"},
    }
    if status is not None:
        obj["status"] = status
    return obj


def written(verdict: ModelVerdict) -> dict[str, Any]:
    """The status the operator writes for this verdict."""
    return model_status(verdict, workloads=1, observed=None, now=NOW)


def test_a_compliant_model_is_healthy(verdicts) -> None:
    status = written(verdicts["aurora-2"])

    assert health(gpaimodel("aurora-2", status, generation=status["observedGeneration"])) == {
        "status": "Healthy",
        "message": "every obligation is met under policy eu-ai-act-enforce",
    }


def test_a_non_compliant_model_is_degraded_with_its_unmet_obligations(verdicts) -> None:
    status = written(verdicts["borealis-1"])

    found = health(gpaimodel("borealis-1", status, generation=status["observedGeneration"]))

    assert found["status"] == "Degraded"
    assert found["message"].startswith("3 obligations unmet: systemic-risk/evaluation (Missing)")


def test_a_model_whose_spec_cannot_be_evaluated_is_degraded() -> None:
    status = invalid_status("spec.version: required", generation=2, observed=None, now=NOW)

    found = health(gpaimodel("orca-1", status, generation=2))

    assert found == {"status": "Degraded", "message": "the spec cannot be evaluated: spec.version: required"}


def test_before_the_first_verdict_it_is_progressing() -> None:
    assert health(gpaimodel("new", None))["status"] == "Progressing"
    assert health(gpaimodel("new", {}))["status"] == "Progressing"


def test_while_the_operator_has_not_seen_the_current_generation_it_is_progressing(verdicts) -> None:
    status = written(verdicts["aurora-2"])  # compliant, but for an older generation
    generation = status["observedGeneration"] + 1

    found = health(gpaimodel("aurora-2", status, generation=generation))

    assert found["status"] == "Progressing"
    assert f"evaluate generation {generation}" in found["message"]


def test_an_unknown_verdict_is_progressing(verdicts) -> None:
    status = written(verdicts["aurora-2"])
    status["conditions"] = [{**c, "status": "Unknown"} for c in status["conditions"]]

    found = health(gpaimodel("aurora-2", status, generation=status["observedGeneration"]))

    assert found["status"] == "Progressing"


def test_the_documented_argocd_configuration_carries_this_script() -> None:
    doc = (REPO / "docs" / "gitops.md").read_text()
    block = re.search(r"resource\.customizations\.health\.gpai\.dev_GPAIModel: \|\n((?:    .*\n|\n)+)", doc)
    assert block, "docs/gitops.md shows the argocd-cm entry"
    embedded = "\n".join(line.removeprefix("    ") for line in block.group(1).splitlines()).strip()
    assert embedded == SCRIPT.read_text().strip()
