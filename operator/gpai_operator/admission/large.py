"""Large AdmissionReviews, parsed in another process and rebuilt on the event loop in small steps.

Parsing on the event loop, or in a thread, would hold it: `json.loads` is one C call that keeps the
GIL until the whole body is parsed (tens of milliseconds for a 7 MiB review of an ordinary workload,
half a second for 7 MiB of small JSON values), and a Python thread competing for the GIL slows every
step of the event loop as well. So a large body goes to a parser process (one, shared by every
webhook server of the process, started with the first), which parses it and cuts the document into
pieces of at most a couple of thousand values (pieces.py). Back in the operator, the pieces are
decoded and assembled a millisecond at a time, with the event loop free to answer health probes,
watches and small reviews between them; the review itself then runs as for a small body. The parsed
document is freed the same way, a container at a time, and the cyclic garbage collector is paused
meanwhile (a JSON document has no cycles: reference counting frees it; a collection pass over its
many objects would be a pause).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import gc
import json
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from gpai_operator.admission.outcome import Answer, Outcome
from gpai_operator.admission.pieces import Builder, Piece, split

SLICE = 0.001  # seconds of assembling or freeing between two turns of the event loop

Parsed = tuple[str, Any]  # ("pieces", [Piece, ...]) or ("unanswerable", why)


# ---- in the parser process ------------------------------------------------------------------------------
def parse_into_pieces(body: bytes) -> Parsed:
    """json.loads(body), cut into pieces; or why the body is no JSON object (as envelope.py says it)."""
    gc.disable()  # nothing lives on in this process between bodies
    try:
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
            return (
                "unanswerable",
                f"the body is a JSON {type(document).__name__}, not an AdmissionReview object",
            )
        return "pieces", split(document)
    finally:
        gc.enable()


def _ready() -> bool:
    return True


# ---- in the operator ------------------------------------------------------------------------------------
def unanswerable(why: str) -> Answer:
    """HTTP 400 with a metav1.Status, as review.py answers a small body that is no AdmissionReview."""
    status = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "code": 400,
        "reason": "BadRequest",
        "message": f"not an AdmissionReview request: {why}",
    }
    return Answer(status=400, body=status, outcome=Outcome("", "Other", "Error"))


async def assemble(pieces: list[Piece]) -> Any:
    """The document, built from its pieces a slice at a time."""
    builder = Builder()
    deadline = time.perf_counter() + SLICE
    for piece in pieces:
        builder.add(piece)
        if time.perf_counter() > deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE
    return builder.document


async def dismantle(stack: list[Any]) -> None:
    """Frees the documents in `stack` (their only holder; emptied here) one container at a time, a
    slice at a time. A container somebody else still references (the reviewer kept it) is left alone,
    with all it holds."""
    deadline = time.perf_counter() + SLICE
    while stack:
        node = stack.pop()
        # 2: `node` and getrefcount's own argument; more means another holder.
        if type(node) is dict and sys.getrefcount(node) == 2:
            stack.extend(value for value in node.values() if type(value) in (dict, list))
            node.clear()
        elif type(node) is list and sys.getrefcount(node) == 2:
            stack.extend(value for value in node if type(value) in (dict, list))
            node.clear()
        del node
        if time.perf_counter() > deadline:
            await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE


class _CollectorPause:
    """Pauses the cyclic garbage collector while any large body is being assembled, judged or freed."""

    def __init__(self) -> None:
        self.holders = 0
        self.was_enabled = True

    def __enter__(self) -> None:
        if self.holders == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
        self.holders += 1

    def __exit__(self, *_: object) -> None:
        self.holders -= 1
        if self.holders == 0 and self.was_enabled:
            gc.enable()


_PAUSE = _CollectorPause()


_parser: concurrent.futures.ProcessPoolExecutor | None = None
_parser_lock = threading.Lock()


def start_parser() -> concurrent.futures.ProcessPoolExecutor:
    """The parser process of this Python process, started now if it is not running: one for every
    webhook server in the process, for as long as the process lives. Spawned, not forked: forking a
    process with threads is unsafe."""
    global _parser
    with _parser_lock:
        if _parser is None:
            _parser = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            _parser.submit(_ready)  # the process starts with its first task
        return _parser


def stop_parser() -> None:
    """Stops the parser process (at interpreter exit; the next large body would start another)."""
    global _parser
    with _parser_lock:
        parser, _parser = _parser, None
    if parser is not None:
        parser.shutdown(wait=True, cancel_futures=True)


atexit.register(stop_parser)


def _discard_parser(broken: concurrent.futures.ProcessPoolExecutor) -> None:
    global _parser
    with _parser_lock:
        if _parser is broken:
            _parser = None
    broken.shutdown(wait=False, cancel_futures=True)


async def judge(reviewer: Callable[[Any], Answer], body: bytes) -> tuple[int, bytes, Outcome]:
    """(HTTP status, encoded answer, outcome) of a large body: parsed in the parser process,
    assembled, judged and freed here."""
    parser = start_parser()
    try:
        kind, parsed = await asyncio.get_running_loop().run_in_executor(parser, parse_into_pieces, body)
    except concurrent.futures.process.BrokenProcessPool:
        _discard_parser(parser)  # killed (out of memory?): the next body starts a new one
        raise
    if kind == "unanswerable":
        answer = unanswerable(parsed)
        return answer.status, json.dumps(answer.body, separators=(",", ":")).encode(), answer.outcome
    with _PAUSE:
        document = [await assemble(parsed)]
        del parsed
        try:
            answer = reviewer(document[0])
            return answer.status, json.dumps(answer.body, separators=(",", ":")).encode(), answer.outcome
        finally:
            await dismantle(document)
