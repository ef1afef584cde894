"""`gpai crds`: write the CustomResourceDefinitions generated from the API models."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("crds", help="write crds/*.yaml from the API models")
    parser.add_argument(
        "--output", "-o", type=Path, default=Path("crds"), help="folder to write (default: crds)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gpai_operator.crdgen import write_all

    for path in write_all(args.output):
        print(path)
    return 0
