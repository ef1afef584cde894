"""Manifests from files, folders and stdin, as `gpai check` reads them.

Sources: every object and every problem is named `<path>#<n>`: the path as given on the command
line (or found under a folder given), `<stdin>` for `-`, and the 1-based index of the YAML document
in that file, counted as `kubectl` does (`---` starts a document; a JSON file is document 1). An
item of a `kind: List` keeps the source of its document, and its field paths start at `items[i]`.
Each object also remembers the line its document's content starts on (for reports that point into
the file, such as SARIF), and an item of a `kind: List` the line the item starts on.
Problems never stop the reading: a bad document is reported and the next one is read.

YAML is parsed by libyaml (PyYAML's C parser) and turned into Python data here, not by PyYAML's
constructor, so that:
- numbers read as Kubernetes reads them: `3.8e25` or `1e25` (strings to YAML 1.1) are floats;
- duplicate keys are reported, as `kubectl` does, instead of the last one silently winning;
- with `lean=True` (what `gpai check` uses), only what is read is built. Our own kinds,
  Namespaces and Lists are read whole; for every other kind (Deployments, Pods, Services...)
  `apiVersion`, `kind` and `metadata` suffice. A file is cut into its documents at the `---` lines,
  and the top-level entries of such a document are found from its unindented lines; only the
  identity entries are composed into Python objects, the others (the pod template: most of the
  bytes) are only checked for syntax by libyaml, in C. Whatever that shortcut cannot prove safe
  (directives, `...`, anchors crossing entries, flow or quoted keys at the top level) goes through
  the full parse, so the data read is the same. Without `lean`, every object is read whole.

Every document is held to the limits of `input_limits` (bytes, values with aliases expanded,
nesting) before and while it is read; one over a limit is an input error, and the next is read.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gpai_operator import input_limits as limits
from gpai_operator.input_limits import OverLimit

_CParser: type[CParser] | None
try:  # libyaml is part of every PyYAML wheel; the pure-Python parser is the slow fallback.
    from yaml import CSafeLoader as _BaseLoader
    from yaml._yaml import CParser

    _CParser = CParser
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    _CParser = None

OUR_GROUP_PREFIX = "gpai.dev/"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_NAME = "<stdin>"

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

# Plain scalars that YAML 1.1 (and so Kubernetes' YAML reader) turns into booleans or null.
_TRUE_WORDS = ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE_WORDS = ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_BOOLS = {**dict.fromkeys(_TRUE_WORDS, True), **dict.fromkeys(_FALSE_WORDS, False)}
_WORDS: dict[str, str] = {
    **dict.fromkeys(_BOOLS, _BOOL),
    **dict.fromkeys(["~", "null", "Null", "NULL", ""], _NULL),
    "<<": _MERGE,
}
_NUMERIC_START = frozenset("-+0123456789.")
# A number in exponent form without a dot or an exponent sign: YAML 1.1 reads `3.8e25` as a string.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_IDENTITY_KEYS = ("apiVersion", "kind", "metadata")

# Cutting a file into documents and a document into its top-level entries (see the module doc).
# Patterns start with a newline rather than `^` in MULTILINE mode: a literal first character lets
# the regex engine jump from newline to newline instead of trying every position (several times
# faster on large files).
_DOCUMENT_START = re.compile(rb"\n---(?=[ \t\r\n]|\Z)")
_BARE_MARKER = re.compile(rb"---[ \t]*(?:#[^\n]*)?\r?(?:\n|\Z)")
_NEEDS_STREAM = re.compile(rb"^(?:%|\.\.\.(?:[ \t\r\n]|\Z))", re.MULTILINE)  # directives, `...`
_UNINDENTED = re.compile(rb"\n([^ \t\r\n#][^\n]*)")
_SIMPLE_KEY = re.compile(rb"([A-Za-z][A-Za-z0-9_.-]*):(?:[ \t]|\r?$)")
_CONTENT = re.compile(rb"^[ \t]*[^ \t\r\n#]", re.MULTILINE)
_READ_WHOLE = re.compile(rb"gpai\.dev/|Namespace|List")  # a hint only: the parsed values decide


@dataclass(frozen=True, slots=True)
class InputError:
    """One problem with the input, named by its source (`path#doc`) and, in the message, its field."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class Manifest:
    """One Kubernetes object read from the input."""

    source: str  # path#doc
    obj: dict[str, Any]
    field_prefix: str = ""  # "items[3]." for an item of a List, so field paths stay exact
    line: int = 0  # 1-based line where the document's content starts; 0: not known

    @property
    def path(self) -> str:
        """The input as named in the source (`<stdin>` for stdin)."""
        return self.source.rpartition("#")[0]


@dataclass
class Loaded:
    manifests: list[Manifest]
    errors: list[InputError]
    names: list[str]  # the inputs read, in order, as named in sources


def needs_full_object(api_version: Any, kind: Any) -> bool:
    """Our own kinds, Namespaces and Lists are read whole; for the rest, identity and metadata do."""
    if isinstance(api_version, str) and api_version.startswith(OUR_GROUP_PREFIX):
        return True
    return isinstance(kind, str) and (kind == "Namespace" or kind.endswith("List"))


# ---- YAML: nodes to data ---------------------------------------------------------------------
class _ManifestLoader(_BaseLoader):
    """libyaml's parser and composer with a fast resolver; construction is done by `_Builder`."""

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _WORDS.get(value)
            if tag is not None:
                return tag
            if value[0] in _NUMERIC_START:
                resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                return resolved
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


_ManifestLoader.add_implicit_resolver(_FLOAT, _EXPONENT_FLOAT, list("-+.0123456789"))


class YamlContentError(Exception):
    """A document that parses but cannot become JSON-like data (a custom tag, a recursive alias...)."""

    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


class _Builder:
    """Turns composed YAML nodes into plain Python data the way Kubernetes reads YAML.

    For text without aliases (no `*`): no node can be reached twice, so no cycle can occur.
    `_AliasBuilder` adds the bookkeeping that catches a recursive alias. (Neither holds a reference
    to itself: `gpai check` runs with the cyclic garbage collector off.)
    """

    def __init__(self, loader: _ManifestLoader) -> None:
        self._loader = loader
        self.duplicates: list[tuple[MappingNode, Node]] = []  # (mapping, key node) of each duplicate
        self._depth = 0  # lists and mappings being built, one inside the other

    @staticmethod
    def for_text(loader: _ManifestLoader, text: bytes) -> _Builder:
        return _AliasBuilder(loader) if b"*" in text else _Builder(loader)

    def document(self, node: Node, identity_only: bool = False) -> Any:
        """The document's data; with identity_only, other kinds keep only apiVersion, kind, metadata."""
        if not isinstance(node, MappingNode) or not identity_only:
            return self.build(node)
        self._check_tag(node, _MAP)
        pairs = self._pairs(node)
        head = {key: self.build(pairs[key]) for key in ("apiVersion", "kind") if key in pairs}
        if needs_full_object(head.get("apiVersion"), head.get("kind")):
            return self.build(node)
        if "metadata" in pairs:
            head["metadata"] = self.build(pairs["metadata"])
        return head

    def build(self, node: Node) -> Any:
        kind = node.__class__
        if kind is ScalarNode:
            return node.value if node.tag == _STR else self._scalar(node)  # type: ignore[arg-type]
        self._depth += 1
        if self._depth > limits.MAX_DEPTH:
            raise limits.too_deep(node.start_mark.line)
        if kind is SequenceNode:
            self._check_tag(node, _SEQ)
            built: Any = [self.build(item) for item in node.value]
        else:
            self._check_tag(node, _MAP)
            built = self._mapping(node)  # type: ignore[arg-type]
        self._depth -= 1  # not restored when an exception ends the build: the builder is dropped then
        return built

    def _mapping(self, node: MappingNode) -> dict[Any, Any]:
        """A mapping's data in one pass; merge keys (`<<`) fill in what is not set explicitly."""
        result: dict[Any, Any] = {}
        merged: list[Node] = []
        build = self.build
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                raise YamlContentError(key_node, "a mapping key must be a scalar")
            tag = key_node.tag
            if tag == _STR:
                key = key_node.value
            elif tag == _MERGE:
                merged.append(value_node)
                continue
            else:
                key = self._scalar(key_node)
            if key in result:
                self._duplicate(node, key_node)
            result[key] = build(value_node)
        for value_node in merged:
            for key, value in self._merged(value_node).items():
                if key not in result:
                    result[key] = build(value)
        return result

    def _pairs(self, node: MappingNode) -> dict[Any, Node]:
        """Key -> value node of a mapping, merge keys (`<<`) expanded, duplicates recorded."""
        pairs: dict[Any, Node] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                raise YamlContentError(key_node, "a mapping key must be a scalar")
            if key_node.tag == _MERGE:
                merged.append(value_node)
                continue
            key = self._scalar(key_node)
            if key in pairs:
                self._duplicate(node, key_node)
            pairs[key] = value_node
        for value_node in merged:
            for key, value in self._merged(value_node).items():
                pairs.setdefault(key, value)
        return pairs

    def _merged(self, value_node: Node) -> dict[Any, Node]:
        """What a merge key brings: the pairs of a mapping, or of a list of mappings (first wins)."""
        found: dict[Any, Node] = {}
        for source in value_node.value if isinstance(value_node, SequenceNode) else [value_node]:
            if not isinstance(source, MappingNode):
                raise YamlContentError(source, "a merge key (<<) needs a mapping")
            for key, value in self._pairs(source).items():
                found.setdefault(key, value)
        return found

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return value
        if tag == _BOOL and value in _BOOLS:
            return _BOOLS[value]
        if tag == _NULL:
            return None
        if tag == _INT:
            try:
                return self._loader.construct_yaml_int(node)
            except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
                raise YamlContentError(node, limits.too_many_digits()) from None
        if tag == _FLOAT:
            return self._loader.construct_yaml_float(node)
        if tag == _TIMESTAMP:
            try:
                return self._loader.construct_yaml_timestamp(node)
            except (ValueError, AttributeError):  # 2026-02-30 is no date: Kubernetes keeps the string
                return value
        if tag == _MERGE:
            return value
        raise YamlContentError(node, f"unsupported tag {tag}")

    def _duplicate(self, mapping: MappingNode, key: Node) -> None:
        self.duplicates.append((mapping, key))

    @staticmethod
    def _check_tag(node: Node, expected: str) -> None:
        if node.tag != expected:
            raise YamlContentError(node, f"unsupported tag {node.tag}")


class _AliasBuilder(_Builder):
    """A builder for text with aliases: a node may be reached many times, each time built anew (as
    Kubernetes does). What that would build is measured first (`input_limits.check_expanded`: an
    alias bomb is refused before anything is built), and a node reached from inside itself is a
    recursive alias."""

    def __init__(self, loader: _ManifestLoader) -> None:
        super().__init__(loader)
        self._building: set[int] = set()  # ids of collection nodes being built: an alias to one is a cycle
        self._duplicates_seen: set[tuple[int, int]] = set()

    def document(self, node: Node, identity_only: bool = False) -> Any:
        limits.check_expanded(node)
        return super().document(node, identity_only)

    def build(self, node: Node) -> Any:
        if node.__class__ is ScalarNode:
            return super().build(node)
        if id(node) in self._building:
            raise YamlContentError(node, "recursive alias")
        self._building.add(id(node))
        try:
            return super().build(node)
        finally:
            self._building.discard(id(node))

    def _duplicate(self, mapping: MappingNode, key: Node) -> None:
        """Reported once, however many aliases repeat its mapping."""
        if (id(mapping), id(key)) not in self._duplicates_seen:
            self._duplicates_seen.add((id(mapping), id(key)))
            super()._duplicate(mapping, key)


def _paths_to(root: Node, targets: Sequence[Node]) -> dict[int, str]:
    """The field path under `root` of each target, by the target's id (for messages: rare, so a search).

    Each node is searched once, however many aliases reach it, and a path is spelt only when found:
    the search takes time linear in the document's text, whatever its aliases or keys.
    """
    wanted = {id(target) for target in targets}
    found: dict[int, str] = {}
    if not wanted:
        return found
    seen: set[int] = set()
    steps: list[tuple[int, Any]] = []  # of each node searched: (its parent's step, its key or index)
    stack: list[tuple[Node, int, Any]] = [(root, -1, None)]
    while stack and len(found) < len(wanted):
        node, parent, part = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        steps.append((parent, part))
        if id(node) in wanted:
            found[id(node)] = _spelt(steps, len(steps) - 1)
        here = len(steps) - 1
        if isinstance(node, MappingNode):
            stack.extend((value, here, _key_text(key)) for key, value in reversed(node.value))
        elif isinstance(node, SequenceNode):
            stack.extend((item, here, index) for index, item in reversed(list(enumerate(node.value))))
    return found


def _key_text(key: Node) -> Any:
    return key.value if isinstance(key, ScalarNode) else "?"


def _spelt(steps: list[tuple[int, Any]], step: int) -> str:
    parts: list[Any] = []
    while step > 0:
        step, part = steps[step]
        parts.append(part)
    path = ""
    for part in reversed(parts):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _yaml_error_message(error: yaml.YAMLError, line_offset: int) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        return f"not UTF-8 or UTF-16 text at byte {error.position + 1}: {error.reason}"
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    started = getattr(error, "context_mark", None)
    if context and started is not None and started is not mark:
        context += f" (from line {started.line + 1 + line_offset}, column {started.column + 1})"
    text = f"{context}, {problem}" if context else str(problem)
    if mark is not None:
        return f"invalid YAML at line {mark.line + 1 + line_offset}, column {mark.column + 1}: {text}"
    return f"invalid YAML: {text}"


# ---- YAML: streams and documents -------------------------------------------------------------
class Document(NamedTuple):
    """One YAML or JSON document read."""

    source: str  # path#doc
    data: Any
    line: int  # 1-based line where its content starts
    item_lines: tuple[int, ...] = ()  # for a List: where each of its items starts


def parse_yaml(data: bytes, name: str, lean: bool = False) -> Iterator[Document | InputError]:
    """(source, data, line) of each non-empty document, or an InputError for each problem."""
    if not data.strip():
        return
    if (
        _CParser is None
        or data[:2] in (b"\xff\xfe", b"\xfe\xff")
        or b"\0" in data[:4]
        or (_may_need_stream(data) and _NEEDS_STREAM.search(data))
    ):
        # Directives, `...` or UTF-16: documents cannot be cut out by text; parse the stream, held
        # as a whole to the limits of one document.
        refused = _over_limits(data, f"{name}#1", 0)
        if refused is not None:
            yield refused
            return
        yield from _parse_stream(data, name, lean=lean)
        return
    index = 0
    for start, end, line in _document_spans(data):
        chunk = data[start:end]
        if start == 0 and not chunk.startswith(b"---") and not _CONTENT.search(chunk):
            continue  # comments before the first `---` are no document
        index += 1
        yield from _parse_document(chunk, name, index, line, lean)


def _may_need_stream(data: bytes) -> bool:
    """A quick look for a line starting with `%` or `...` (then the regex decides)."""
    return data[:1] in (b"%", b".") or b"\n%" in data or b"\n..." in data


def _document_spans(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(start, end, first line - 1) of each document: at a `---` line or the start of the file."""
    starts = [0, *(match.start() + 1 for match in _DOCUMENT_START.finditer(data))]
    line = 0
    previous = 0
    for start, end in zip(starts, [*starts[1:], len(data)], strict=True):
        line += data.count(b"\n", previous, start)
        previous = start
        yield start, end, line


def _parse_document(
    chunk: bytes, name: str, index: int, line_offset: int, lean: bool
) -> Iterator[Document | InputError]:
    """One document; lean, its identity entries only when the document allows the shortcut."""
    refused = _over_limits(chunk, f"{name}#{index}", line_offset)
    if refused is not None:
        yield refused
        return
    head = _identity_text(chunk) if lean else None
    if head is not None:
        shortcut = _parse_identity(head, chunk)
        if shortcut is not None:
            yield Document(f"{name}#{index}", shortcut, _content_line(chunk, line_offset))
            return
    yield from _parse_stream(chunk, name, index, line_offset, lean)


def _over_limits(data: bytes, source: str, line_offset: int) -> InputError | None:
    """The input error of a document over a limit of `input_limits` (bytes, values), before it is
    composed; a syntax error found while counting is reported here, as the full parse would."""
    try:
        limits.check_yaml(data)
    except OverLimit as error:
        return InputError(source, error.text(line_offset))
    except yaml.YAMLError as error:
        return _syntax_error(source, error, data, line_offset)
    return None


def _identity_text(chunk: bytes) -> tuple[bytes, bytes] | None:
    """(identity entries, other entries) of a block mapping document, or None when not that simple."""
    body = chunk
    if chunk.startswith(b"---"):
        marker = _BARE_MARKER.match(chunk)
        if marker is None:
            return None  # content on the marker line (`--- |`, `--- !tag`): no shortcut
        body = chunk[marker.end() :]
    entries: list[tuple[bytes, int]] = []
    body = b"\n" + body  # every line, the first too, now follows a newline (see _UNINDENTED)
    for line in _UNINDENTED.finditer(body):
        text = line.group(1)
        key = _SIMPLE_KEY.match(text)
        if key is not None:
            if key.group(1) in (b"apiVersion", b"kind") and _READ_WHOLE.search(text):
                return None  # our group, a Namespace or a List: read whole (a hint; values decide)
            entries.append((key.group(1), line.start(1)))
        elif not (text.startswith(b"- ") or text.rstrip() == b"-"):
            return None  # a flow, quoted or complex key, an anchor or a tag at the top level
    keys = [key for key, _ in entries]
    if not entries or entries[0][1] != _first_content(body) or len(set(keys)) != len(keys):
        return None
    head: list[bytes] = []
    rest: list[bytes] = []
    for number, (name, start) in enumerate(entries):
        end = entries[number + 1][1] if number + 1 < len(entries) else len(body)
        text = body[start:end]
        if not text.endswith(b"\n"):
            text += b"\n"
        (head if name.decode() in _IDENTITY_KEYS else rest).append(text)
    return b"".join(head), b"".join(rest)


def _content_line(chunk: bytes, line_offset: int) -> int:
    """The 1-based line of a document's first content: after its `---` line, blank lines, comments."""
    body_start = 0
    if chunk.startswith(b"---"):
        marker = _BARE_MARKER.match(chunk)
        body_start = marker.end() if marker else 0
    content = _CONTENT.search(chunk, body_start)
    at = content.end() - 1 if content else body_start
    return line_offset + 1 + chunk.count(b"\n", 0, at)


def _first_content(body: bytes) -> int:
    match = _CONTENT.search(body)
    return match.end() - 1 if match else -1


def _parse_identity(texts: tuple[bytes, bytes], chunk: bytes) -> dict[str, Any] | None:
    """apiVersion, kind and metadata of a document of a kind read that way; None: take the long way."""
    head, rest = texts
    if _CParser is None:  # pragma: no cover (no libyaml: the long way)
        return None
    loader = _ManifestLoader(head)
    try:
        node = loader.get_single_node()
        if not isinstance(node, MappingNode):
            return None
        builder = _Builder.for_text(loader, head)
        identity: dict[str, Any] = builder.document(node, identity_only=True)
        if builder.duplicates or needs_full_object(identity.get("apiVersion"), identity.get("kind")):
            return None
        if rest:
            _CParser(rest).raw_parse()  # the rest must be valid YAML too; nothing of it is built
        return identity
    except (yaml.YAMLError, YamlContentError, OverLimit):
        return None  # the full parse reports it, with the right line
    finally:
        loader.dispose()


def _parse_stream(
    data: bytes, name: str, first_index: int = 1, line_offset: int = 0, lean: bool = False
) -> Iterator[Document | InputError]:
    """The full parse of a stream of documents; a syntax error ends it (libyaml cannot go on)."""
    loader = _ManifestLoader(data)
    index = first_index - 1
    try:
        while True:
            index += 1
            source = f"{name}#{index}"
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
            except yaml.YAMLError as error:
                yield _syntax_error(source, error, data, line_offset)
                return
            if node is None or (node.__class__ is ScalarNode and node.tag == _NULL and not node.value):
                continue  # an empty document (a trailing `---`, only comments): nothing to check
            builder = _Builder.for_text(loader, data)
            try:
                document = builder.document(node, identity_only=lean)
            except YamlContentError as error:
                where = _paths_to(node, [error.node]).get(id(error.node))
                line = error.node.start_mark.line + 1 + line_offset
                yield InputError(
                    source, f"{where + ': ' if where else ''}invalid YAML at line {line}: {error}"
                )
                continue
            except OverLimit as error:
                yield InputError(source, error.text(line_offset))
                continue
            paths = _paths_to(node, [mapping for mapping, _ in builder.duplicates])
            for mapping, key in builder.duplicates:
                where = paths.get(id(mapping))
                field = f"{where}.{key.value}" if where else str(key.value)
                line = key.start_mark.line + 1 + line_offset
                yield InputError(source, f"{field}: duplicate key (line {line})")
            yield Document(
                source,
                document,
                node.start_mark.line + 1 + line_offset,
                _item_lines(node, document, line_offset),
            )
    finally:
        loader.dispose()


def _item_lines(node: Node, document: Any, line_offset: int) -> tuple[int, ...]:
    """For a List: where each of its items starts; () for any other document."""
    kind = document.get("kind") if isinstance(document, dict) else None
    if not isinstance(node, MappingNode) or not isinstance(kind, str) or not kind.endswith("List"):
        return ()
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "items" and isinstance(value, SequenceNode):
            return tuple(item.start_mark.line + 1 + line_offset for item in value.value)
    return ()


def _syntax_error(source: str, error: yaml.YAMLError, data: bytes, line_offset: int) -> InputError:
    message = _yaml_error_message(error, line_offset)
    if _documents_after(data, error):
        message += " (the documents after it in this file were not read)"
    return InputError(source, message)


def _documents_after(data: bytes, error: yaml.YAMLError) -> bool:
    """Whether a document marker follows a syntax error (those documents are lost)."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return False
    return any(line.startswith(b"---") for line in data.splitlines()[mark.line :])


# ---- JSON ------------------------------------------------------------------------------------
def parse_json(data: bytes, name: str) -> Iterator[Document | InputError]:
    """The one document of a JSON file, held to the limits of `input_limits`, or its input error."""
    source = f"{name}#1"
    try:
        limits.check_json(data)
        document = json.loads(data)
        limits.check_json_depth(document, data)
    except OverLimit as error:
        yield InputError(source, error.text())
    except json.JSONDecodeError as error:
        yield InputError(source, f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}")
    except UnicodeDecodeError as error:
        yield InputError(source, f"not UTF-8 text: {error.reason}")
    except RecursionError:  # the decoder's own limit, far deeper than MAX_DEPTH
        yield InputError(source, limits.too_deep().text())
    except ValueError:  # a number of more digits than Python converts (sys.get_int_max_str_digits)
        yield InputError(source, f"invalid JSON: {limits.too_many_digits()}")
    else:
        yield Document(source, document, 1 + data[: len(data) - len(data.lstrip())].count(b"\n"))


# ---- documents to objects --------------------------------------------------------------------
_FOUND = {list: "a list", str: "a string", type(None): "null"}


def objects_of(
    source: str, document: Any, line: int = 0, item_lines: Sequence[int] = (), prefix: str = ""
) -> Iterator[Manifest | InputError]:
    """The Kubernetes objects in one document: itself, or the items of a List (recursively).

    `line` is where the document starts, `item_lines` where a List's items do (when known).
    """
    if not isinstance(document, dict):
        found = _FOUND.get(type(document), type(document).__name__)
        where = f"{prefix.rstrip('.')}: " if prefix else ""
        yield InputError(source, f"{where}not a Kubernetes object (found {found})")
        return
    missing = [
        key for key in ("apiVersion", "kind") if not isinstance(document.get(key), str) or not document[key]
    ]
    if missing:
        fields = " and ".join(f"{prefix}{key}" for key in missing)
        yield InputError(source, f"not a Kubernetes object: {fields} required")
        return
    if document["kind"].endswith("List") and not document["apiVersion"].startswith(OUR_GROUP_PREFIX):
        items = document.get("items")
        if items is None:
            return  # an empty List
        if not isinstance(items, list):
            yield InputError(source, f"{prefix}items: must be a list of objects")
            return
        for index, item in enumerate(items):
            item_line = item_lines[index] if index < len(item_lines) else line
            yield from objects_of(source, item, item_line, (), f"{prefix}items[{index}].")
        return
    yield Manifest(source, document, prefix, line)


def read_bytes(name: str, data: bytes, lean: bool = False) -> Iterator[Manifest | InputError]:
    """The objects in one input's bytes: JSON when `name` ends in .json, YAML otherwise."""
    results = parse_json(data, name) if name.endswith(".json") else parse_yaml(data, name, lean)
    for result in results:
        if isinstance(result, InputError):
            yield result
        else:
            yield from objects_of(*result)


# ---- inputs ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Input:
    name: str  # as shown in sources
    path: Path | None  # None: stdin


def manifest_files(folder: Path) -> list[Path]:
    """Files under a folder with a manifest suffix, recursively, in a stable order; dot-entries skipped."""
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found.extend(
            Path(root) / name
            for name in sorted(files)
            if name.endswith(MANIFEST_SUFFIXES) and not name.startswith(".")
        )
    return found


def expand(paths: Sequence[str]) -> tuple[list[_Input], list[InputError]]:
    """The inputs named on the command line: files as given, folders walked, `-` for stdin."""
    inputs: list[_Input] = []
    errors: list[InputError] = []
    for given in paths:
        if given == STDIN:
            if any(i.path is None for i in inputs):
                errors.append(InputError(STDIN_NAME, "stdin (-) can be read only once"))
            else:
                inputs.append(_Input(STDIN_NAME, None))
            continue
        path = Path(given)
        if path.is_dir():
            files = manifest_files(path)
            if not files:
                errors.append(InputError(given, "no *.yaml, *.yml or *.json files in this folder"))
            inputs.extend(_Input(str(file), file) for file in files)
        elif path.exists():
            inputs.append(_Input(given, path))
        else:
            errors.append(InputError(given, "no such file or folder"))
    return inputs, errors


def load(paths: Sequence[str], stdin: IO[bytes] | None = None, jobs: int = 1, lean: bool = False) -> Loaded:
    """Read every input; problems are collected, never raised. `lean`: see the module doc."""
    loaded = Loaded([], [], [])
    for item in iter_load(paths, stdin, jobs, loaded.names, lean):
        if isinstance(item, InputError):
            loaded.errors.append(item)
        else:
            loaded.manifests.append(item)
    return loaded


def iter_load(
    paths: Sequence[str],
    stdin: IO[bytes] | None = None,
    jobs: int = 1,
    names: list[str] | None = None,
    lean: bool = False,
) -> Iterator[Manifest | InputError]:
    """Every object and problem of the inputs, in input order; `names` receives the inputs read.

    With jobs > 1 and enough input, files are parsed by that many forked processes, in batches whose
    results come back in order, so the caller can work on the first while the others are parsed.
    """
    inputs, errors = expand(paths)
    if names is not None:
        names.extend(source.name for source in inputs)
    yield from errors
    batches = _batches(inputs, jobs)
    if batches is None:
        for source in inputs:
            yield from _read_input(source, stdin, lean)
        return
    import functools
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for results in pool.imap(functools.partial(_read_batch, lean=lean), batches):
            for kind, name, first, second, line in results:
                yield Manifest(name, first, second, line) if kind == "m" else InputError(name, first)


def _read_input(source: _Input, stdin: IO[bytes] | None, lean: bool) -> Iterator[Manifest | InputError]:
    try:
        data = source.path.read_bytes() if source.path else (stdin or sys.stdin.buffer).read()
    except OSError as error:
        yield InputError(source.name, f"cannot read: {error.strerror or error}")
        return
    yield from read_bytes(source.name, data, lean)


PARALLEL_MIN_BYTES = 4 << 20  # below this, starting processes costs more than it saves
_BATCH_BYTES = 1 << 20


def _batches(inputs: list[_Input], jobs: int) -> list[list[_Input]] | None:
    """Consecutive inputs in batches of about a MiB for the worker processes; None: read here."""
    if jobs <= 1 or sys.platform != "linux" or any(source.path is None for source in inputs):
        return None
    sizes = []
    for source in inputs:
        try:
            sizes.append(source.path.stat().st_size if source.path else 0)
        except OSError:
            sizes.append(0)
    if sum(sizes) < PARALLEL_MIN_BYTES:
        return None
    batches: list[list[_Input]] = [[]]
    filled = 0
    for source, size in zip(inputs, sizes, strict=True):
        if filled >= _BATCH_BYTES:
            batches.append([])
            filled = 0
        batches[-1].append(source)
        filled += size
    return batches


def _read_batch(batch: list[_Input], lean: bool) -> list[tuple[str, str, Any, Any, int]]:
    """In a worker process: a batch's results as plain tuples (cheaper to send than dataclasses)."""
    results: list[tuple[str, str, Any, Any, int]] = []
    for source in batch:
        for item in _read_input(source, None, lean):
            if isinstance(item, Manifest):
                results.append(("m", item.source, item.obj, item.field_prefix, item.line))
            else:
                results.append(("e", item.source, item.message, None, 0))
    return results
