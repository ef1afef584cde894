"""Fuzzing what `gpai check` reads: whatever the manifests, a report or input errors, never a traceback.

Documents start as the examples' valid objects (every kind of ours, every workload kind, Namespaces,
policies) and are then damaged (tests/damage.py): a value at any depth replaced by any YAML/JSON
type, a field removed or added; then the text cut, spliced with YAML punctuation or replaced by
garbage. The whole of `gpai check` after argument parsing runs in-process on them: reading,
validation, evaluation and both output formats. Derandomised, so CI sees the same examples on every
run. Beside the random search, every value of every example (and every metadata field read when
present) is set to every JSON type, one at a time: about 9,000 documents, each read or reported.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpai_operator.cli.check import EXIT_ALLOWED, EXIT_DENIED, EXIT_INPUT_ERROR, exit_code
from gpai_operator.cli.output import write_errors, write_json, write_table
from gpai_operator.report import build_report
from tests.cli.helpers import EXAMPLES
from tests.damage import KUBERNETES_FIELDS, any_value, changed, damaged, paths_of

NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEMPLATES: list[dict[str, Any]] = [
    document
    for path in sorted(EXAMPLES.rglob("*.yaml"))
    for document in yaml.safe_load_all(path.read_text())
    if isinstance(document, dict)
]
# Text that means something to YAML, spliced into documents.
SNIPPETS = [
    "- ", ": ", "? ", "[", "]", "{", "}", ",", "&a ", "*a", "!!binary ", "!custom ", "<<: ", "|", ">", "#",
    "%YAML 1.1\n", "---\n", "...\n", "'", '"', "\t", "\n", "\n  ", "\\", "\x00", "\ufeff", "~", "1e25",
    "0x1F", "2026-02-30", "yes", ".nan", "9" * 5000, "\xff",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.dates().map(str)
    | st.sampled_from(["", "1.0", "Deny", "CREATE", "gpai.dev/v1alpha1", "apps/v1"])
)
values = any_value(scalars)


@st.composite
def documents(draw: st.DrawFn) -> Any:
    template = draw(st.sampled_from(TEMPLATES))
    if draw(st.integers(0, 9)) == 0:  # now and then a List of the document and another
        template = {"apiVersion": "v1", "kind": "List", "items": [template, draw(st.sampled_from(TEMPLATES))]}
    return draw(damaged(template, values, changes=(0, 3)))


def as_text(value: Any, json_file: bool) -> str:
    if json_file:
        return json.dumps(value, default=str)
    return yaml.dump(value, Dumper=yaml.CSafeDumper, sort_keys=False)


@st.composite
def corrupted(draw: st.DrawFn, text: str) -> str:
    """Text cut, spliced with YAML punctuation, or partly replaced; sometimes left whole."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "splice", "replace"]))
        if how == "cut":
            text = text[:at]
        elif how == "splice":
            text = text[:at] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=8)) + text[at:]
        else:
            text = text[:at] + draw(st.text(max_size=30)) + text[at + draw(st.integers(0, 30)) :]
    return text


@st.composite
def manifest_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, bytes) of a file: one JSON document, or YAML documents; or bytes of any kind."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([".yaml", ".json"])), draw(st.binary(max_size=200))
    json_file = draw(st.booleans())
    count = 1 if json_file else draw(st.integers(1, 4))
    texts = [draw(corrupted(as_text(draw(documents()), json_file))) for _ in range(count)]
    separator = draw(st.sampled_from(["---\n", "\n---\n", "--- \n"]))
    return (".json" if json_file else ".yaml"), separator.join(texts).encode("utf-8", "surrogatepass")


@FUZZ
@given(files=st.lists(manifest_files(), min_size=1, max_size=3), first_as_policy=st.booleans())
def test_any_manifests_give_a_report_or_input_errors_with_a_source(
    files: list[tuple[str, bytes]], first_as_policy: bool
) -> None:
    with tempfile.TemporaryDirectory(prefix="gpai-fuzz-") as folder:
        paths = []
        for number, (suffix, data) in enumerate(files):
            path = Path(folder, f"f{number}{suffix}")
            path.write_bytes(data)
            paths.append(str(path))
        policies = paths[:1] if first_as_policy and len(paths) > 1 else []

        report = build_report(paths[len(policies) :], policies, NOW, jobs=1)

        written = io.StringIO()
        write_json(report, written)
        assert set(json.loads(written.getvalue())) >= {"models", "workloads", "errors"}
        write_table(report, io.StringIO())
        write_errors(report.errors, io.StringIO())
    assert exit_code(report) in (EXIT_ALLOWED, EXIT_DENIED, EXIT_INPUT_ERROR)
    named = re.compile(f"(?:{'|'.join(map(re.escape, paths))})(?:#[1-9][0-9]*)?")
    for error in report.errors:
        assert named.fullmatch(error.source), error
        assert error.message.strip(), error


# ---- every field, every type ---------------------------------------------------------------------
WRONG_TYPES = [None, True, 7, 2.5, "x", [], ["x"], {"x": 1}]


def _variants(template: dict[str, Any]) -> list[Any]:
    """The template with each of its values, and each field read when present, set to each type;
    each variant in a namespace (or, cluster-scoped, under a name) of its own, so none hides another."""
    variants: list[Any] = []
    for path in [*paths_of(template), *KUBERNETES_FIELDS]:
        for value in WRONG_TYPES:
            variant = changed(template, path, value)
            metadata = variant.get("metadata") if isinstance(variant, dict) else None
            if isinstance(metadata, dict):
                field = "name" if variant.get("kind") in ("Namespace", "CompliancePolicy") else "namespace"
                if isinstance(metadata.get(field), str):
                    variant = changed(variant, ("metadata", field), f"{metadata[field]}-{len(variants)}")
            variants.append(variant)
    return variants


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=[f"{t.get('kind')}-{t.get('metadata', {}).get('name')}" for t in TEMPLATES]
)
def test_any_type_in_any_field_of_any_kind_is_read_or_an_input_error(template, tmp_path) -> None:
    manifests = tmp_path / "variants.json"
    items = _variants(template)
    manifests.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, default=str))

    report = build_report([str(manifests)], [], NOW, jobs=1)

    write_json(report, io.StringIO())
    write_table(report, io.StringIO())
    assert exit_code(report) == EXIT_INPUT_ERROR
    assert {error.source for error in report.errors} == {f"{manifests}#1"}
