"""Which kinds are workloads (SPEC section 3), and where each keeps what it runs.

Every kind that makes Pods is a workload, so no kind the gate does not know can serve a model:
the built-in table below, plus more pod-producing kinds (Argo Rollouts, LeaderWorkerSet...) by
configuration, each given as `GROUP/VERSION/RESOURCE:KIND:PATH[,PATH...]`:

    argoproj.io/v1alpha1/rollouts:Rollout:spec.template
    leaderworkerset.x-k8s.io/v1/leaderworkersets:LeaderWorkerSet:spec.leaderWorkerTemplate.leaderTemplate,spec.leaderWorkerTemplate.workerTemplate

The template paths say which UPDATEs change what runs (admission judges those); a kind whose
whole `spec` is what runs (a Pod, a KServe InferenceService) has the path `spec`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

Path = tuple[str, ...]

_SPEC = re.compile(
    r"^(?P<group>[a-z0-9]([-a-z0-9.]*[a-z0-9])?)/(?P<version>v[0-9]+[a-z0-9]*)/(?P<resource>[a-z][-a-z0-9]*)"
    r":(?P<kind>[A-Z][A-Za-z0-9]*):(?P<paths>[A-Za-z0-9.,]+)$"
)


class KindSpecError(ValueError):
    """A workload kind given by configuration that cannot be read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class WorkloadKind:
    group: str  # "" for the core group
    version: str  # the version to watch; "" when the operator discovers the served one (KServe)
    resource: str  # plural, as in RBAC rules and webhook rules
    kind: str
    templates: tuple[Path, ...]  # where the pod template(s) live; ("spec",) when the whole spec runs
    optional: bool = False  # served only when its CRD is installed: watched once it is
    builtin: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.kind)

    @property
    def resource_key(self) -> tuple[str, str]:
        return (self.group, self.resource)

    @property
    def whole_spec(self) -> bool:
        return self.templates == (("spec",),)

    def spec_text(self) -> str:
        """The configuration form: GROUP/VERSION/RESOURCE:KIND:PATH[,PATH]."""
        paths = ",".join(".".join(p) for p in self.templates)
        return f"{self.group}/{self.version}/{self.resource}:{self.kind}:{paths}"

    @classmethod
    def parse(cls, text: str) -> WorkloadKind:
        match = _SPEC.match(text.strip())
        if match is None:
            raise KindSpecError(
                f"workload kind {text!r}: expected GROUP/VERSION/RESOURCE:KIND:PATH[,PATH], e.g. "
                "argoproj.io/v1alpha1/rollouts:Rollout:spec.template"
            )
        templates = tuple(tuple(p.split(".")) for p in match["paths"].split(",") if p)
        if not templates or any("" in p for p in templates):
            raise KindSpecError(f"workload kind {text!r}: a pod template path is empty")
        if any(p[0] != "spec" for p in templates):
            raise KindSpecError(f"workload kind {text!r}: pod template paths start at spec")
        return cls(
            group=match["group"],
            version=match["version"],
            resource=match["resource"],
            kind=match["kind"],
            templates=templates,
            optional=True,
            builtin=False,
        )


_TEMPLATE: tuple[Path, ...] = (("spec", "template"),)
_WHOLE_SPEC: tuple[Path, ...] = (("spec",),)

# Controllers before what they make, so that the operator's start-up listing usually knows a
# child's controller before the child.
BUILTIN: tuple[WorkloadKind, ...] = (
    WorkloadKind(
        "serving.kserve.io", "", "inferenceservices", "InferenceService", _WHOLE_SPEC, optional=True
    ),
    WorkloadKind("apps", "v1", "deployments", "Deployment", _TEMPLATE),
    WorkloadKind("apps", "v1", "statefulsets", "StatefulSet", _TEMPLATE),
    WorkloadKind("apps", "v1", "daemonsets", "DaemonSet", _TEMPLATE),
    WorkloadKind("apps", "v1", "replicasets", "ReplicaSet", _TEMPLATE),
    WorkloadKind("", "v1", "replicationcontrollers", "ReplicationController", _TEMPLATE),
    WorkloadKind("batch", "v1", "cronjobs", "CronJob", (("spec", "jobTemplate", "spec", "template"),)),
    WorkloadKind("batch", "v1", "jobs", "Job", _TEMPLATE),
    WorkloadKind("", "v1", "pods", "Pod", _WHOLE_SPEC),
)


@dataclass(frozen=True)
class WorkloadKinds:
    """The built-in workload kinds plus those added by configuration; lookups by kind and resource."""

    kinds: tuple[WorkloadKind, ...] = BUILTIN
    _by_key: dict[tuple[str, str], WorkloadKind] = field(init=False, repr=False, compare=False)
    _by_resource: dict[tuple[str, str], WorkloadKind] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {k.key: k for k in self.kinds})
        object.__setattr__(self, "_by_resource", {k.resource_key: k for k in self.kinds})

    @classmethod
    def with_extra(cls, extra: Iterable[WorkloadKind | str]) -> WorkloadKinds:
        """The built-in kinds and `extra` (parsed from their configuration form when strings)."""
        kinds = list(BUILTIN)
        for item in extra:
            added = WorkloadKind.parse(item) if isinstance(item, str) else item
            clash = next(
                (k for k in kinds if added.key == k.key or added.resource_key == k.resource_key), None
            )
            if clash is not None:
                raise KindSpecError(
                    f"workload kind {added.spec_text()!r}: {clash.group or 'core'}/{clash.kind} "
                    "is already a workload kind"
                )
            kinds.append(added)
        return cls(tuple(kinds))

    def __iter__(self) -> Iterator[WorkloadKind]:
        return iter(self.kinds)

    def get(self, group: object, kind: object) -> WorkloadKind | None:
        """The workload kind of (API group, kind), or None; any value is accepted (fuzzed input)."""
        if not isinstance(group, str) or not isinstance(kind, str):
            return None
        return self._by_key.get((group, kind))

    def by_resource(self, group: object, resource: object) -> WorkloadKind | None:
        if not isinstance(group, str) or not isinstance(resource, str):
            return None
        return self._by_resource.get((group, resource))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(k.kind for k in self.kinds)


DEFAULT = WorkloadKinds()
