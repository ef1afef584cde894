"""A JSON document cut into small pieces, and put back together a piece at a time.

    pieces = split(json.loads(body))          # in the parser process (large.py)
    builder = Builder()
    for piece in pieces: builder.add(piece)   # in the operator, between other work
    document = builder.document

Each piece is an operation on the document being built and a marshal-encoded value of at most about
`PIECE_NODES` JSON values, so that decoding one takes a fraction of a millisecond whatever the
document holds: a container with more inside it is sent as an empty one first, then its contents in
order, a run of small items per piece. Only the standard library is imported here: the parser process
loads nothing else.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable
from typing import Any

PIECE_NODES = 2048
SMALL = 8  # containers of at most this many values are counted as this many

Path = tuple[str | int, ...]
# ("set", path, value): the root (empty path) or a dict's key; ("update", path, {...}): more keys of
# the dict at path; ("extend", path, [...]): more items of the list at path.
Piece = tuple[str, Path, bytes]


def sizes(document: Any) -> dict[int, int]:
    """id(container) -> JSON values in it, itself included, for the containers holding more than
    SMALL values; any other container holds at most SMALL. Iterative (documents nest as deep as the
    parser allowed), and in memory only what is large: a document of a million tiny objects does
    not need a million entries."""
    large: dict[int, int] = {}
    if type(document) not in (dict, list):
        return large
    stack = [(document, iter(_items(document)))]
    totals = [1]  # the running size of each container still open on the stack
    while stack:
        node, items = stack[-1]
        for child in items:
            if type(child) in (dict, list) and child:
                stack.append((child, iter(_items(child))))
                totals.append(1)
                break
            totals[-1] += 1
        else:
            stack.pop()
            size = totals.pop()
            if size > SMALL:
                large[id(node)] = size
            if totals:
                totals[-1] += size
    return large


def _items(container: Any) -> Iterable[Any]:
    return container.values() if type(container) is dict else container


def _size(node: Any, counted: dict[int, int]) -> int:
    """A value's size for cutting: exact when large, SMALL (an upper bound) for a small container."""
    if type(node) not in (dict, list):
        return 1
    return counted.get(id(node), SMALL if node else 1)


def split(document: Any, piece_nodes: int = PIECE_NODES) -> list[Piece]:
    """The pieces `Builder` rebuilds `document` from (a JSON value as json.loads returns it)."""
    if type(document) not in (dict, list):
        return [("set", (), marshal.dumps(document))]
    counted = sizes(document)
    pieces: list[Piece] = []
    # (path, container): containers too large for one piece, whose contents are still to be cut
    pending: list[tuple[Path, Any]] = []

    def place(path: Path, node: Any) -> None:
        if _size(node, counted) > piece_nodes:
            pieces.append(("set", path, marshal.dumps(type(node)())))
            pending.append((path, node))
        else:
            pieces.append(("set", path, marshal.dumps(node)))

    place((), document)
    while pending:
        path, node = pending.pop()
        if type(node) is dict:
            _cut(pieces, place, path, node.items(), counted, piece_nodes, "update")
        else:
            _cut(pieces, place, path, enumerate(node), counted, piece_nodes, "extend")
    return pieces


def _cut(
    pieces: list[Piece],
    place: Any,
    path: Path,
    items: Iterable[tuple[Any, Any]],
    counted: dict[int, int],
    piece_nodes: int,
    operation: str,
) -> None:
    """Runs of small items become one piece each; a large item is placed on its own (in order)."""
    run: list[tuple[Any, Any]] = []
    weight = 0

    def flush() -> None:
        nonlocal weight
        if run:
            value = dict(run) if operation == "update" else [item for _, item in run]
            pieces.append((operation, path, marshal.dumps(value)))
            run.clear()
            weight = 0

    for key, child in items:
        size = _size(child, counted)
        if size > piece_nodes:
            flush()
            if operation == "extend":  # a placeholder, replaced by the item's own "set"
                pieces.append(("extend", path, marshal.dumps([None])))
            place((*path, key), child)
            continue
        if weight + size > piece_nodes:
            flush()
        run.append((key, child))
        weight += size
    flush()


class Builder:
    """Applies pieces in order; `document` is the result once the last one is in."""

    def __init__(self) -> None:
        self.document: Any = None

    def add(self, piece: Piece) -> None:
        operation, path, encoded = piece
        value = marshal.loads(encoded)
        if operation == "set" and not path:
            self.document = value
            return
        target = self.document
        for step in path[:-1] if operation == "set" else path:
            target = target[step]
        if operation == "set":
            target[path[-1]] = value
        elif operation == "update":
            target.update(value)
        else:
            target.extend(value)
