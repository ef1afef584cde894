"""Hostile manifests, as a pull request from a fork may bring them: refused in bounded time and memory.

Each is an input error naming its file and document (exit 2), and every other document of the run is
still read and evaluated. The limits: gpai_operator/input_limits.py and docs/cli.md, "Limits".
"""

from __future__ import annotations

import json
import resource
import subprocess
import time

import pytest

from gpai_operator import input_limits, loader
from gpai_operator.input_limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_VALUES
from tests.cli.helpers import GPAI, NOW, deployment, documents, evidence, model, only

MEMORY_LIMIT = 512 * 1024 * 1024  # address space, as RLIMIT_AS counts it
TIME_LIMIT = 5.0


def alias_bomb(indent: str = "  ", levels: int = 9) -> str:
    """The billion-laughs class: each level repeats the previous one nine times (9**9 values)."""
    lines = [f'{indent}lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"{indent}lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def bomb_model() -> str:
    head = "apiVersion: gpai.dev/v1alpha1\nkind: GPAIModel\nmetadata: {name: laughs, namespace: ml}\n"
    return f"{head}spec:\n{alias_bomb()}"


def run_confined(*args: str, stdin: bytes | None = None) -> tuple[int, str, str, float]:
    """The installed gpai under an address-space limit and a timeout: (exit code, stdout, stderr, s)."""

    def confine() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    started = time.perf_counter()
    done = subprocess.run(
        [str(GPAI), "check", *args, "--now", NOW, "-o", "json"],
        input=stdin,
        capture_output=True,
        preexec_fn=confine,
        timeout=TIME_LIMIT,
        check=False,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode(), time.perf_counter() - started


def errors_of(stderr: str) -> dict[str, str]:
    """source -> message of each error line (one error per source in these tests)."""
    found = {}
    for line in stderr.splitlines():
        source, marker, message = line.partition(": error: ")
        if marker:
            found[source] = message
    return found


# ---- alias bombs -------------------------------------------------------------------------------
def test_an_alias_bomb_is_refused_in_bounded_time_and_memory_and_the_rest_is_evaluated(tmp_path) -> None:
    manifests = tmp_path / "pr.yaml"
    manifests.write_text(documents(model(), bomb_model(), evidence(), deployment()))
    (tmp_path / "more.yaml").write_text(deployment(name="batch"))

    code, stdout, stderr, _ = run_confined(str(tmp_path))

    assert code == 2
    assert "Traceback" not in stderr
    assert errors_of(stderr) == {
        f"{manifests}#2": f"its aliases expand the document to more than {MAX_VALUES:,} values "
        "(a YAML alias bomb?); not read"
    }
    report = json.loads(stdout)
    assert [m["name"] for m in report["models"]] == ["acme"]
    assert report["models"][0]["compliant"] is True
    assert sorted(w["name"] for w in report["workloads"]) == ["batch", "chat"]


BOMBS = {
    # a workload's metadata is read even though the rest of a workload is only checked for syntax
    "workload-metadata.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"
    f"  annotations:\n{alias_bomb(indent='    ')}spec: {{}}\n",
    # merge keys repeat a mapping's entries without an alias in the value
    "merge-keys.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  labels:\n"
    "    m0: &m0 {a: b, c: d, e: f, g: h, i: j, k: l, m: n, o: p, q: r}\n"
    + "".join(f"    m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 9)}]}}\n" for i in range(1, 10)),
    # an item of a List, the document starting with a directive (read as a stream)
    "list-stream.yaml": "%YAML 1.1\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n"
    f"  kind: ConfigMap\n  metadata: {{name: x}}\n  data:\n{alias_bomb(indent='    ')}",
    # the bomb beside an invalid value that is built first: naming that value's path must not expand it
    "error-beside-the-bomb.yaml": "apiVersion: gpai.dev/v1alpha1\nkind: GPAIModel\n"
    "metadata: {name: m, namespace: ml}\nspec:\n  z:\n    <<: {"
    + alias_bomb(indent="").replace("\n", ", ").rstrip(", ")
    + "}\n    k: !!binary aGk=\n",
}


def test_alias_bombs_anywhere_are_refused_in_bounded_time_and_memory(tmp_path) -> None:
    for name, text in BOMBS.items():
        (tmp_path / name).write_text(text)

    code, _, stderr, _ = run_confined(str(tmp_path), "-", stdin=bomb_model().encode())

    assert code == 2
    assert "Traceback" not in stderr
    refused = {source for source, message in errors_of(stderr).items() if "(a YAML alias bomb?)" in message}
    assert refused == {"<stdin>#1", *(f"{tmp_path / name}#1" for name in BOMBS)}


def test_aliases_within_the_limit_are_read_as_kubernetes_reads_them() -> None:
    text = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + alias_bomb(levels=5).encode()

    (document,) = (d.data for d in only(loader.Document, loader.parse_yaml(text, "f")))

    assert len(document["data"]["lol5"]) == 9
    assert document["data"]["lol5"][0][0][0][0][0] == ["lol"] * 9


def test_a_duplicate_key_repeated_by_aliases_is_reported_once() -> None:
    text = config_map("x") + b"  a: &a {k: 1, k: 2}\n  b: [*a, *a, *a]\n"

    errors = [item for item in loader.parse_yaml(text, "f") if isinstance(item, loader.InputError)]

    assert [error.message for error in errors] == ["data.a.k: duplicate key (line 6)"]


# ---- nesting -----------------------------------------------------------------------------------
def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def config_map(data: str) -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  d: {data}\n".encode()


def test_nesting_up_to_the_limit_is_read_and_deeper_is_refused_with_its_line() -> None:
    # the document and `data` are two levels: MAX_DEPTH - 2 more fit
    (document,) = (
        d.data for d in only(loader.Document, loader.parse_yaml(config_map(nested(MAX_DEPTH - 2)), "f"))
    )
    assert document["data"]["d"] == json.loads(nested(MAX_DEPTH - 2))

    (error,) = loader.parse_yaml(config_map(nested(MAX_DEPTH - 1)), "f")
    assert error == loader.InputError("f#1", f"nested more than {MAX_DEPTH} levels deep at line 5; not read")


def test_deep_block_nesting_is_refused_too() -> None:
    text = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + b"".join(
        b"  " * (level + 1) + b"k:\n" for level in range(MAX_DEPTH + 10)
    )

    (error,) = only(loader.InputError, loader.parse_yaml(text, "f"))

    # the document is level 1, the mapping under `data:` (line 5) level 2, and each line one deeper
    assert error.message == f"nested more than {MAX_DEPTH} levels deep at line {MAX_DEPTH + 4}; not read"


def test_deep_nesting_in_yaml_and_json_is_an_input_error_naming_file_and_document(tmp_path) -> None:
    pod = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {nested(300)}\n"
    deep = {
        "workload.yaml": documents(deployment(), pod),
        "model.yaml": documents(model(), evidence()).replace("spec:\n", f"spec:\n  deep: {nested(600)}\n", 1),
        "beyond-libyaml.yaml": config_map(nested(5000)).decode(),
        "within.json": json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": json.loads(nested(300))}),
        "beyond-the-decoder.json": '{"apiVersion": "v1", "kind": "ConfigMap", "data": '
        + nested(100_000)
        + "}",
    }
    for name, text in deep.items():
        (tmp_path / name).write_text(text)

    code, stdout, stderr, _ = run_confined(str(tmp_path))

    assert code == 2
    assert "Traceback" not in stderr
    labels_line = deep["workload.yaml"].splitlines().index(f"  labels: {nested(300)}") + 1
    too_deep = f"nested more than {MAX_DEPTH} levels deep"
    errors = errors_of(stderr)
    assert errors == {
        f"{tmp_path / 'beyond-libyaml.yaml'}#1": errors[f"{tmp_path / 'beyond-libyaml.yaml'}#1"],
        f"{tmp_path / 'beyond-the-decoder.json'}#1": f"{too_deep}; not read",
        f"{tmp_path / 'model.yaml'}#1": f"{too_deep} at line 7; not read",
        f"{tmp_path / 'within.json'}#1": f"{too_deep}; not read",
        f"{tmp_path / 'workload.yaml'}#2": f"{too_deep} at line {labels_line}; not read",
    }
    # libyaml's own limit (1,000 levels) stops what is deeper still, before anything is composed
    assert errors[f"{tmp_path / 'beyond-libyaml.yaml'}#1"].startswith("invalid YAML at line 5, column ")
    assert errors[f"{tmp_path / 'beyond-libyaml.yaml'}#1"].endswith("exceeded maximum nesting depth")
    report = json.loads(stdout)
    assert [w["name"] for w in report["workloads"]] == ["chat"]  # the valid document before the deep one


# ---- size --------------------------------------------------------------------------------------
def test_documents_over_the_size_limits_are_refused_and_the_next_document_is_read(tmp_path) -> None:
    big_scalar = "x" * MAX_DOCUMENT_BYTES
    big_document = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{a: {big_scalar}}}\n"
    dense = "[" + "1," * MAX_VALUES + "1]"  # about 2 MB, a million values
    files = {
        "big.yaml": documents(big_document, deployment()),
        "dense.yaml": documents(model(), f"apiVersion: v1\nkind: List\nitems: {dense}\n"),
        "big.json": json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": big_scalar}}),
        "dense.json": '{"apiVersion": "v1", "kind": "List", "items": ' + dense + "}",
        # a directive makes the file one stream: the limits then hold for all of it
        "stream.yaml": f"%YAML 1.1\n---\napiVersion: v1\nkind: List\nitems: {dense}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    code, stdout, stderr, _ = run_confined(str(tmp_path))

    assert code == 2
    assert "Traceback" not in stderr

    def too_large(size: int) -> str:
        return (
            f"a document of {size:,} bytes, more than the {MAX_DOCUMENT_BYTES:,} (32 MiB) allowed; not read"
        )

    values = f"a document of more than {MAX_VALUES:,} values; not read"
    assert errors_of(stderr) == {
        f"{tmp_path / 'big.yaml'}#1": too_large(len(big_document)),
        f"{tmp_path / 'big.json'}#1": too_large(len(files["big.json"])),
        f"{tmp_path / 'dense.yaml'}#2": values,
        f"{tmp_path / 'dense.json'}#1": values,
        f"{tmp_path / 'stream.yaml'}#1": values,
    }
    report = json.loads(stdout)
    assert [m["name"] for m in report["models"]] == ["acme"]
    assert [w["name"] for w in report["workloads"]] == ["chat"]


def test_a_syntax_error_in_a_document_counted_before_it_is_read_is_reported_as_usual() -> None:
    # large enough to be counted first (over 500,000 bytes), in few values so that it parses quickly
    broken = b"apiVersion: v1\nkind: List\nitems: [" + b"a-long-value, " * 40_000 + b"\n"

    first, second = loader.parse_yaml(broken + b"---\nx: 1\n", "f")
    assert isinstance(first, loader.InputError)
    assert isinstance(second, loader.Document)

    assert first == next(loader._parse_stream(broken, "f"))  # what the full parse says
    assert first.message.startswith("invalid YAML at line 4, column 1: ")
    assert (second.source, second.data) == ("f#2", {"x": 1})


@pytest.mark.parametrize(
    "text",
    [
        '{"items": [' + ", ".join(['"a,b:c[d{e"'] * (MAX_VALUES // 3)) + "]}",  # punctuation inside strings
        '{"s": "' + '\\"[,' * (MAX_VALUES // 2) + '"}',  # escaped quotes
    ],
    ids=["punctuation in strings", "escaped quotes"],
)
def test_json_punctuation_inside_strings_does_not_count(text: str) -> None:
    input_limits.check_json(text.encode())  # does not raise


def test_json_is_counted_in_linear_time_whatever_its_quotes() -> None:
    text = b'"' + b'\\",' * 2_000_000  # an unterminated string of escaped quotes and commas

    started = time.perf_counter()
    input_limits.check_json(text)  # the decoder then says what is wrong with it
    assert time.perf_counter() - started < TIME_LIMIT


def test_huge_integers_are_input_errors_not_crashes() -> None:
    digits = "1" * 5000

    (yaml_error,) = only(loader.InputError, loader.read_bytes("f.yaml", config_map(digits)))
    (json_error,) = only(
        loader.InputError,
        loader.read_bytes("f.json", ('{"apiVersion": "v1", "kind": "x", "n": ' + digits + "}").encode()),
    )

    assert yaml_error.message == "data.d: invalid YAML at line 5: an integer of more than 4300 digits"
    assert json_error.message == "invalid JSON: an integer of more than 4300 digits"


def test_fields_of_the_wrong_type_are_input_errors_naming_the_field(gpai, write) -> None:
    path = write(
        "types.yaml",
        documents(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml, labels: [team]}\n",
            model().replace("metadata:\n", "metadata:\n  generation: many\n", 1),
            deployment().replace("metadata:\n", "metadata:\n  ownerReferences: 7\n", 1),
        ),
    )

    run = gpai("check", str(path), "-o", "json")

    assert run.code == 2
    assert run.error_lines == [f"{path}#1: error: Namespace ml: metadata.labels: must be a map of strings"]
    assert [m["name"] for m in run.json["models"]] == ["acme"]  # generation is the API server's
    assert [w["name"] for w in run.json["workloads"]] == ["chat"]  # no owner: judged
