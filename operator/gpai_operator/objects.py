"""Raw Kubernetes objects (dicts, as YAML or the API gives them) to the engine's typed state.

One translation for every door: `gpai check` feeds it manifests, the operator watch events, the
webhook AdmissionReview objects. Invalid custom resources raise InvalidObject with every field
error, so callers can report all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gpai_operator.api.base import GROUP, share_field_sets
from gpai_operator.api.kinds import KINDS_BY_NAME, OPERATOR_OUTPUT_NAMES, Kind
from gpai_operator.api.status import VersionSeen
from gpai_operator.engine import (
    DEFAULT_KINDS,
    MODEL_LABEL,
    ClusterState,
    ControllerRef,
    ModelKey,
    Resource,
    Workload,
    WorkloadKinds,
)


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path from the object root, e.g. "spec.validUntil"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidObject(Exception):
    """An object that Kubernetes would reject; names the object and every failing field."""

    def __init__(self, kind: str, namespace: str, name: str, errors: list[FieldError]) -> None:
        self.kind, self.namespace, self.name, self.errors = kind, namespace, name, errors
        where = f"{namespace}/{name}" if namespace else name
        super().__init__(f"{kind} {where or '(unnamed)'}: " + "; ".join(str(e) for e in errors))


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _namespace_labels(obj: Mapping[str, Any], name: str) -> dict[str, str]:
    """A Namespace's labels, a map of strings as the API server requires (a manifest may hold anything)."""
    labels = _metadata(obj).get("labels") or {}
    if not isinstance(labels, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in labels.items()
    ):
        error = FieldError("metadata.labels", "must be a map of strings")
        raise InvalidObject("Namespace", "", name, [error])
    return dict(labels)


def identity(obj: Mapping[str, Any], default_namespace: str = "default") -> tuple[str, str, str, str]:
    """(apiVersion, kind, namespace, name) of any object; namespace defaulted for namespaced kinds."""
    api_version = str(obj.get("apiVersion") or "")
    kind = str(obj.get("kind") or "")
    metadata = _metadata(obj)
    cluster_scoped = kind in ("Namespace", "CompliancePolicy")
    namespace = "" if cluster_scoped else str(metadata.get("namespace") or default_namespace)
    return api_version, kind, namespace, str(metadata.get("name") or "")


def is_ours(obj: Mapping[str, Any]) -> bool:
    return group_of(str(obj.get("apiVersion") or "")) == GROUP


def is_workload(obj: Mapping[str, Any], kinds: WorkloadKinds = DEFAULT_KINDS) -> bool:
    """Any version of a workload kind's group counts (the kinds are matched by group and kind)."""
    return kinds.get(group_of(str(obj.get("apiVersion") or "")), obj.get("kind")) is not None


def workload_from(obj: Mapping[str, Any], default_namespace: str = "default") -> Workload:
    api_version, kind, namespace, name = identity(obj, default_namespace)
    metadata = _metadata(obj)
    labels = metadata.get("labels")
    model = labels.get(MODEL_LABEL) if isinstance(labels, Mapping) else None
    return Workload(
        api_version=api_version,
        kind=kind,
        namespace=namespace,
        name=name,
        model=str(model) if model else None,
        uid=str(metadata.get("uid") or ""),
        controller=controller_ref(metadata),
    )


def controller_ref(metadata: Mapping[str, Any]) -> ControllerRef | None:
    """The ownerReference marked `controller: true`, if any (Kubernetes allows at most one)."""
    owners = metadata.get("ownerReferences")
    if not isinstance(owners, list):
        return None
    for owner in owners:
        if isinstance(owner, Mapping) and owner.get("controller") is True:
            return ControllerRef(
                api_version=str(owner.get("apiVersion") or ""),
                kind=str(owner.get("kind") or ""),
                name=str(owner.get("name") or ""),
                uid=str(owner.get("uid") or ""),
            )
    return None


def resource_from(obj: Mapping[str, Any], default_namespace: str = "default") -> tuple[Kind, Resource[Any]]:
    """Validate one of our custom resources exactly as the CRD schema and its CEL rules would."""
    api_version, kind_name, namespace, name = identity(obj, default_namespace)
    kind = KINDS_BY_NAME.get(kind_name)
    if kind is None or api_version != kind.api_version:
        known = ", ".join(sorted(KINDS_BY_NAME))
        raise InvalidObject(
            kind_name,
            namespace,
            name,
            [FieldError("kind", f"{api_version} {kind_name} is not a kind of {GROUP} ({known})")],
        )
    errors: list[FieldError] = []
    if not name:
        errors.append(FieldError("metadata.name", "required"))
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        errors.append(FieldError("spec", "required"))
        raise InvalidObject(kind_name, namespace, name, errors)
    try:
        parsed = kind.spec.model_validate(spec)
    except ValidationError as exc:
        for error in exc.errors():
            # A CEL rule fails on its object; its ctx names the field, as the API server's fieldPath does.
            field = (error.get("ctx") or {}).get("field") if error["type"] == "cel_rule" else None
            loc = ("spec", *error["loc"], *([field] if field else []))
            errors.append(FieldError(_path(loc), error["msg"]))
    if errors:
        raise InvalidObject(kind_name, namespace, name, errors)
    share_field_sets(parsed)
    metadata = _metadata(obj)
    return kind, Resource(
        namespace=namespace,
        name=name,
        spec=parsed,
        generation=_generation(metadata),
        uid=str(metadata.get("uid") or ""),
    )


def _generation(metadata: Mapping[str, Any]) -> int:
    """metadata.generation; the API server sets it, so a manifest's own value (of any type) is ignored."""
    generation = metadata.get("generation")
    return generation if isinstance(generation, int) and not isinstance(generation, bool) else 0


_VERSIONS = TypeAdapter(list[VersionSeen])


def versions_from(obj: Mapping[str, Any], default_namespace: str = "default") -> tuple[VersionSeen, ...]:
    """A GPAIModel's version history, as the operator records it in status.versions (none when absent:
    manifests written by hand carry no status). A malformed entry is an InvalidObject."""
    status = obj.get("status")
    versions = status.get("versions") if isinstance(status, Mapping) else None
    if not versions:
        return ()
    try:
        return tuple(_VERSIONS.validate_python(versions))
    except ValidationError as exc:
        _, kind, namespace, name = identity(obj, default_namespace)
        errors = [FieldError(_path(("status", "versions", *e["loc"])), e["msg"]) for e in exc.errors()]
        raise InvalidObject(kind, namespace, name, errors) from None


def apply(state: ClusterState, obj: Mapping[str, Any], default_namespace: str = "default") -> set[ModelKey]:
    """Put any object into the state; returns the models it affects (with the models made from
    them, whose classification reads theirs). Other kinds are ignored, and so is the operator's own
    output (AdmissionVerdicts): it is never engine input."""
    if is_ours(obj) and str(obj.get("kind") or "") in OPERATOR_OUTPUT_NAMES:
        return set()
    if is_ours(obj):
        kind, resource = resource_from(obj, default_namespace)
        if kind.kind != "GPAIModel":
            return state.with_derived(_PUT[kind.kind](state, resource))
        versions = versions_from(obj, default_namespace)
        affected = state.put_model(resource) | state.put_versions(resource.key, versions)
        return state.with_derived(affected)
    if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
        _, _, _, name = identity(obj)
        labels = _namespace_labels(obj, name)
        labels.setdefault("kubernetes.io/metadata.name", name)
        return state.put_namespace(name, labels)
    if is_workload(obj, state.kinds):
        return state.put_workload(workload_from(obj, default_namespace))
    return set()


def remove(state: ClusterState, obj: Mapping[str, Any], default_namespace: str = "default") -> set[ModelKey]:
    """Remove any object from the state; returns the models it affects."""
    _, kind, namespace, name = identity(obj, default_namespace)
    if is_ours(obj):
        remover = _REMOVE.get(kind)
        return state.with_derived(remover(state, namespace, name)) if remover else set()
    if kind == "Namespace":
        return state.remove_namespace(name)
    if is_workload(obj, state.kinds):
        return state.remove_workload(kind, namespace, name)
    return set()


_PUT: dict[str, Callable[[ClusterState, Resource[Any]], set[ModelKey]]] = {
    "GPAIModel": ClusterState.put_model,
    "ModelDocumentation": ClusterState.put_documentation,
    "CopyrightPolicy": ClusterState.put_copyright_policy,
    "RiskEvaluation": ClusterState.put_evaluation,
    "SeriousIncident": ClusterState.put_incident,
    "CompliancePolicy": ClusterState.put_policy,
}
_REMOVE: dict[str, Callable[[ClusterState, str, str], set[ModelKey]]] = {
    "GPAIModel": ClusterState.remove_model,
    "ModelDocumentation": ClusterState.remove_documentation,
    "CopyrightPolicy": ClusterState.remove_copyright_policy,
    "RiskEvaluation": ClusterState.remove_evaluation,
    "SeriousIncident": ClusterState.remove_incident,
    "CompliancePolicy": lambda state, _namespace, name: state.remove_policy(name),
}
