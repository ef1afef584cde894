"""What one document of `gpai check`'s input may cost to read: bytes, values and nesting.

`gpai check` runs in CI on manifests from pull requests, forks' included, so a document may be
hostile: a YAML alias bomb (the billion-laughs class, CVE-2019-11253 in kube-apiserver's history)
expands a few hundred bytes into billions of values; a deep or huge document exhausts the stack or
memory. Each document is held to these limits and refused, as an input error, when over one
(docs/cli.md, "Limits"; docs/decisions.md says how they were chosen):

- `MAX_DOCUMENT_BYTES`: checked before anything is parsed.
- `MAX_VALUES`, counted as libyaml counts parse events: one per scalar, two per list or mapping
  (its start and end), one per key; an alias counts as all it repeats. For a document large enough
  to come near the limit, libyaml counts the events in C before anything is composed into Python
  objects (`check_yaml`); what aliases would expand is measured on the composed nodes before
  anything is built (`check_expanded`). JSON is counted from its text before it is decoded
  (`check_json`).
- `MAX_DEPTH`: lists and mappings inside each other; the builder counts while it builds, JSON is
  measured once decoded (`check_json_depth`), its decoder having refused anything far deeper.

Nothing here changes how a document within the limits is read: normal input keeps libyaml's C
parser and composer, and JSON its C decoder.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

_CParser: type[CParser] | None
try:
    from yaml._yaml import CParser

    _CParser = CParser
except ImportError:  # pragma: no cover (every PyYAML wheel has libyaml)
    _CParser = None

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
MAX_VALUES = 1_000_000
MAX_DEPTH = 200

# A YAML document has fewer than two parse events per byte (measured: at most 1.5, for `? ? ? ...`),
# so one below this size cannot exceed MAX_VALUES and is not counted beforehand.
_COUNT_FROM_BYTES = MAX_VALUES // 2
_STREAM_EVENTS = 4  # stream start and end, document start and end
# A JSON string, possibly unterminated; possessive, so any input is matched in linear time.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.?)*+"?', re.DOTALL)


class OverLimit(Exception):
    """A document over one of the limits; the message says which and by how much, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line  # 0-based, in the text parsed, where the builder stopped; None if not known

    def text(self, line_offset: int = 0) -> str:
        """The message for a person: what was over the limit, where, and that nothing of it was read."""
        where = f" at line {self.line + 1 + line_offset}" if self.line is not None else ""
        return f"{self}{where}; not read"


def too_many_bytes(size: int) -> OverLimit:
    return OverLimit(
        f"a document of {size:,} bytes, more than the {MAX_DOCUMENT_BYTES:,} "
        f"({MAX_DOCUMENT_BYTES >> 20} MiB) allowed"
    )


def too_many_values(expanded_by_aliases: bool = False) -> OverLimit:
    if expanded_by_aliases:
        return OverLimit(
            f"its aliases expand the document to more than {MAX_VALUES:,} values (a YAML alias bomb?)"
        )
    return OverLimit(f"a document of more than {MAX_VALUES:,} values")


def too_deep(line: int | None = None) -> OverLimit:
    return OverLimit(f"nested more than {MAX_DEPTH} levels deep", line)


def too_many_digits() -> str:
    """Python converts integers of up to `sys.get_int_max_str_digits()` digits (CVE-2020-10735)."""
    return f"an integer of more than {sys.get_int_max_str_digits()} digits"


def check_yaml(data: bytes) -> None:
    """Raises OverLimit when YAML text is over the byte or value limit, else the parser's YAMLError
    if it has a syntax error and had to be counted; a small document passes without being parsed."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_many_bytes(len(data))
    if len(data) <= _COUNT_FROM_BYTES:
        return
    if _CParser is not None:
        events = _CParser(data).raw_parse()
    else:  # pragma: no cover
        events = sum(1 for _ in yaml.parse(data, Loader=yaml.SafeLoader))
    if events - _STREAM_EVENTS > MAX_VALUES:
        raise too_many_values()


def check_expanded(root: Node) -> None:
    """Raises OverLimit when a composed YAML document would build more than MAX_VALUES values, its
    aliases expanded. Each node is measured once (its size kept by id), so the time taken is linear
    in the text; a node reached from inside itself counts as nothing (the builder reports the cycle).
    """
    sizes: dict[int, int] = {}
    measuring: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, measured_inside = stack.pop()
        if node.__class__ is ScalarNode:
            continue
        children = _children(node)
        if measured_inside:
            measuring.discard(id(node))
            size = 2 + sum(1 if c.__class__ is ScalarNode else sizes.get(id(c), 0) for c in children)
            if size > MAX_VALUES:
                raise too_many_values(expanded_by_aliases=True)
            sizes[id(node)] = size
        elif id(node) not in sizes and id(node) not in measuring:
            measuring.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if child.__class__ is not ScalarNode)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    children: list[Node] = node.value
    return children


def check_json(data: bytes) -> None:
    """Raises OverLimit when JSON text is over the byte or value limit (counted as for YAML)."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_many_bytes(len(data))
    if _json_events(data) > MAX_VALUES and _json_events(_JSON_STRING.sub(b"", data)) > MAX_VALUES:
        raise too_many_values()


def check_json_depth(document: Any, data: bytes) -> None:
    """Raises OverLimit when decoded JSON nests lists and mappings more than MAX_DEPTH deep; looked at
    only when its text has that many brackets."""
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return
    stack = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep()
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))


def _json_events(text: bytes) -> int:
    """An upper bound of the events of JSON text: every key and value follows a `:`, a `,` or the
    start of a list or object, and each list or object ends. Without its strings, the text is
    counted exactly but for one too many per empty list or object."""
    opens = text.count(b"[") + text.count(b"{")
    return text.count(b",") + text.count(b":") + 2 * opens + 1
