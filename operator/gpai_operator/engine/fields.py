"""Required fields as data: dotted camelCase paths into an API object, checked for presence.

A requirement is a path as the manifest spells it (`general.legalName`), where a segment ending
in `[]` means "every item of this list, and at least one" (`properties.inputModalities[].maxSize`),
and alternatives are joined by ` or ` (`energy.trainingMWh or energy.notAvailableReason`).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

ALTERNATIVE = " or "
EVERY_ITEM = "[]"


@dataclass(frozen=True, slots=True)
class FieldGaps:
    """What an object lacks, by concrete path."""

    missing: tuple[str, ...] = ()  # absent or empty
    false: tuple[str, ...] = ()  # present but false where the duty needs true
    unknown: tuple[str, ...] = ()  # no such field in the object's kind (a policy's typo)

    def __bool__(self) -> bool:
        return bool(self.missing or self.false or self.unknown)


@dataclass(frozen=True, slots=True)
class _Step:
    name: str  # as written (camelCase)
    attribute: str  # the Python attribute
    every: bool  # `[]`: every item of a list


@dataclass(frozen=True, slots=True)
class _Path:
    steps: tuple[_Step, ...]
    simple: bool  # no `[]` step: one leaf, reached by plain attribute access


@cache
def _attributes(model: type[BaseModel]) -> dict[str, str]:
    """Wire name (alias) -> Python attribute name."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional: `Annotated[X, ...] | None` -> X."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else annotation
    return annotation


def _compile_path(model: Any, path: str) -> _Path | None:
    """The steps of a dotted path through `model`'s fields; None when a field does not exist."""
    steps: list[_Step] = []
    for segment in path.split("."):
        every = segment.endswith(EVERY_ITEM)
        name = segment.removesuffix(EVERY_ITEM)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        attribute = _attributes(model).get(name)
        if attribute is None:
            return None
        model = _unwrap(model.model_fields[attribute].annotation)
        if every:
            if get_origin(model) is not list:
                return None
            model = _unwrap(get_args(model)[0])
        steps.append(_Step(name, attribute, every))
    return _Path(tuple(steps), simple=not any(step.every for step in steps))


@cache
def compile_requirement(model: type[BaseModel], requirement: str) -> tuple[_Path, ...] | None:
    """The alternatives of a requirement as paths through `model`; None if any names no field."""
    paths = [_compile_path(model, path) for path in requirement.split(ALTERNATIVE)]
    return None if any(p is None for p in paths) else tuple(p for p in paths if p is not None)


def is_known(model: type[BaseModel], requirement: str) -> bool:
    return compile_requirement(model, requirement) is not None


def _model_attributes_of(kind: type) -> tuple[str, ...] | None:
    """The attributes of a pydantic model class; None for any other type."""
    return tuple(_attributes(kind).values()) if issubclass(kind, BaseModel) else None


# Cached per class, not per value: isinstance against pydantic's metaclass is slow. Typed as a plain
# callable: functools' wrapper takes Hashable arguments, and mypy does not count a class as one.
_model_attributes: Callable[[type], tuple[str, ...] | None] = cache(_model_attributes_of)


def _absent(value: Any) -> bool:
    """None, an empty string or collection, or a model none of whose fields is set."""
    if value is None:
        return True
    kind = type(value)
    if kind in (str, list, dict, tuple):
        return not value
    attributes = _model_attributes(kind)
    return attributes is not None and all(_absent(getattr(value, a)) for a in attributes)


def _leaves(value: Any, steps: tuple[_Step, ...], done: str) -> Iterator[tuple[str | None, Any]]:
    """(concrete path, value) for each leaf the steps reach; None as path where a parent is absent."""
    if not steps:
        yield done, value
        return
    if value is None:
        yield None, None
        return
    step, rest = steps[0], steps[1:]
    child = getattr(value, step.attribute)
    path = f"{done}.{step.name}" if done else step.name
    if not step.every:
        yield from _leaves(child, rest, path)
    elif not child:
        yield None, None
    else:
        for index, item in enumerate(child):
            yield from _leaves(item, rest, f"{path}[{index}]")


def _gaps_of(obj: BaseModel, path: _Path, written: str) -> tuple[list[str], list[str]]:
    if path.simple:
        value: Any = obj
        for step in path.steps:
            value = getattr(value, step.attribute)
            if value is None:
                return [written], []
        if value is False:
            return [], [written]
        return ([written], []) if _absent(value) else ([], [])
    missing: list[str] = []
    false: list[str] = []
    for where, value in _leaves(obj, path.steps, ""):
        if value is False:
            false.append(where or written)
        elif _absent(value):
            missing.append(where or written)
    return missing, false


def check_fields(obj: BaseModel, requirements: Iterable[str]) -> FieldGaps:
    """The gaps of `obj` against every requirement, in the order the requirements are listed."""
    missing: list[str] = []
    false: list[str] = []
    unknown: list[str] = []
    kind = type(obj)
    for requirement in requirements:
        paths = compile_requirement(kind, requirement)
        if paths is None:
            unknown.append(requirement)
            continue
        if len(paths) == 1:
            gone, off = _gaps_of(obj, paths[0], requirement)
            missing += gone
            false += off
        elif not any(_gaps_of(obj, path, requirement) == ([], []) for path in paths):
            missing.append(requirement)
    return FieldGaps(tuple(missing), tuple(false), tuple(unknown))


def value_at(obj: BaseModel, path: str) -> Any:
    """The value at a plain dotted path (no `[]`, no alternatives), or None when any part is absent."""
    value: Any = obj
    for name in path.split("."):
        if value is None:
            return None
        model: type[BaseModel] = type(value)
        value = getattr(value, _attributes(model)[name])
    return value
