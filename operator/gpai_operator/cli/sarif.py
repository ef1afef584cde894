"""`gpai check -o sarif`: the report as SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).

- One rule per obligation of the catalogue (and per workload rule), its legal basis as help text.
- One result per unmet obligation (Missing, Incomplete, Expired, Failed), located at the file and
  line of the object that must change: the evidence object the verdict judged when there is one
  (the ModelDocumentation lacking fields, the expired CopyrightPolicy or RiskEvaluation), else the
  GPAIModel; for the workload rules, the workload. The workloads a model's verdict gates are
  related locations of its results.
- The level is the strongest action of the policies that find the obligation unmet: Deny is an
  error, Warn a warning, Audit a note.
- Paths given relative to the working directory (as CI runs `gpai check deploy/` from the
  repository's root) are relative URIs against `%SRCROOT%`, the working directory; other paths are
  absolute `file:` URIs; stdin is the relative URI `stdin` with no base and a description saying so.
- Input errors are tool execution notifications, and make the invocation unsuccessful.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from gpai_operator import __version__
from gpai_operator.api.base import API_VERSION
from gpai_operator.api.obligations import WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS
from gpai_operator.engine import CATALOGUE, FAILING, ModelVerdict, ObligationVerdict, WorkloadDecision
from gpai_operator.loader import STDIN_NAME, InputError
from gpai_operator.report import CheckReport, Location

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
PROJECT_URI = "https://github.com/gpai-dev/gpai-operator"
OBLIGATIONS_URI = f"{PROJECT_URI}/blob/main/README.md#obligations"
SRCROOT = "%SRCROOT%"
STDIN_URI = "stdin"

_LEVEL = {"Deny": "error", "Warn": "warning", "Audit": "note"}
_DECISION_ACTION = {"Deny": "Deny", "Warn": "Warn", "Allow": "Audit"}
_STRONGEST_FIRST = ("Deny", "Warn", "Audit")

# The workload rules are project rules, not in the obligation catalogue (they judge no model).
_WORKLOAD_RULES = (
    (WORKLOAD_MODEL_DECLARED, "workload declares the GPAIModel it serves", "the gpai.dev/model label"),
    (WORKLOAD_MODEL_EXISTS, "the GPAIModel a workload serves exists", "a GPAIModel in its namespace"),
)


def _rule(rule_id: str, title: str, basis: str, applies: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "shortDescription": {"text": title[:1].upper() + title[1:]},
        "fullDescription": {"text": f"{title} ({basis}); applies to {applies}."},
        "help": {
            "text": f"Legal basis: {basis}. Applies to {applies}.",
            "markdown": f"**Legal basis:** {basis}.\n\nApplies to {applies}.",
        },
        "helpUri": OBLIGATIONS_URI,
        "defaultConfiguration": {"level": "error"},
        "properties": {"legalBasis": basis, "tags": ["eu-ai-act", "compliance"]},
    }


def rules() -> list[dict[str, Any]]:
    """Every obligation of the catalogue, then the workload rules: one SARIF rule each."""
    found = [_rule(o.id, o.title, o.basis, o.applies.description) for o in CATALOGUE]
    found += [
        _rule(rule_id, title, "project rule", f"workloads; they need {what}")
        for rule_id, title, what in _WORKLOAD_RULES
    ]
    return found


class _Artifacts:
    """Input names to SARIF artifact locations (see the module doc)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def location(self, path: str) -> dict[str, Any]:
        if path == STDIN_NAME:
            return {"uri": STDIN_URI, "description": {"text": "standard input (gpai check -)"}}
        given = Path(path)
        absolute = given if given.is_absolute() else self.cwd / given
        try:
            relative = Path(os.path.normpath(absolute)).relative_to(self.cwd)
        except ValueError:
            return {"uri": Path(os.path.normpath(absolute)).as_uri()}
        return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}

    def physical(self, where: Location) -> dict[str, Any]:
        physical: dict[str, Any] = {"artifactLocation": self.location(where.path)}
        if where.line > 0:
            physical["region"] = {"startLine": where.line}
        return physical


def _logical(kind: str, namespace: str, name: str) -> dict[str, str]:
    qualified = f"{namespace}/{name}" if namespace else name
    return {"name": name, "fullyQualifiedName": f"{kind} {qualified}", "kind": "object"}


def _level(actions: Iterable[str]) -> str:
    present = set(actions)
    return next((_LEVEL[a] for a in _STRONGEST_FIRST if a in present), "note")


class _Results:
    def __init__(self, report: CheckReport, artifacts: _Artifacts, rule_index: dict[str, int]) -> None:
        self.report = report
        self.artifacts = artifacts
        self.rule_index = rule_index
        self.gated: dict[tuple[str, str], list[WorkloadDecision]] = defaultdict(list)
        for workload in report.workloads:
            if workload.model is not None:
                self.gated[(workload.namespace, workload.model)].append(workload)

    def _result(
        self, rule_id: str, level: str, text: str, located: tuple[str, str, str, str], status: str
    ) -> dict[str, Any]:
        api_version, kind, namespace, name = located
        location: dict[str, Any] = {"logicalLocations": [_logical(kind, namespace, name)]}
        where = self.report.location_of(api_version, kind, namespace, name)
        if where is not None:
            location["physicalLocation"] = self.artifacts.physical(where)
        return {
            "ruleId": rule_id,
            "ruleIndex": self.rule_index[rule_id],
            "kind": "fail",
            "level": level,
            "message": {"text": text},
            "locations": [location],
            "partialFingerprints": {"gpaiObligation/v1": f"{rule_id}:{kind}:{namespace}/{name}"},
            "properties": {"status": status},
        }

    def of_model(self, model: ModelVerdict, obligation: ObligationVerdict) -> dict[str, Any]:
        unmet_under = [p.actions for p in model.policies if obligation.id in p.unmet]
        level = _level(action for actions in unmet_under for action in actions)
        subject = obligation.subject
        located = (
            (API_VERSION, subject.kind, subject.namespace, subject.name)
            if subject is not None
            else (API_VERSION, "GPAIModel", model.namespace, model.name)
        )
        result = self._result(obligation.id, level, obligation.message, located, obligation.status)
        related: list[dict[str, Any]] = []
        for workload in self.gated.get((model.namespace, model.name), ()):
            if obligation.id not in workload.unmet:
                continue
            where = self.report.location_of(
                workload.api_version, workload.kind, workload.namespace, workload.name
            )
            entry: dict[str, Any] = {
                "id": len(related) + 1,
                "message": {
                    "text": f"{workload.kind} {workload.namespace}/{workload.name}: {workload.decision}"
                },
                "logicalLocations": [_logical(workload.kind, workload.namespace, workload.name)],
            }
            if where is not None:
                entry["physicalLocation"] = self.artifacts.physical(where)
            related.append(entry)
        if related:
            result["relatedLocations"] = related
        return result

    def of_workload(self, workload: WorkloadDecision) -> Iterable[dict[str, Any]]:
        level = _LEVEL[_DECISION_ACTION[workload.decision]]
        located = (workload.api_version, workload.kind, workload.namespace, workload.name)
        for rule_id, reason in zip(workload.unmet, workload.reasons, strict=False):
            if rule_id in (WORKLOAD_MODEL_DECLARED, WORKLOAD_MODEL_EXISTS):
                yield self._result(rule_id, level, reason, located, "Missing")


def _notification(error: InputError, artifacts: _Artifacts) -> dict[str, Any]:
    """An input error; located at its file when its source is `<file>#<document>`."""
    notification: dict[str, Any] = {
        "level": "error",
        "message": {"text": f"{error.source}: {error.message}"},
    }
    path, _, document = error.source.rpartition("#")
    if path and document.isdigit():
        notification["locations"] = [{"physicalLocation": {"artifactLocation": artifacts.location(path)}}]
    return notification


def as_sarif(report: CheckReport, cwd: Path | None = None) -> dict[str, Any]:
    """The SARIF log of one `gpai check` run."""
    artifacts = _Artifacts(cwd or Path.cwd())
    rule_list = rules()
    results = _Results(report, artifacts, {rule["id"]: i for i, rule in enumerate(rule_list)})
    found = [
        results.of_model(model, obligation)
        for model in report.models
        for obligation in model.obligations
        if obligation.status in FAILING
    ]
    for workload in report.workloads:
        found.extend(results.of_workload(workload))
    notifications = [_notification(error, artifacts) for error in report.errors]
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "gpai",
                "fullName": "gpai check (gpai-operator)",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT_URI,
                "rules": rule_list,
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": artifacts.cwd.as_uri().rstrip("/") + "/"}},
        "results": found,
        "properties": {"policies": list(report.policies)},
    }
    if report.now is not None:
        run["properties"]["evaluatedAt"] = report.now.isoformat().replace("+00:00", "Z")
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def write_sarif(report: CheckReport, out: IO[str]) -> None:
    json.dump(as_sarif(report), out, indent=2)
    out.write("\n")
