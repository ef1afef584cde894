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

Path = tuple[str | int, ...]
# ("set", path, value): the root (empty path) or a dict's key; ("update", path, {...}): more keys of
# the dict at path; ("extend", path, [...]): more items of the list at path.
Piece = tuple[str, Path, bytes]


def sizes(document: Any) -> dict[int, int]:
    """id(container) -> JSON values in it, itself included, for every dict and list (iteratively:
    documents nest as deep as the parser allowed)."""
    counted: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        node, expanded = stack.pop()
        children = node.values() if type(node) is dict else node
        if expanded:
            counted[id(node)] = 1 + sum(
                counted[id(child)] if type(child) in (dict, list) else 1 for child in children
            )
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children if type(child) in (dict, list))
    return counted


def split(document: Any, piece_nodes: int = PIECE_NODES) -> list[Piece]:
    """The pieces `Builder` rebuilds `document` from (a JSON value as json.loads returns it)."""
    if type(document) not in (dict, list):
        return [("set", (), marshal.dumps(document))]
    counted = sizes(document)
    pieces: list[Piece] = []
    # (path, container): containers too large for one piece, whose contents are still to be cut
    pending: list[tuple[Path, Any]] = []

    def place(path: Path, node: Any) -> None:
        if type(node) in (dict, list) and counted[id(node)] > piece_nodes:
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
        size = counted[id(child)] if type(child) in (dict, list) else 1
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
