"""What a test does when something it needs (a control plane, helm, promtool) cannot be had."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skips the test locally, with the reason; fails it under CI, where everything must be present."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
