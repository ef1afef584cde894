"""Large bodies off the event loop: the interruptible parser reads JSON exactly as json.loads does,
freeing the tree leaves alone what the reviewer kept, and the collector is back on afterwards."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpai_operator.admission import large
from gpai_operator.admission.envelope import Unanswerable, decode
from gpai_operator.admission.outcome import Answer, Outcome

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=50,
)


@given(JSON)
@settings(max_examples=300)
def test_parse_reads_json_as_json_loads_does(value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()

    assert large.parse(body) == json.loads(body)


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

    status, payload, outcome = large.judge(lambda _review: pytest.fail("not a review"), body)

    assert status == 400
    assert json.loads(payload)["message"] == f"not an AdmissionReview request: {refused.value}"
    assert outcome == Outcome("", "Other", "Error")


class Leaf:
    """A value that says when it is freed."""

    freed: list[str] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def __del__(self) -> None:
        Leaf.freed.append(self.name)


def test_dismantle_frees_the_tree_but_not_what_someone_else_holds() -> None:
    Leaf.freed.clear()
    kept = {"labels": [Leaf("kept")]}
    tree = {"spec": [{"a": [Leaf("deep")]}, kept], "metadata": {"name": Leaf("name")}}
    stack = [tree]
    del tree
    gc.disable()  # freed by reference counting, container by container
    try:
        large.dismantle(stack)
    finally:
        gc.enable()

    assert sorted(Leaf.freed) == ["deep", "name"]
    assert [leaf.name for leaf in kept["labels"]] == ["kept"]


def test_judge_parses_reviews_encodes_and_turns_the_collector_back_on() -> None:
    seen: list[Any] = []

    def reviewer(review: Any) -> Answer:
        seen.append(review["request"]["uid"])
        return Answer(200, {"response": {"uid": review["request"]["uid"]}}, Outcome("Pod", "CREATE", "Allow"))

    status, payload, outcome = large.judge(reviewer, b'{"request": {"uid": "u-1"}}')

    assert (status, json.loads(payload), outcome) == (
        200,
        {"response": {"uid": "u-1"}},
        reviewer({"request": {"uid": "u-1"}}).outcome,
    )
    assert seen[0] == "u-1"
    assert gc.isenabled()
