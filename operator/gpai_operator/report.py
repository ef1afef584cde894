"""The report of `gpai check`: manifests read, validated, put into a ClusterState and evaluated.

Which policies apply: the `--policy` files; else the CompliancePolicy objects among the inputs;
else the built-in `eu-ai-act.yaml` (shipped in `gpai_operator/data/`, kept identical to
`policies/eu-ai-act.yaml` by a test, since an installed wheel has no repository around it).

Input errors and valid objects together: every problem is an InputError in the report, and the
report still covers every object that was valid. An artifact that failed validation is absent, so
its model can show `Missing`: the report describes the cluster the API server would leave after
rejecting the invalid objects. The CLI exits 2 in that case, whatever the decisions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import IO, Any

from gpai_operator import objects
from gpai_operator.engine import (
    DEFAULT_KINDS,
    ClusterState,
    ModelVerdict,
    WorkloadDecision,
    WorkloadKinds,
    evaluate_all,
)
from gpai_operator.loader import InputError, Manifest, iter_load, load, read_bytes

BUILTIN_POLICY = "eu-ai-act.yaml"
BUILTIN_SOURCE = f"(built-in) policies/{BUILTIN_POLICY}"
DEFAULT_NAMESPACE = "default"
# pydantic's words for what the API server and kubectl say differently
_KUBERNETES_WORDING = {
    "Field required": "required",
    "Extra inputs are not permitted": "unknown field",
}


ObjectKey = tuple[str, str, str, str]  # (API group, kind, namespace, name)


@dataclass(frozen=True, slots=True)
class Location:
    """Where an object was read: the input as named (`<stdin>` for stdin) and its first line."""

    path: str
    line: int  # 1-based; 0 when not known


@dataclass(frozen=True)
class CheckReport:
    """Everything one run of `gpai check` has to show."""

    models: Sequence[ModelVerdict]
    workloads: Sequence[WorkloadDecision]
    errors: Sequence[InputError]
    policies: Sequence[str] = ()  # "name [Deny]" of each policy applied
    now: dt.datetime | None = None
    notes: Sequence[str] = field(default=())  # said on stderr, not errors
    locations: Mapping[ObjectKey, Location] = field(default_factory=dict)  # of every object evaluated

    @property
    def denied(self) -> bool:
        return any(w.decision == "Deny" for w in self.workloads)

    def location_of(self, api_version: str, kind: str, namespace: str, name: str) -> Location | None:
        """Where the object was read, if it was."""
        return self.locations.get((objects.group_of(api_version), kind, namespace, name))


def build_report(
    paths: Sequence[str],
    policy_files: Sequence[str],
    now: dt.datetime,
    stdin: IO[bytes] | None = None,
    jobs: int | None = None,
    kinds: WorkloadKinds = DEFAULT_KINDS,
) -> CheckReport:
    """Read, validate and evaluate; every problem becomes an InputError of the report.

    Objects are validated as they are read, so the raw documents are never all held at once.
    `jobs`: processes parsing large inputs (default: GPAI_CHECK_JOBS, else the CPUs available).
    `kinds`: the workload kinds (the built-in ones plus any configured, e.g. Argo Rollouts).
    """
    builder = _StateBuilder([], kinds)
    names: list[str] = []
    unused = 0
    for item in iter_load(paths, stdin, default_jobs() if jobs is None else jobs, names, lean=True):
        if isinstance(item, InputError):
            builder.errors.append(item)
        elif policy_files and _is_policy(item.obj):
            unused += 1
            builder.validate_only(item)
        else:
            builder.put(item)
    notes: list[str] = []
    if policy_files:
        if unused:
            notes.append(f"{unused} CompliancePolicy object(s) among the inputs not used: --policy was given")
        _put_policy_files(builder, policy_files, stdin)
    builtin = not policy_files and not builder.state.policies
    if builtin:
        for manifest in builtin_policy():
            builder.put(manifest)

    notes += _unpinned_exceptions(builder.state)
    report = evaluate_all(builder.state, now)
    return CheckReport(
        models=report.models,
        workloads=report.workloads,
        errors=_in_input_order(builder.errors, [*names, *builder.policy_names]),
        policies=_policy_names(builder.state, builtin),
        now=now,
        notes=notes,
        locations=builder.locations,
    )


def default_jobs() -> int:
    """Processes for parsing: GPAI_CHECK_JOBS if set, else the CPUs this process may use."""
    configured = os.environ.get("GPAI_CHECK_JOBS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux: parsing stays in this process
        return 1
    return max(1, min(cpus, _cgroup_cpu_limit() or cpus))


def _cgroup_cpu_limit() -> int | None:
    """The CPUs a cgroup v2 quota allows (a container limited to one CPU must not fork two parsers)."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else max(1, int(int(quota) // int(period)))


def builtin_policy() -> list[Manifest]:
    """The CompliancePolicy shipped in the package (identical to policies/eu-ai-act.yaml)."""
    data = files("gpai_operator").joinpath("data", BUILTIN_POLICY).read_bytes()
    manifests: list[Manifest] = []
    for item in read_bytes(BUILTIN_SOURCE, data):
        if isinstance(item, InputError):  # the shipped file is tested: this is a packaging bug
            raise RuntimeError(f"the built-in policy is broken: {item}")
        manifests.append(item)
    return manifests


def _put_policy_files(builder: _StateBuilder, policy_files: Sequence[str], stdin: IO[bytes] | None) -> None:
    policies = load(policy_files, stdin)
    builder.policy_names = policies.names
    builder.errors.extend(policies.errors)
    found = False
    for manifest in policies.manifests:
        if _is_policy(manifest.obj):
            found = True
            builder.put(manifest)
        else:
            kind = manifest.obj.get("kind")
            message = f"{manifest.field_prefix}kind: --policy takes CompliancePolicy objects, not {kind}"
            builder.errors.append(InputError(manifest.source, message))
    if not found and not policies.errors:
        builder.errors.append(InputError(", ".join(policy_files), "--policy: no CompliancePolicy found"))


class _StateBuilder:
    """Puts manifests into a ClusterState; invalid and duplicate objects become input errors."""

    def __init__(self, errors: list[InputError], kinds: WorkloadKinds = DEFAULT_KINDS) -> None:
        self.state = ClusterState(kinds=kinds)
        self.errors = errors
        self._seen: dict[ObjectKey, str] = {}  # (group, kind, namespace, name) -> source
        self.locations: dict[ObjectKey, Location] = {}
        self._generated: dict[tuple[str, str, str], int] = {}
        self.policy_names: list[str] = []

    def put(self, manifest: Manifest) -> None:
        obj = manifest.obj
        ours = objects.is_ours(obj)
        if not (ours or objects.is_workload(obj, self.state.kinds) or _is_namespace(obj)):
            return  # a kind the engine does not read (Service, ConfigMap...): accepted, ignored
        if not ours:
            named = self._named(manifest)
            if named is None:
                return
            obj = named
        api_version, kind, namespace, name = objects.identity(obj, DEFAULT_NAMESPACE)
        key = (objects.group_of(api_version), kind, namespace, name)
        if key in self._seen:
            where = f"{namespace}/{name}" if namespace else name
            self.errors.append(
                InputError(manifest.source, f"{kind} {where}: also defined at {self._seen[key]}")
            )
            return
        try:
            objects.apply(self.state, obj, DEFAULT_NAMESPACE)
        except objects.InvalidObject as invalid:
            self._invalid(manifest, invalid)
            return
        self._seen[key] = manifest.source
        self.locations[key] = Location(manifest.path, manifest.line)

    def validate_only(self, manifest: Manifest) -> None:
        try:
            objects.resource_from(manifest.obj, DEFAULT_NAMESPACE)
        except objects.InvalidObject as invalid:
            self._invalid(manifest, invalid)

    def _invalid(self, manifest: Manifest, invalid: objects.InvalidObject) -> None:
        where = f"{invalid.namespace}/{invalid.name}" if invalid.namespace else invalid.name
        what = f"{invalid.kind or '(no kind)'} {where or '(unnamed)'}"
        for error in invalid.errors:
            problem = _KUBERNETES_WORDING.get(error.message, error.message)
            message = f"{what}: {manifest.field_prefix}{error.field}: {problem}"
            self.errors.append(InputError(manifest.source, message))

    def _named(self, manifest: Manifest) -> dict[str, Any] | None:
        """The object with a name: its own, or for `generateName` the prefix and `*` (numbered if reused)."""
        obj, prefix = manifest.obj, manifest.field_prefix
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            self.errors.append(InputError(manifest.source, f"{obj['kind']}: {prefix}metadata: required"))
            return None
        name = metadata.get("name")
        if isinstance(name, str) and name:
            return obj
        generate = metadata.get("generateName")
        if not isinstance(generate, str) or not generate:
            self.errors.append(InputError(manifest.source, f"{obj['kind']}: {prefix}metadata.name: required"))
            return None
        _, kind, namespace, _ = objects.identity(obj, DEFAULT_NAMESPACE)
        key = (kind, namespace, generate)
        count = self._generated[key] = self._generated.get(key, 0) + 1
        name = f"{generate}*" if count == 1 else f"{generate}*{count}"
        return {**obj, "metadata": {**metadata, "name": name}}


def _in_input_order(errors: list[InputError], names: Sequence[str]) -> list[InputError]:
    """Errors sorted as the inputs were read: by input, then document; a missing path first."""
    rank = {name: i for i, name in enumerate(names)}

    def key(error: InputError) -> tuple[int, int]:
        name, _, document = error.source.rpartition("#")
        if name in rank and document.isdigit():
            return (rank[name], int(document))
        return (rank.get(error.source, -1), 0)

    return sorted(errors, key=key)


def _is_policy(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "CompliancePolicy" and objects.is_ours(obj)


def _is_namespace(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1"


def _unpinned_exceptions(state: ClusterState) -> list[str]:
    """Exceptions without a version follow the model's name to whatever version it declares next."""
    return [
        f"policy {name}: the exception for {e.namespace}/{e.model} names no version, so it waives any "
        "version of that model; pin the version it was granted for (spec.exceptions[].version)"
        for name, policy in sorted(state.policies.items())
        for e in policy.spec.exceptions
        if e.version is None
    ]


def _policy_names(state: ClusterState, builtin: bool) -> list[str]:
    names = []
    for name in sorted(state.policies):
        actions = ", ".join(state.policies[name].spec.validation_actions)
        names.append(f"{name} [{actions}]" + (f" {BUILTIN_SOURCE}" if builtin else ""))
    return names
