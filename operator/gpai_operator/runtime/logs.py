"""Structured logs: one line per decision, as `message key=value ...` text or as one JSON object.

    audit(logger, "workload annotated", namespace="ml", kind="Deployment", compliance="Compliant")
    audit_exception(logger, "evaluation failed", namespace="ml", model="chat")  # in an `except`

Every log line of the operator goes through these two, so no field ever hides in the message text
(tests/unit/test_logging.py holds the package to that).

Fields travel in the record's `fields` attribute, so kopf's and other libraries' plain messages
come out in the same format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

FORMATS = ("text", "json")


def audit(logger: logging.Logger, message: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log one decision with its fields (any name, `level` and `message` too, is a field)."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"fields": fields})


def audit_exception(
    logger: logging.Logger, message: str, error: BaseException | None = None, /, **fields: Any
) -> None:
    """Log a failure at ERROR with its fields and traceback: `error`'s, or the exception being handled."""
    if logger.isEnabledFor(logging.ERROR):
        exc_info = error if error is not None else True
        logger.error(message, exc_info=exc_info, extra={"fields": fields})


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        value = ",".join(str(v) for v in value)
    text = str(value)
    return json.dumps(text) if (not text or any(c in text for c in ' "=\n')) else text


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        fields = getattr(record, "fields", None) or {}
        extra = "".join(f" {key}={_value(value)}" for key, value in fields.items())
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}{extra}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = {**(getattr(record, "admission", None) or {}), **(getattr(record, "fields", None) or {})}
        for key, value in fields.items():
            entry.setdefault(key, list(value) if isinstance(value, (tuple, set, frozenset)) else value)
        ref = getattr(record, "k8s_ref", None)  # kopf's per-object loggers attach the object
        if isinstance(ref, dict):
            entry.setdefault("object", ref)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


class _DropThreadSignalNotice(logging.Filter):
    """kopf's notice that it leaves OS signals alone off the main thread: `gpai run` handles them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("OS signals are ignored")


def configure(log_format: str = "text", level: int = logging.INFO, kopf_level: int | None = None) -> None:
    """Route every logger to stderr in one format. kopf is quieter than ours unless asked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_DropThreadSignalNotice())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = kopf_level if kopf_level is not None else max(level, logging.WARNING)
    for name in ("kopf", "aiohttp.access"):
        logging.getLogger(name).setLevel(quiet)
