"""Building blocks shared by every API kind: field types, the base model, DocumentRef."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

GROUP = "gpai.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Bounds keep the schemas structural and CEL rules cheap to estimate.
NAME_MAX = 253
SHORT_MAX = 256
TEXT_MAX = 4096
URL_MAX = 2048
LIST_MAX = 64

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_only(value: Any) -> Any:
    """Accept what Kubernetes accepts for `format: date`: a YYYY-MM-DD string (or a YAML date)."""
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value):
        return value
    raise ValueError("must be a date written as YYYY-MM-DD")


Date = Annotated[dt.date, BeforeValidator(_date_only)]
Bool = StrictBool
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Short = Annotated[str, Field(max_length=SHORT_MAX)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]
Url = Annotated[str, Field(max_length=URL_MAX, pattern=r"^(https|s3|gs|oci)://\S+$")]
HttpsUrl = Annotated[str, Field(max_length=URL_MAX, pattern=r"^https://\S+$")]
Sha256 = Annotated[str, Field(pattern=r"^[a-f0-9]{64}$")]
Contact = Annotated[str, Field(min_length=1, max_length=SHORT_MAX)]
NonNegative = Annotated[float, Field(ge=0)]
ShortList = Annotated[list[Short], Field(max_length=LIST_MAX)]


@dataclass(frozen=True)
class CelRule:
    """A cross-field rule, declared once: the API server runs `rule` (CEL), `gpai check` runs `holds`."""

    rule: str
    message: str
    holds: Callable[[Any], bool]
    field_path: str | None = None

    def schema(self) -> dict[str, str]:
        entry = {"rule": self.rule, "message": self.message}
        if self.field_path:
            entry["fieldPath"] = self.field_path
        return entry


def _add_cel_rules(schema: dict[str, Any], model: type[BaseModel]) -> None:
    rules: tuple[CelRule, ...] = getattr(model, "cel_rules", ())
    if rules:
        schema["x-kubernetes-validations"] = [rule.schema() for rule in rules]


class ApiModel(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown fields rejected.

    Kubernetes prunes unknown fields (and kubectl's strict field validation rejects them);
    `gpai check` reports them as errors so that a typo never silently drops evidence.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        json_schema_extra=_add_cel_rules,
    )
    cel_rules: ClassVar[tuple[CelRule, ...]] = ()

    def wire(self) -> dict[str, Any]:
        """The object as Kubernetes stores it (camelCase, no unset fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# One set object per distinct (model class, fields set) shape, shared by every instance of that shape:
# a validated object holds a set per nested model, and a ModelDocumentation has a dozen of them
# (measured on the benchmark corpus: 35 shapes, the engine's state 29.5 -> 16.3 MiB). Bounded, so
# objects crafted into endless shapes only stop sharing.
_FIELD_SETS: dict[tuple[type[BaseModel], frozenset[str]], set[str]] = {}
_FIELD_SETS_MAX = 4096


def share_field_sets(value: Any) -> None:
    """Make every frozen model in `value` (nested models, lists and tuples of them) hold the shared
    set of its fields set. Frozen models never change that set (pydantic adds to it only on
    assignment; copies take their own), so sharing it changes nothing but memory."""
    if isinstance(value, ApiModel):
        own = value.__pydantic_fields_set__
        shape = (type(value), frozenset(own))
        shared = _FIELD_SETS.get(shape)
        if shared is None and len(_FIELD_SETS) < _FIELD_SETS_MAX:
            shared = _FIELD_SETS[shape] = own
        if shared is not None and shared is not own:
            object.__setattr__(value, "__pydantic_fields_set__", shared)
        for item in value.__dict__.values():
            share_field_sets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            share_field_sets(item)


class CelCheckedModel(ApiModel):
    """An ApiModel with `cel_rules`; only these pay for running them on every validation."""

    @model_validator(mode="after")
    def _check_cel_rules(self) -> Self:
        for rule in self.cel_rules:
            if not rule.holds(self):
                field = (rule.field_path or "").lstrip(".")
                raise PydanticCustomError("cel_rule", rule.message, {"field": field})
        return self


class LocalRef(ApiModel):
    """A reference to an object of the given kind in the same namespace."""

    name: Name


class DocumentRef(ApiModel):
    """Where a document lives: a URL, optionally pinned by its SHA-256 and version."""

    url: Url
    sha256: Sha256 | None = None
    version: Short | None = None
