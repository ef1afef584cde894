"""The loader's shortcut (identity entries only for kinds read that way) reads what the full parse reads.

These run in-process: they compare loader results document by document, not CLI output.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gpai_operator import loader
from tests.cli.helpers import EXAMPLES, only


def _full(data: bytes) -> list[Any]:
    """Every document through the full parse of the whole stream, lean as gpai check reads."""
    return list(loader._parse_stream(data, "f", lean=True))


def _read(data: bytes) -> list[Any]:
    return list(loader.parse_yaml(data, "f", lean=True))


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: p.name)
def test_the_examples_read_the_same_either_way(path) -> None:
    assert _read(path.read_bytes()) == _full(path.read_bytes())


TRICKY = {
    "flow-style object": b"{apiVersion: apps/v1, kind: Deployment, metadata: {name: a}, spec: {}}\n",
    "quoted top-level keys": b'"apiVersion": v1\n"kind": Pod\n"metadata": {name: a}\nspec: {}\n',
    "anchor shared across entries": b"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: &l {a: b}\nspec: *l\n",
    "alias into metadata": b"apiVersion: v1\nkind: Pod\nspec: &s {a: b}\nmetadata:\n  labels: *s\n",
    "quoted scalar continued at column 0": b'apiVersion: v1\nspec: "abc\nkind: Pod"\nmetadata: {name: a}\n',
    "flow continued at column 0": b"apiVersion: v1\nkind: Pod\nspec: {a: 1,\nmetadata: {name: fake}}\n",
    "sequence value at column 0": b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nitems:\n- 1\n- 2\n",
    "comments and blank lines": b"# head\n\napiVersion: v1 # c\n\n# x\nkind: Pod\nmetadata: {name: a}\n",
    "document markers with comments": b"--- # first\napiVersion: v1\nkind: Pod\n---\n# a comment\n---\nx\n",
    "content on the marker line": b"--- {apiVersion: v1, kind: Pod}\n--- !!map\napiVersion: v1\nkind: Pod\n",
    "directive": b"%YAML 1.1\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
    "document end marker": b"apiVersion: v1\nkind: Pod\n...\n---\napiVersion: v1\nkind: Pod\n",
    "windows line ends": b"apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: a\r\nspec: {}\r\n---\r\n",
    "no final newline": b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}",
    "duplicate top-level key": b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n",
    "duplicate label": b"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: 1, a: 2}\nspec: {}\n",
    "merge key": b"apiVersion: v1\nkind: Pod\nmetadata:\n  <<: {name: a}\n  labels: {x: y}\nspec: {}\n",
    "broken spec": b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [\n",
    "our group": b"apiVersion: gpai.dev/v1alpha1\nkind: GPAIModel\nmetadata: {name: a}\nspec: {n: 1e25}\n",
    "namespace": b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {x: y}}\n",
    "list": b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n",
    "indented document": b"  apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n",
    "tagged value": b"apiVersion: v1\nkind: Pod\nmetadata: !!map {name: a}\nspec: !custom x\n",
}


@pytest.mark.parametrize("data", TRICKY.values(), ids=TRICKY.keys())
def test_tricky_documents_read_the_same_as_the_full_parse(data: bytes) -> None:
    full, read = _full(data), _read(data)
    if any(isinstance(r, loader.InputError) and "not read" in r.message for r in full):
        # The whole-stream parse stops at a syntax error; cut into documents, the rest is still read.
        assert read[: len(full) - 1] == full[:-1]
    else:
        assert read == full


def test_a_workload_keeps_only_what_is_read() -> None:
    data = (
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, labels: {x: y}}\nspec: {replicas: 3}\n"
    )

    assert _read(data) == [
        (
            "f#1",
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "labels": {"x": "y"}}},
            1,
            (),
        )
    ]


def test_a_syntax_error_in_the_part_not_built_is_still_an_error() -> None:
    data = b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [\n"
    data += b"---\napiVersion: v1\nkind: Pod\n"

    results = _read(data)

    assert isinstance(results[0], loader.InputError)
    assert results[0].source == "f#1"
    assert results[0].message.startswith("invalid YAML at line 6")
    assert results[1] == ("f#2", {"apiVersion": "v1", "kind": "Pod"}, 7, ())


def test_without_lean_every_object_is_read_whole() -> None:
    data = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 3}\n"

    ((_, document, _, _),) = only(loader.Document, loader.parse_yaml(data, "f"))

    assert document["spec"] == {"replicas": 3}


def test_scalars_read_as_kubernetes_reads_them() -> None:
    data = (
        b"apiVersion: gpai.dev/v1alpha1\nkind: X\nspec:\n"
        b"  a: 3.8e25\n  b: 1e25\n  c: '3.8e25'\n  d: 2026-09-01\n"
        b"  e: yes\n  f: ~\n  g: 0x1F\n  h: 2026-02-30\n  i: .5e3\n  j: -2E-3\n  k: 1_000\n"
    )

    ((_, document, _, _),) = _read(data)

    spec = document["spec"]
    assert spec == {
        "a": 3.8e25,
        "b": 1e25,
        "c": "3.8e25",
        "d": dt.date(2026, 9, 1),
        "e": True,
        "f": None,
        "g": 31,
        "h": "2026-02-30",  # no such day: a string, as Kubernetes keeps it
        "i": 500.0,
        "j": -0.002,
        "k": 1000,
    }


def test_document_indexes_count_from_one_and_skip_comment_only_preambles() -> None:
    data = b"# a comment\n---\napiVersion: v1\nkind: A\n---\n---\napiVersion: v1\nkind: B\n"

    assert [document.source for document in _read(data)] == ["f#1", "f#3"]


def test_each_document_remembers_the_line_its_content_starts_on() -> None:
    data = (
        b"# preamble\n---\n# the first object\n\napiVersion: v1\nkind: A\nmetadata: {name: a}\n"
        b"---\napiVersion: v1\nkind: B\nmetadata: {name: b}\n"
        b"--- {apiVersion: v1, kind: C, metadata: {name: c}}\n"
        b"---\n  apiVersion: v1\n  kind: D\n"
        b"---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: E, metadata: {name: e}}\n"
        b"-   apiVersion: v1\n    kind: F\n"
    )

    read = only(loader.Manifest, loader.read_bytes("f.yaml", data, lean=True))
    lines = [(m.obj["kind"], m.source, m.line) for m in read]

    assert lines == [
        ("A", "f.yaml#1", 5),
        ("B", "f.yaml#2", 9),
        ("C", "f.yaml#3", 12),
        ("D", "f.yaml#4", 14),
        ("E", "f.yaml#5", 20),  # an item of a List: where the item starts
        ("F", "f.yaml#5", 21),
    ]


def test_a_json_document_starts_where_its_object_does() -> None:
    (manifest,) = only(
        loader.Manifest, loader.read_bytes("f.json", b'\n\n  {"apiVersion": "v1", "kind": "Pod"}\n')
    )

    assert (manifest.path, manifest.line) == ("f.json", 3)


def test_parallel_reading_gives_the_same_objects_and_errors_in_the_same_order(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "_BATCH_BYTES", 2000)  # several batches even for the examples
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n")
    paths = [str(EXAMPLES), str(tmp_path)]

    one = list(loader.iter_load(paths, jobs=1, lean=True))
    two = list(loader.iter_load(paths, jobs=2, lean=True))

    assert two == one
    assert isinstance(one[-1], loader.InputError)
