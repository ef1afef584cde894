"""Hypothesis strategies shared by the fuzz tests: valid objects damaged at any depth.

    damaged(document, any_value(scalars), extra=KUBERNETES_FIELDS)

draws a copy of `document` with a few changes, each at a path chosen, as often as not, among the
`extra` paths (fields that may be absent but are read when present), else among every value of the
document: the value there replaced by one drawn from `values` (any type), removed, or set where
it was absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

Path = tuple[Any, ...]

# Fields of any Kubernetes object that are read when present, as paths from the object.
KUBERNETES_FIELDS: tuple[Path, ...] = (
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "generateName"),
    ("metadata", "namespace"),
    ("metadata", "generation"),
    ("metadata", "uid"),
    ("metadata", "labels"),
    ("metadata", "labels", "gpai.dev/model"),
    ("metadata", "annotations"),
    ("metadata", "ownerReferences"),
    ("spec",),
    ("items",),
)
OWNER_REFERENCES = st.lists(
    st.fixed_dictionaries(
        {"apiVersion": st.just("apps/v1"), "kind": st.sampled_from(["ReplicaSet", "ConfigMap"])},
        optional={"name": st.just("owner"), "uid": st.just("1"), "controller": st.booleans()},
    ),
    max_size=2,
)


def any_value(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A scalar as often as a list or mapping of them (nested a little)."""
    return scalars | st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


def paths_of(value: Any, prefix: Path = ()) -> list[Path]:
    """The path of every value inside `value` (not of `value` itself), depth first."""
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    found = []
    for key, item in items:
        found.append((*prefix, key))
        found.extend(paths_of(item, (*prefix, key)))
    return found


_REMOVED = object()


def changed(document: Any, path: Path, value: Any) -> Any:
    """`document` with `value` at `path` (or that entry removed, for _REMOVED), a mapping made on the
    way wherever a scalar is; only the collections on the path are copied (templates stay intact)."""
    if not path:
        return document if value is _REMOVED else value
    key, rest = path[0], path[1:]
    if isinstance(document, dict):
        copied = dict(document)
        if rest:
            copied[key] = changed(document.get(key, {}), rest, value)
        elif value is _REMOVED:
            copied.pop(key, None)
        else:
            copied[key] = value
        return copied
    if isinstance(document, list) and isinstance(key, int) and key < len(document):
        copied_list = list(document)
        if rest:
            copied_list[key] = changed(document[key], rest, value)
        elif value is _REMOVED:
            del copied_list[key]
        else:
            copied_list[key] = value
        return copied_list
    if isinstance(document, list) or value is _REMOVED:
        return document  # no such entry
    return changed({}, path, value)  # a scalar where a mapping would hold the path


_PATHS: dict[int, tuple[Any, list[Path]]] = {}  # id -> (document, its paths): templates are reused


def _paths(document: Any) -> list[Path]:
    if id(document) not in _PATHS:
        _PATHS[id(document)] = (document, paths_of(document))  # the document kept: its id stays its own
    return _PATHS[id(document)][1]


@st.composite
def damaged(
    draw: st.DrawFn,
    document: Any,
    values: st.SearchStrategy[Any],
    extra: Sequence[Path] = KUBERNETES_FIELDS,
    changes: tuple[int, int] = (1, 3),
) -> Any:
    """`document` with between changes[0] and changes[1] values replaced, removed or added."""
    inside = _paths(document)
    for _ in range(draw(st.integers(*changes))):
        path = draw(st.sampled_from(extra if extra and (not inside or draw(st.booleans())) else inside))
        if draw(st.integers(0, 4)) == 0:
            document = changed(document, path, _REMOVED)
            continue
        owners = path[-1] == "ownerReferences" and draw(st.booleans())
        document = changed(document, path, draw(OWNER_REFERENCES if owners else values))
    return document
