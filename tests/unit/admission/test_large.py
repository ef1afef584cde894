"""Large bodies off the event loop: cut into small pieces in the parser process and rebuilt exactly,
with the same answers as the envelope gives small bodies; freed without touching what is kept."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import marshal
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpai_operator.admission import large, parsing
from gpai_operator.admission.envelope import Unanswerable, decode
from gpai_operator.admission.outcome import Answer, Outcome
from gpai_operator.admission.pieces import SMALL, Builder, sizes, split

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=3), children, max_size=6)
    ),
    max_leaves=80,
)


def rebuilt(document: Any, piece_nodes: int) -> Any:
    builder = Builder()
    for piece in split(document, piece_nodes):
        builder.add(piece)
    return builder.document


@given(JSON, st.integers(min_value=1, max_value=20))
@settings(max_examples=400)
def test_a_document_is_rebuilt_from_its_pieces_exactly(document: Any, piece_nodes: int) -> None:
    again = rebuilt(document, piece_nodes)

    assert again == document
    assert json.dumps(again) == json.dumps(document)  # key order too


def test_no_piece_holds_more_than_its_share_of_values() -> None:
    document = {
        "spec": {"env": [{"name": f"V{i}", "value": "x"} for i in range(5000)], "tags": [[1, 2]] * 3000}
    }
    pieces = split(document, piece_nodes=100)

    for _, _, encoded in pieces:
        assert nodes(marshal.loads(encoded)) <= 101  # the value and its items
    assert rebuilt(document, 100) == document


def test_only_large_containers_are_remembered_while_cutting() -> None:
    document: dict[str, Any] = {
        "tiny": [{}] * 1000,
        "small": [[1, 2]] * 1000,
        "large": [list(range(SMALL + 1))] * 3,
    }
    counted = sizes(document)

    assert counted[id(document)] == nodes(document)
    assert counted[id(document["large"])] == nodes(document["large"])
    assert counted[id(document["large"][0])] == SMALL + 2
    assert len(counted) == 5  # the document, its three lists and the one large inner list (shared)
    assert rebuilt(document, 100) == document


def nodes(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(nodes(child) for child in value.values())
    if isinstance(value, list):
        return 1 + sum(nodes(child) for child in value)
    return 1


def test_deep_nesting_is_cut_without_recursion() -> None:
    document: Any = 1
    for _ in range(900):  # about as deep as json.loads reads
        document = [document, {"k": 2}]

    assert rebuilt(document, 10) == document


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"a": ]',
        b"\xff\xfe\x00",
        b"[" * 100_000,
        b'{"a": 1} x',
        b"",
        b'"\\ud800"',
        b"[1]",
        b"3",
        b"null",
    ],
)
def test_a_body_that_is_no_json_object_gets_the_answer_the_envelope_gives(body: bytes) -> None:
    with pytest.raises(Unanswerable) as refused:
        decode(body)

    kind, why = parsing.parse_into_pieces(body)

    assert kind == "unanswerable"
    answer = large.unanswerable(why)
    assert answer.status == 400
    assert answer.body["message"] == f"not an AdmissionReview request: {refused.value}"
    assert answer.outcome == Outcome("", "Other", "Error")


class Leaf:
    """A value that says when it is freed."""

    freed: list[str] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def __del__(self) -> None:
        Leaf.freed.append(self.name)


def test_dismantle_frees_the_document_but_not_what_someone_else_holds() -> None:
    Leaf.freed.clear()
    kept = {"labels": [Leaf("kept")]}
    document = {"spec": [{"a": [Leaf("deep")]}, kept], "metadata": {"name": Leaf("name")}}
    stack = [document]
    del document
    gc.disable()  # freed by reference counting, container by container
    try:
        asyncio.run(large.dismantle(stack))
    finally:
        gc.enable()

    assert sorted(Leaf.freed) == ["deep", "name"]
    assert [leaf.name for leaf in kept["labels"]] == ["kept"]


def test_a_large_body_is_parsed_in_the_parser_process_and_judged_here() -> None:
    review = {"request": {"uid": "u-1", "object": {"env": [{"name": f"V{i}"} for i in range(10_000)]}}}
    seen: list[Any] = []

    def reviewer(document: Any) -> Answer:
        seen.append(len(document["request"]["object"]["env"]))
        return Answer(
            200, {"response": {"uid": document["request"]["uid"]}}, Outcome("Pod", "CREATE", "Allow")
        )

    async def judge() -> Any:
        parser = large.ParserProcess()
        try:
            return await large.judge(parser, reviewer, json.dumps(review).encode())
        finally:
            await parser.stop()

    status, payload, outcome = asyncio.run(judge())

    assert (status, json.loads(payload), outcome.decision) == (200, {"response": {"uid": "u-1"}}, "Allow")
    assert seen == [10_000]
    assert gc.isenabled()


def test_the_parser_process_speaks_length_prefixed_frames() -> None:
    requests = io.BytesIO(parsing.frame(b'{"a": [1, 2]}') + parsing.frame(b"[1]"))
    answers = io.BytesIO()

    parsing.serve(requests, answers)

    stream = io.BytesIO(answers.getvalue())
    first = marshal.loads(stream.read(int.from_bytes(stream.read(parsing.LENGTH), "big")))
    second = marshal.loads(stream.read(int.from_bytes(stream.read(parsing.LENGTH), "big")))
    assert first[0] == "pieces"
    assert second == ("unanswerable", "the body is a JSON list, not an AdmissionReview object")


def test_a_parser_process_dying_fails_its_body_and_the_next_body_gets_a_new_one() -> None:
    slow = b'{"x": [' + b"0," * 2_000_000 + b"0]}"  # a second or so to parse and cut

    async def scenario() -> tuple[Any, Any]:
        parser = large.ParserProcess()
        await parser.start()
        process = parser._process
        assert process is not None
        try:
            parsing_slow = asyncio.create_task(parser.parse(slow))
            await asyncio.sleep(0.05)
            process.kill()  # as the kernel would, out of memory
            with pytest.raises(large.ParserFailed):
                await parsing_slow
            return await parser.parse(b"{}"), await parser.parse(b"[")
        finally:
            await parser.stop()

    assert asyncio.run(scenario()) == (
        ("pieces", split({})),
        ("unanswerable", "the body is not JSON: Expecting value at line 1 column 2"),
    )


def test_the_parser_process_runs_below_the_operators_priority() -> None:
    async def niceness() -> int:
        parser = large.ParserProcess()
        try:
            await parser.parse(b"{}")  # it has set its priority by the time it answers
            assert parser._process is not None
            return os.getpriority(os.PRIO_PROCESS, parser._process.pid)
        finally:
            await parser.stop()

    assert asyncio.run(niceness()) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + parsing.NICENESS)
