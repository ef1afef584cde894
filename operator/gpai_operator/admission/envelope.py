"""Reading the AdmissionReview envelope: what kube-apiserver sends, checked before anything is judged.

Two kinds of malformed input, answered differently (docs/admission.md, "Malformed input"):

- `Unanswerable`: no AdmissionReview to answer (not JSON, not an object, unknown apiVersion or kind,
  no `request.uid`). kube-apiserver could not match any AdmissionReview answer to its request, so
  the server answers HTTP 400 with a metav1.Status body, which kube-apiserver decodes and reports.
- `Malformed`: the envelope and uid are readable but the request is not (an object that is not a
  mapping, an unknown operation...). The answer is an AdmissionReview refusing the request with code
  400, so the client sees exactly what was wrong.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REVIEW_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")


class Unanswerable(ValueError):
    """The body is not an AdmissionReview request that can be answered."""


class Malformed(ValueError):
    """An AdmissionReview with a uid whose request cannot be judged; the message says which field."""


@dataclass(frozen=True, slots=True)
class Request:
    api_version: str  # echoed in the answer
    uid: str
    operation: str
    group: str  # of the object under review (request.kind), e.g. "apps"
    kind: str  # e.g. "Deployment"
    resource_group: str  # of the resource addressed (request.resource): for a subresource, its parent's
    resource: str  # plural, e.g. "deployments"
    subresource: str  # "", "scale", "status"...
    namespace: str
    name: str
    object: Mapping[str, Any] | None
    old_object: Mapping[str, Any] | None
    username: str
    dry_run: bool


def decode(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    """The AdmissionReview as a mapping; raises Unanswerable when the body is not a JSON object."""
    if isinstance(body, Mapping):
        return body
    try:
        review = json.loads(body)
    except UnicodeDecodeError as error:
        raise Unanswerable(f"the body is not UTF-8 text: {error.reason}") from error
    except json.JSONDecodeError as error:
        raise Unanswerable(
            f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise Unanswerable("the body is JSON nested too deeply to read") from error
    except ValueError as error:  # a number of more digits than Python converts (sys.get_int_max_str_digits)
        raise Unanswerable(
            f"the body is JSON with a number of more than {sys.get_int_max_str_digits()} digits"
        ) from error
    if not isinstance(review, Mapping):
        raise Unanswerable(f"the body is a JSON {type(review).__name__}, not an AdmissionReview object")
    return review


def envelope(review: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    """(apiVersion, uid, request) of an AdmissionReview; raises Unanswerable if there is none."""
    api_version, kind = review.get("apiVersion"), review.get("kind")
    if api_version not in REVIEW_VERSIONS or kind != "AdmissionReview":
        raise Unanswerable(
            f"expected an AdmissionReview of {' or '.join(REVIEW_VERSIONS)}, "
            f"got kind {_shown(kind)} of apiVersion {_shown(api_version)}"
        )
    request = review.get("request")
    if not isinstance(request, Mapping):
        raise Unanswerable("the AdmissionReview has no request object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise Unanswerable("the AdmissionReview request has no uid")
    return str(api_version), uid, request


def parse(api_version: str, uid: str, request: Mapping[str, Any]) -> Request:
    """The request's fields; raises Malformed naming the first field not as kube-apiserver sends it."""
    operation = request.get("operation")
    if operation not in OPERATIONS:
        raise Malformed(f"request.operation must be one of {', '.join(OPERATIONS)}, got {_shown(operation)}")
    obj = _optional_mapping(request, "object")
    old = _optional_mapping(request, "oldObject")
    if operation == "CREATE" and obj is None:
        raise Malformed("request.object is required for CREATE")
    if operation == "UPDATE" and (obj is None or old is None):
        raise Malformed("request.object and request.oldObject are required for UPDATE")
    group, kind = _kind(request, obj if obj is not None else old)
    resource = request.get("resource")
    resource = resource if isinstance(resource, Mapping) else {}
    plural, resource_group = resource.get("resource"), resource.get("group")
    user = request.get("userInfo")
    username = user.get("username") if isinstance(user, Mapping) else None
    return Request(
        api_version=api_version,
        uid=uid,
        operation=str(operation),
        group=group,
        kind=kind,
        resource_group=resource_group if isinstance(resource_group, str) else group,
        resource=plural if isinstance(plural, str) else "",
        subresource=_string(request, "subResource"),
        namespace=_string(request, "namespace"),
        name=_string(request, "name"),
        object=obj,
        old_object=old,
        username=username if isinstance(username, str) else "",
        dry_run=request.get("dryRun") is True,
    )


def _kind(request: Mapping[str, Any], obj: Mapping[str, Any] | None) -> tuple[str, str]:
    """(group, kind) from request.kind, or from the object when request.kind is absent."""
    kind = request.get("kind")
    if kind is None and obj is not None:
        api_version, name = obj.get("apiVersion"), obj.get("kind")
        if isinstance(api_version, str) and isinstance(name, str):
            return (api_version.rpartition("/")[0], name)
    if not isinstance(kind, Mapping):
        raise Malformed("request.kind must be an object with group, version and kind")
    group, name = kind.get("group", ""), kind.get("kind")
    if not isinstance(group, str) or not isinstance(name, str) or not name:
        raise Malformed("request.kind must name a group and a kind")
    return group, name


def _optional_mapping(request: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = request.get(key)
    if value is None or isinstance(value, Mapping):
        return value
    raise Malformed(f"request.{key} must be an object, got a JSON {type(value).__name__}")


def _string(request: Mapping[str, Any], key: str) -> str:
    value = request.get(key)
    if value is None or isinstance(value, str):
        return value or ""
    raise Malformed(f"request.{key} must be a string")


def _shown(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool | None) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."
