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
