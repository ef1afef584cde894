"""Every log line of the operator is structured: its fields travel as fields, never in the message.

The package logs only through `runtime.logs.audit` and `audit_exception` (failures, with their
traceback); a message is a fixed phrase, so JSON logs can be filtered on every field.
"""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest

from gpai_operator.runtime import audit, audit_exception
from gpai_operator.runtime.logs import JsonFormatter, TextFormatter

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "gpai_operator"
HELPERS = PACKAGE / "runtime" / "logs.py"
LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(), str(path))) if isinstance(node, ast.Call)]


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"


def _is_logger(node: ast.expr) -> bool:
    """`logger`, `self.logger`, `logging` or `logging.getLogger(...)`."""
    if isinstance(node, ast.Name):
        return node.id in ("logging", "log") or node.id.endswith("logger")
    if isinstance(node, ast.Attribute):
        return node.attr.endswith("logger")
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "getLogger"
    )


def test_the_package_logs_only_through_the_structured_helpers():
    direct = [
        _where(path, call)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != HELPERS
        for call in _calls(path)
        if isinstance(call.func, ast.Attribute) and call.func.attr in LEVELS and _is_logger(call.func.value)
    ]
    assert direct == [], "log through runtime.logs.audit / audit_exception instead:\n" + "\n".join(direct)


def test_every_message_is_a_fixed_phrase_without_fields_in_it():
    found = 0
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for call in _calls(path):
            name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if name not in ("audit", "audit_exception") or len(call.args) < 2:
                continue
            found += 1
            message = call.args[1]
            # a conditional picks one of two fixed phrases
            options = [message.body, message.orelse] if isinstance(message, ast.IfExp) else [message]
            for option in options:
                text = option.value if isinstance(option, ast.Constant) else None
                if not isinstance(text, str) or "=" in text or "%" in text or "{" in text:
                    wrong.append(f"{_where(path, call)}: {ast.unparse(message)}")
    assert found > 20  # the scan sees the package's log calls
    assert wrong == [], "a message is a fixed phrase; put values in fields:\n" + "\n".join(wrong)


def _record(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = caplog.records
    return record


def test_a_failure_keeps_its_fields_and_its_traceback_in_json(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("gpai_operator.test")
    with caplog.at_level(logging.INFO, logger="gpai_operator.test"):
        try:
            raise ValueError("broken spec")
        except ValueError:
            audit_exception(logger, "evaluation failed", namespace="ml", model="chat")
    entry = json.loads(JsonFormatter().format(_record(caplog)))
    assert (entry["level"], entry["message"], entry["namespace"], entry["model"]) == (
        "error",
        "evaluation failed",
        "ml",
        "chat",
    )
    assert "ValueError: broken spec" in entry["exception"]


def test_a_failure_of_another_task_carries_that_tasks_exception(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("gpai_operator.test")
    with caplog.at_level(logging.INFO, logger="gpai_operator.test"):
        audit_exception(logger, "task failed", RuntimeError("lease lost"), task="leadership")
    line = TextFormatter().format(_record(caplog))
    assert "task failed task=leadership" in line
    assert "RuntimeError: lease lost" in line


def test_any_field_name_is_a_field(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("gpai_operator.test")
    with caplog.at_level(logging.INFO, logger="gpai_operator.test"):
        audit(logger, "admission decision", **{"level": "high", "message": "why"})
    record = _record(caplog)
    assert (record.levelno, record.getMessage()) == (logging.INFO, "admission decision")
    assert record.fields == {"level": "high", "message": "why"}  # type: ignore[attr-defined]
