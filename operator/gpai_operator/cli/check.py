"""`gpai check`: the operator's engine run offline on manifests (SPEC section 5).

Only argparse is imported at module level (`gpai` imports every subcommand module to build its
parser); the loader, the API models and the engine are imported when the command runs. Nothing on
this path imports kopf, the Kubernetes client, prometheus_client or aiohttp (a test keeps it so).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable
    from typing import IO

    from gpai_operator.report import CheckReport

EXIT_ALLOWED = 0
EXIT_DENIED = 1
EXIT_INPUT_ERROR = 2

DESCRIPTION = """\
Evaluate GPAIModels, their evidence and the workloads that serve them from manifests, with the
same engine as the operator, and say what admission would decide. No cluster is contacted."""

EPILOG = """\
policies: the --policy files; else the CompliancePolicy objects among the inputs; else the
  built-in policies/eu-ai-act.yaml (every obligation, Deny, every namespace).
namespaces: objects without one are in `default`; a Namespace given as an object carries its
  labels, any other has only kubernetes.io/metadata.name.
errors: each printed on stderr as `<file>#<document>: error: <message>`, documents counted from 1
  and the message naming the object and the field; also listed under "errors" with -o json.
exit codes, the same for every output format: 0 no workload denied; 1 at least one Deny; 2 unusable
  input (bad YAML, an object that fails its schema or CEL rule, an unknown kind of gpai.dev, a bad
  flag). With input errors the report of the valid objects is still printed, and the exit code is 2."""


def parse_now(text: str) -> dt.datetime:
    """`--now`: a date (00:00 UTC that day) or an RFC 3339 time with `Z` or an offset."""
    import datetime as dt
    import re

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text):
            return dt.datetime.fromisoformat(text.upper()).astimezone(dt.UTC)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    raise argparse.ArgumentTypeError(
        f"{text!r}: expected a date (2026-11-28) or an RFC 3339 time (2026-11-28T09:30:00Z)"
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="evaluate manifests offline: models, their evidence and the workloads serving them",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a manifest file (YAML, multi-document or kind: List, or JSON), a folder (read recursively "
        "for *.yaml, *.yml, *.json; dot-entries skipped), or - for stdin",
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="CompliancePolicy manifests to apply (repeatable); CompliancePolicies among the inputs "
        "are then validated but not used",
    )
    parser.add_argument(
        "--now",
        type=parse_now,
        default=None,
        metavar="DATE|RFC3339",
        help="evaluate at this instant: 2026-11-28 (00:00 UTC) or 2026-11-28T09:30:00Z (default: now)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "sarif", "junit"),
        default="table",
        help="table for a person (default), json for a program, sarif for code scanning (SARIF 2.1.0), "
        "junit for CI test reports (JUnit XML)",
    )
    parser.add_argument(
        "--workload-kind",
        action="append",
        default=[],
        metavar="GROUP/VERSION/RESOURCE:KIND:PATH[,PATH]",
        help="another pod-producing kind to judge as a workload, with the path(s) of its pod template "
        "(repeatable), e.g. argoproj.io/v1alpha1/rollouts:Rollout:spec.template",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import gc
    import os
    import sys

    # A short-lived process that allocates a few objects per YAML node and frees them by reference
    # counting: the cyclic collector would only rescan the growing heap (a third of the run time on
    # a large folder). Nothing here builds reference cycles that matter for memory.
    gc.disable()

    from gpai_operator.cli.output import write_errors
    from gpai_operator.engine import KindSpecError, WorkloadKinds
    from gpai_operator.report import build_report

    try:
        kinds = WorkloadKinds.with_extra(args.workload_kind)
    except KindSpecError as error:
        sys.stderr.write(f"gpai check: error: --workload-kind: {error}\n")
        return EXIT_INPUT_ERROR
    report = build_report(args.paths, args.policy, args.now or dt.datetime.now(dt.UTC), kinds=kinds)
    write_errors(report.errors, sys.stderr)
    for note in report.notes:
        sys.stderr.write(f"note: {note}\n")
    sys.stderr.flush()
    try:
        writer(args.output)(report, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`); the exit code still holds
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exit_code(report)


def writer(output: str) -> Callable[[CheckReport, IO[str]], None]:
    """The function that prints the report in this format (each imported only when used)."""
    if output == "sarif":
        from gpai_operator.cli.sarif import write_sarif

        return write_sarif
    if output == "junit":
        from gpai_operator.cli.junit import write_junit

        return write_junit
    from gpai_operator.cli.output import write_json, write_table

    return write_json if output == "json" else write_table


def exit_code(report: CheckReport) -> int:
    if report.errors:
        return EXIT_INPUT_ERROR
    return EXIT_DENIED if report.denied else EXIT_ALLOWED
