"""Fixtures of the `gpai check` tests; the helpers live in helpers.py."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import GPAI, Run, run_gpai


@pytest.fixture(scope="session", autouse=True)
def _installed_command() -> None:
    assert GPAI.exists(), f"no gpai command in {GPAI.parent}: install the project (pip install -e .)"


@pytest.fixture
def gpai() -> Callable[..., Run]:
    return run_gpai


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("sub/file.yaml", yaml_text) -> the path, under a fresh folder; text is dedented."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write
