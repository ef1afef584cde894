"""The check path stays light: it never imports the operator's runtime dependencies."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.helpers import EXAMPLES, NOW, REPO

FORBIDDEN = ("kopf", "kubernetes", "prometheus_client", "aiohttp")

_PROBE = """
import json, sys
from gpai_operator.cli.main import main
code = main(sys.argv[1:])
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in FORBIDDEN}


def test_gpai_check_never_imports_kopf_kubernetes_prometheus_or_aiohttp() -> None:
    for output in ("table", "json", "sarif", "junit"):
        assert _heavy(_modules_after("check", str(EXAMPLES), "--now", NOW, "-o", output)) == set()


def test_not_even_with_input_errors_or_policies(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: gpai.dev/v1alpha1\nkind: Nope\nmetadata: {name: x}\n---\n[unclosed\n")

    modules = _modules_after("check", str(bad), "--policy", str(REPO / "policies" / "eu-ai-act-staged.yaml"))

    assert _heavy(modules) == set()
