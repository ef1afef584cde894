"""The parser process: large AdmissionReview bodies in, their documents cut into pieces out.

    python -m gpai_operator.admission.parsing      # started by large.py, one per webhook server

Reads requests from stdin and writes answers to stdout, one at a time, each framed as an 8-byte
big-endian length and that many bytes. A request is a body; its answer is marshal-encoded:
`("pieces", [Piece, ...])` (pieces.py) or `("unanswerable", why)` when the body is no JSON object,
why said as envelope.py says it for small bodies. It ends when stdin closes (its operator is gone).
Only the standard library and pieces.py are loaded here.
"""

from __future__ import annotations

import contextlib
import gc
import json
import marshal
import os
import sys
from typing import IO, Any

from gpai_operator.admission.pieces import split

LENGTH = 8  # bytes of the length prefix
NICENESS = 10  # the parser's scheduling priority, below the operator's

Parsed = tuple[str, Any]  # ("pieces", [Piece, ...]) or ("unanswerable", why)


def parse_into_pieces(body: bytes) -> Parsed:
    """json.loads(body), cut into pieces; or why the body is no JSON object."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        return (
            "unanswerable",
            f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}",
        )
    except UnicodeDecodeError as error:
        return "unanswerable", f"the body is not UTF-8 text: {error.reason}"
    except RecursionError:
        return "unanswerable", "the body is JSON nested too deeply to read"
    if not isinstance(document, dict):
        return "unanswerable", f"the body is a JSON {type(document).__name__}, not an AdmissionReview object"
    return "pieces", split(document)


def frame(data: bytes) -> bytes:
    return len(data).to_bytes(LENGTH, "big") + data


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer every request on `requests` until it ends."""
    while len(header := requests.read(LENGTH)) == LENGTH:
        body = requests.read(int.from_bytes(header, "big"))
        answers.write(frame(marshal.dumps(parse_into_pieces(body))))
        answers.flush()


if __name__ == "__main__":
    # Parsing a large body is background work next to what the operator's event loop does (probes,
    # watches, every other review): on a busy node the kernel should give the operator the CPU first.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    gc.disable()  # nothing outlives a request here: reference counting frees each document
    serve(sys.stdin.buffer, sys.stdout.buffer)
