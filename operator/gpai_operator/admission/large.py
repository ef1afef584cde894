"""Large AdmissionReviews, judged in a worker thread without holding the event loop.

A thread alone would not do it: `json.loads` is one C call that keeps the GIL until the whole body
is parsed (up to half a second for 7 MiB of small JSON values), and the event loop cannot run in the
meantime. So the worker parses with the standard library's own pure-Python scanner (the one
`json` falls back to without its C accelerator; strings are still scanned in C): the interpreter
hands the GIL to the event loop every few milliseconds, so health probes, watches and small reviews
keep being answered. Its slowness (several times json.loads) is paid by the large body alone.

Two more sources of long pauses are kept out:
- the cyclic garbage collector, which the millions of objects of a large body would trigger again
  and again, each time scanning every object of the operator, is paused while the worker runs (a
  JSON document holds no cycles; its objects are freed by reference counting);
- freeing the parsed body, which as one `del` is again one long C call, is done piece by piece.

One worker thread: large bodies are judged one at a time (intake.py bounds how many wait).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import json.scanner
import sys
from collections.abc import Callable
from typing import Any

from gpai_operator.admission.outcome import Answer, Outcome

_DECODER = json.JSONDecoder()
_DECODER.scan_once = json.scanner.py_make_scanner(_DECODER)  # type: ignore[attr-defined]

Judge = Callable[[Any], Answer]  # the reviewer: a decoded AdmissionReview in, the answer out
Result = tuple[int, bytes, Outcome]  # HTTP status, encoded body, outcome for metrics


def parse(body: bytes) -> Any:
    """The JSON value of `body`, as `json.loads(body)` would return it, in interruptible steps.

    Raises what json.loads raises: ValueError (JSONDecodeError, UnicodeDecodeError), RecursionError.
    """
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    return _DECODER.decode(text)


def dismantle(stack: list[Any]) -> None:
    """Frees the parsed JSON trees in `stack` (its only holder; emptied here) one container at a
    time, in Python steps between which the GIL can be taken.

    A container somebody else still references (the reviewer kept it) is left alone, with all it holds.
    """
    while stack:
        node = stack.pop()
        # 2: `node` and getrefcount's own argument; more means another holder.
        if type(node) is dict and sys.getrefcount(node) == 2:
            stack.extend(value for value in node.values() if type(value) in (dict, list))
            node.clear()
        elif type(node) is list and sys.getrefcount(node) == 2:
            stack.extend(value for value in node if type(value) in (dict, list))
            node.clear()


def not_json(error: ValueError | RecursionError) -> Answer:
    """The answer to a body that is not JSON: a 400 Status, as envelope.py gives for small bodies."""
    if isinstance(error, json.JSONDecodeError):
        why = f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
    elif isinstance(error, UnicodeDecodeError):
        why = f"the body is not UTF-8 text: {error.reason}"
    elif isinstance(error, RecursionError):
        why = "the body is JSON nested too deeply to read"
    else:
        why = f"the body is not JSON: {error}"
    return unanswerable(why)


def not_an_object(value: Any) -> Answer:
    """The answer to JSON that is not an object (review() would take a str for JSON text)."""
    return unanswerable(f"the body is a JSON {type(value).__name__}, not an AdmissionReview object")


def unanswerable(why: str) -> Answer:
    status = {
        "apiVersion": "v1",
        "kind": "Status",
        "status": "Failure",
        "code": 400,
        "reason": "BadRequest",
        "message": f"not an AdmissionReview request: {why}",
    }
    return Answer(status=400, body=status, outcome=Outcome("", "Other", "Error"))


def judge(reviewer: Judge, body: bytes) -> Result:
    """Parse, review and encode one large body (in the worker thread)."""
    collecting = gc.isenabled()
    gc.disable()
    parsed: list[Any] = []  # the only reference to the parsed body once the reviewer is done with it
    try:
        try:
            parsed.append(parse(body))
        except (ValueError, RecursionError) as error:
            answer = not_json(error)
        else:
            answer = reviewer(parsed[0]) if isinstance(parsed[0], dict) else not_an_object(parsed[0])
        return answer.status, json.dumps(answer.body, separators=(",", ":")).encode(), answer.outcome
    finally:
        dismantle(parsed)
        if collecting:
            gc.enable()


class Worker:
    """The one thread large bodies are judged in; started on first use, stopped by `close`."""

    def __init__(self) -> None:
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    async def judge(self, reviewer: Judge, body: bytes) -> Result:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="gpai-admission-large"
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, judge, reviewer, body)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
