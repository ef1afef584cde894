"""What `gpai check` prints: the JSON document of SPEC section 5, or tables for a person.

Both render the same three lists: model verdicts, workload decisions and input errors. Colour is
used only when stdout is a terminal, NO_COLOR is unset (or empty, as no-color.org says) and TERM is
not `dumb`; widths are computed on the plain text, so columns stay aligned either way.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from gpai_operator.engine import ModelVerdict, WorkloadDecision
from gpai_operator.loader import InputError
from gpai_operator.report import CheckReport

# Obligation statuses worth a line under a model in the table (the others say "nothing to do").
NOTABLE: frozenset[str] = frozenset({"Missing", "Incomplete", "Expired", "Failed", "Grace", "Waived"})
_FAILING = frozenset({"Missing", "Incomplete", "Expired", "Failed"})
_NOTABLE_ORDER = ("Failed", "Missing", "Expired", "Incomplete", "Grace", "Waived")  # worst first
DEFAULT_WIDTH = 100  # messages are wrapped to this when stdout is not a terminal

_RESET = "\033[0m"
_STYLES = {
    "red": "\033[31m",
    "bold red": "\033[1;31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "dim": "\033[2m",
}
_DECISION_STYLE = {"Deny": "bold red", "Warn": "yellow", "Allow": "green"}


# ---- JSON -----------------------------------------------------------------------------------
def model_json(verdict: ModelVerdict) -> dict[str, Any]:
    c = verdict.classification
    return {
        "namespace": verdict.namespace,
        "name": verdict.name,
        "compliant": verdict.compliant,
        "classification": {
            "systemicRisk": c.systemic_risk,
            "openSourceExempt": c.open_source_exempt,
            "legacy": c.legacy,
            "euProvider": c.eu_provider,
            "codeOfPractice": c.signed_short,
            "role": c.role,
        },
        "obligations": [{"id": o.id, "status": o.status, "message": o.message} for o in verdict.obligations],
    }


def workload_json(decision: WorkloadDecision) -> dict[str, Any]:
    return {
        "apiVersion": decision.api_version,
        "kind": decision.kind,
        "namespace": decision.namespace,
        "name": decision.name,
        "model": decision.model,
        "decision": decision.decision,
        "unmet": sorted(decision.unmet),
    }


def error_json(error: InputError) -> dict[str, Any]:
    return {"source": error.source, "message": error.message}


def as_json(report: CheckReport) -> dict[str, Any]:
    """The `-o json` document of SPEC section 5."""
    return {
        "models": [model_json(m) for m in report.models],
        "workloads": [workload_json(w) for w in report.workloads],
        "errors": [error_json(e) for e in report.errors],
    }


def write_json(report: CheckReport, out: IO[str]) -> None:
    """The document of as_json(), written item by item: each model, workload and error on a line of
    its own (readable, diff-friendly, and fast: json's C encoder only serves calls without indent)."""
    sections: tuple[tuple[str, Sequence[Any], Callable[[Any], dict[str, Any]]], ...] = (
        ("models", report.models, model_json),
        ("workloads", report.workloads, workload_json),
        ("errors", report.errors, error_json),
    )
    out.write("{")
    for number, (key, items, to_json) in enumerate(sections):
        out.write(f'{"," if number else ""}\n  "{key}": [')
        for index, item in enumerate(items):
            out.write(f"{',' if index else ''}\n    {json.dumps(to_json(item))}")
        out.write("\n  ]" if items else "]")
    out.write("\n}\n")


# ---- tables ---------------------------------------------------------------------------------
def colour_enabled(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str | None) -> str:
        if not self.enabled or not style or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def _status_style(status: str) -> str | None:
    if status in _FAILING:
        return "red"
    if status in ("Grace", "Waived"):
        return "yellow"
    return None


def classification_text(verdict: ModelVerdict) -> str:
    c = verdict.classification
    flags = [
        name
        for name, on in (
            ("systemic risk", c.systemic_risk),
            ("open-source exempt", c.open_source_exempt),
            ("legacy", c.legacy),
            ("non-EU provider", not c.eu_provider),
        )
        if on
    ]
    return ", ".join(flags) or "-"


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[tuple[str, str | None]]], paint: _Painter
) -> list[str]:
    """Aligned columns, two spaces apart; each cell is (text, style); the last column is not padded."""
    rows = list(rows)
    widths = [len(h) for h in headers]
    for row in rows:
        for i, (text, _) in enumerate(row):
            widths[i] = max(widths[i], len(text))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        cells = [
            paint(text.ljust(widths[i]) if i < len(row) - 1 else text, style)
            for i, (text, style) in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def findings_text(verdict: ModelVerdict) -> str:
    """The obligations that need attention, counted by status, worst first: "3 Missing, 1 Expired"."""
    counts = Counter[str](o.status for o in verdict.obligations if o.status in NOTABLE)
    return ", ".join(f"{counts[s]} {s}" for s in _NOTABLE_ORDER if counts[s]) or "-"


def _model_details(model: ModelVerdict, paint: _Painter, width: int) -> list[str]:
    """A block per model with obligations to act on: id, status, then the engine's message wrapped."""
    notable = [o for o in model.obligations if o.status in NOTABLE]
    if not notable:
        return []
    verdict = paint("compliant", "green") if model.compliant else paint("not compliant", "red")
    lines = ["", f"{model.namespace}/{model.name}: {verdict}"]
    for o in notable:
        lines.append(f"  - {o.id}: {paint(o.status, _status_style(o.status))}")
        lines += textwrap.wrap(
            o.message, width, initial_indent="      ", subsequent_indent="      ", break_on_hyphens=False
        )
    return lines


def table_lines(report: CheckReport, colour: bool = False, width: int = DEFAULT_WIDTH) -> list[str]:
    paint = _Painter(colour)
    lines: list[str] = []
    if report.now is not None:
        at = report.now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"Evaluated at {at} under {', '.join(report.policies) or 'no policy'}")
        lines.append("")

    lines.append(paint("MODELS", "dim") if report.models else "MODELS: none")
    if report.models:
        lines += _table(
            ("NAMESPACE", "NAME", "VERSION", "ROLE", "CLASSIFICATION", "COP SIGNED", "COMPLIANT", "FINDINGS"),
            (
                (
                    (m.namespace, None),
                    (m.name, None),
                    (m.version or "-", None),
                    (m.classification.role, None),
                    (classification_text(m), None),
                    (m.classification.signed_short, None),
                    ("yes", "green") if m.compliant else ("no", "red"),
                    (findings_text(m), None),
                )
                for m in report.models
            ),
            paint,
        )
        for model in report.models:
            lines += _model_details(model, paint, width)

    lines.append("")
    lines.append(paint("WORKLOADS", "dim") if report.workloads else "WORKLOADS: none")
    if report.workloads:
        lines += _table(
            ("NAMESPACE", "KIND", "NAME", "MODEL", "DECISION", "UNMET"),
            (
                (
                    (w.namespace, None),
                    (w.kind, None),
                    (w.name, None),
                    (w.model or "(no label)", None if w.model else "dim"),
                    (w.decision, _DECISION_STYLE.get(w.decision)),
                    (", ".join(sorted(w.unmet)) or "-", None),
                )
                for w in report.workloads
            ),
            paint,
        )

    lines.append("")
    lines.append(summary(report))
    return lines


def summary(report: CheckReport) -> str:
    compliant = sum(1 for m in report.models if m.compliant)
    decisions = Counter(w.decision for w in report.workloads)
    models = len(report.models)
    text = (
        f"{_count(models, 'model')}: {compliant} compliant, {models - compliant} not. "
        f"{_count(len(report.workloads), 'workload')}: "
        + ", ".join(f"{decisions.get(d, 0)} {d}" for d in ("Allow", "Warn", "Deny"))
        + "."
    )
    if report.errors:
        text += f" {_count(len(report.errors), 'input error')} (on stderr): exit 2."
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def write_table(report: CheckReport, out: IO[str]) -> None:
    terminal = bool(getattr(out, "isatty", None) and out.isatty())
    width = max(60, shutil.get_terminal_size().columns - 1) if terminal else DEFAULT_WIDTH
    out.write("\n".join(table_lines(report, colour_enabled(out), width)) + "\n")


def write_errors(errors: Iterable[InputError], err: IO[str]) -> None:
    """Every input error on its own line, `source: error: message`, as compilers print them."""
    for error in errors:
        err.write(f"{error.source}: error: {error.message}\n")
