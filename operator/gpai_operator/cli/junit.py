"""`gpai check -o junit`: the report as JUnit XML, the test report GitLab, Jenkins and others read.

- Suite `models`: one test case per GPAIModel (class `models.<namespace>`, name the model's name);
  a non-compliant model fails, with its unmet obligations' messages.
- Suite `workloads`: one test case per workload (class `workloads.<namespace>`, name
  `<Kind>/<name>`); a workload that leaves an obligation unmet fails, its failure type being what
  admission does about it (Deny, Warn, or Audit where it is only counted), with the decision's message.
- Suite `inputs`, only when there are input errors: one test case per input with errors.
Test cases carry the `file` and `line` the object was read from.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import IO

from gpai_operator.api.base import API_VERSION
from gpai_operator.engine import FAILING, ModelVerdict, WorkloadDecision
from gpai_operator.report import CheckReport, Location

_FAILURE_TYPE = {"Deny": "Deny", "Warn": "Warn", "Allow": "Audit"}


def _case(classname: str, name: str, where: Location | None) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=name)
    if where is not None:
        case.set("file", where.path)
        if where.line > 0:
            case.set("line", str(where.line))
    return case


def _model_case(report: CheckReport, model: ModelVerdict) -> ET.Element:
    where = report.location_of(API_VERSION, "GPAIModel", model.namespace, model.name)
    case = _case(f"models.{model.namespace}", model.name, where)
    if not model.compliant:
        unmet = [o for o in model.obligations if o.status in FAILING]
        failure = ET.SubElement(
            case,
            "failure",
            type="NonCompliant",
            message=f"GPAIModel {model.namespace}/{model.name} version {model.version}: "
            f"{len(unmet)} obligation{'s' if len(unmet) != 1 else ''} unmet "
            f"({', '.join(o.id for o in unmet)})",
        )
        failure.text = "\n".join(o.message for o in unmet)
    return case


def _workload_case(report: CheckReport, workload: WorkloadDecision) -> ET.Element:
    where = report.location_of(workload.api_version, workload.kind, workload.namespace, workload.name)
    case = _case(f"workloads.{workload.namespace}", f"{workload.kind}/{workload.name}", where)
    if workload.unmet:
        failure = ET.SubElement(
            case,
            "failure",
            type=_FAILURE_TYPE[workload.decision],
            message=workload.message.partition("\n")[0],
        )
        failure.text = workload.message
    return case


def _suite(report: CheckReport, name: str, cases: list[ET.Element]) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
        errors=str(sum(1 for c in cases if c.find("error") is not None)),
        skipped="0",
    )
    if report.now is not None:
        suite.set("timestamp", report.now.strftime("%Y-%m-%dT%H:%M:%S"))
    suite.extend(cases)
    return suite


def as_junit(report: CheckReport) -> ET.Element:
    """The <testsuites> element of one `gpai check` run."""
    suites = [
        _suite(report, "models", [_model_case(report, m) for m in report.models]),
        _suite(report, "workloads", [_workload_case(report, w) for w in report.workloads]),
    ]
    if report.errors:
        by_input: dict[str, list[str]] = defaultdict(list)
        for error in report.errors:
            by_input[error.source.rpartition("#")[0] or error.source].append(
                f"{error.source}: {error.message}"
            )
        cases = []
        for path, messages in by_input.items():
            case = _case("inputs", path, None)
            error_element = ET.SubElement(case, "error", type="InputError", message=messages[0])
            error_element.text = "\n".join(messages)
            cases.append(case)
        suites.append(_suite(report, "inputs", cases))
    root = ET.Element(
        "testsuites",
        name="gpai check",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors=str(sum(int(s.get("errors", "0")) for s in suites)),
    )
    root.extend(suites)
    return root


def write_junit(report: CheckReport, out: IO[str]) -> None:
    tree = ET.ElementTree(as_junit(report))
    ET.indent(tree)
    tree.write(out, encoding="unicode", xml_declaration=True)
    out.write("\n")
