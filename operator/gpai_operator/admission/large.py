"""Large AdmissionReviews, parsed in another process and rebuilt on the event loop in small steps.

Parsing on the event loop, or in a thread, would hold it: `json.loads` is one C call that keeps the
GIL until the whole body is parsed (tens of milliseconds for a 7 MiB review of an ordinary workload,
half a second for 7 MiB of small JSON values), and a Python thread competing for the GIL slows every
step of the event loop as well. So a large body goes to a parser process (parsing.py; one per webhook
server, started with it, about 15 MiB), which parses it and cuts the document into
pieces of at most a couple of thousand values (pieces.py). Back in the operator, the pieces are
decoded and assembled a millisecond at a time, with the event loop free to answer health probes,
watches and small reviews between them; the review itself then runs as for a small body. The parsed
document is freed the same way, a container at a time, and the cyclic garbage collector is paused
meanwhile (a JSON document has no cycles: reference counting frees it; a collection pass over its
many objects would be a pause).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import marshal
import sys
import time
from collections.abc import Callable
from typing import Any

from gpai_operator.admission import parsing
from gpai_operator.admission.outcome import Answer, Outcome
from gpai_operator.admission.pieces import Builder, Piece

SLICE = 0.001  # seconds of assembling or freeing between two turns of the event loop


class ParserFailed(Exception):
    """The parser process ended or broke its protocol (killed for memory?); the next body restarts it."""


class ParserProcess:
    """One webhook server's parser process (parsing.py), spoken to over its stdin and stdout from the
    server's event loop: no thread, nothing shared. One body at a time."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._turn: asyncio.Lock | None = None

    async def start(self) -> None:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                parsing.__name__,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )

    async def parse(self, body: bytes) -> parsing.Parsed:
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            await self.start()
            process = self._process
            assert process is not None
            assert process.stdin is not None
            assert process.stdout is not None
            try:
                process.stdin.write(len(body).to_bytes(parsing.LENGTH, "big"))
                process.stdin.write(body)
                await process.stdin.drain()
                size = int.from_bytes(await process.stdout.readexactly(parsing.LENGTH), "big")
                answer = await process.stdout.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                await self.stop()
                raise ParserFailed(f"the parser process ended (exit code {process.returncode})") from error
            parsed: parsing.Parsed = marshal.loads(answer)
            return parsed

    async def stop(self, timeout: float = 5.0) -> None:
        """Ends the process (it exits when its stdin closes) and waits for it; kills it after `timeout`."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


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


async def judge(
    parser: ParserProcess, reviewer: Callable[[Any], Answer], body: bytes
) -> tuple[int, bytes, Outcome]:
    """(HTTP status, encoded answer, outcome) of a large body: parsed by `parser`, assembled, judged
    and freed here."""
    kind, parsed = await parser.parse(body)
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
