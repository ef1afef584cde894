"""Entry point of the `gpai` command.

Subcommand modules import only argparse at module level and import what they use inside run(),
so `gpai check` never pays for kopf or the Kubernetes client at start-up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

SUBCOMMANDS = ("check", "crds", "run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpai",
        description="Keep general-purpose AI models from going live without their EU AI Act evidence.",
    )
    from gpai_operator import __version__

    parser.add_argument("--version", action="version", version=f"gpai {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        import_module(f"gpai_operator.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
