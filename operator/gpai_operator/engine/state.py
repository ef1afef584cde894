"""ClusterState: the plain-data view of a cluster (or of manifests) that the engine reads.

The CLI fills it from files, the operator from watch events. Every mutation returns the keys of
the models whose verdict it can change, so the operator re-evaluates exactly those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

from gpai_operator.api.copyright import CopyrightPolicySpec
from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.api.evaluation import RiskEvaluationSpec
from gpai_operator.api.gpaimodel import GPAIModelSpec
from gpai_operator.api.incident import SeriousIncidentSpec
from gpai_operator.api.policy import CompliancePolicySpec
from gpai_operator.api.status import VersionSeen
from gpai_operator.engine.kinds import DEFAULT as DEFAULT_KINDS
from gpai_operator.engine.kinds import WorkloadKinds
from gpai_operator.engine.selectors import selects

MODEL_LABEL = "gpai.dev/model"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

ModelKey = tuple[str, str]  # (namespace, name)
ObjectKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
WorkloadKey = tuple[str, str, str]  # (kind, namespace, name)
S = TypeVar("S", bound=BaseModel, covariant=True)  # a Resource is frozen: read-only


@dataclass(frozen=True, slots=True)
class Resource(Generic[S]):
    """One of our custom resources: identity plus its validated spec."""

    namespace: str
    name: str
    spec: S
    generation: int = 0
    uid: str = ""

    @property
    def key(self) -> ObjectKey:
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class ControllerRef:
    """The ownerReference with `controller: true`: a claim anyone who can create the object can write."""

    api_version: str
    kind: str
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class Workload:
    """A workload of SPEC section 3, reduced to what the engine needs."""

    api_version: str
    kind: str
    namespace: str
    name: str
    model: str | None  # the `gpai.dev/model` label, None when unlabelled
    uid: str = ""
    controller: ControllerRef | None = None  # what its ownerReferences claim; proves nothing alone

    @property
    def controlled(self) -> bool:
        return self.controller is not None

    @property
    def key(self) -> WorkloadKey:
        return (self.kind, self.namespace, self.name)

    @property
    def model_key(self) -> ModelKey | None:
        return (self.namespace, self.model) if self.model else None


@dataclass
class ClusterState:
    models: dict[ObjectKey, Resource[GPAIModelSpec]] = field(default_factory=dict)
    documentation: dict[ObjectKey, Resource[ModelDocumentationSpec]] = field(default_factory=dict)
    copyright_policies: dict[ObjectKey, Resource[CopyrightPolicySpec]] = field(default_factory=dict)
    evaluations: dict[ObjectKey, Resource[RiskEvaluationSpec]] = field(default_factory=dict)
    incidents: dict[ObjectKey, Resource[SeriousIncidentSpec]] = field(default_factory=dict)
    # Each model's version history as its status records it (status.versions, written by the operator).
    versions: dict[ModelKey, tuple[VersionSeen, ...]] = field(default_factory=dict)
    policies: dict[str, Resource[CompliancePolicySpec]] = field(default_factory=dict)
    namespaces: dict[str, Mapping[str, str]] = field(default_factory=dict)  # name -> labels
    workloads: dict[WorkloadKey, Workload] = field(default_factory=dict)
    kinds: WorkloadKinds = DEFAULT_KINDS  # what counts as a workload (built-in plus configured kinds)
    # Indexes: (namespace, model name) -> keys of the artifacts and workloads that name it.
    _docs_by_model: dict[ModelKey, set[ObjectKey]] = field(default_factory=lambda: defaultdict(set))
    _evals_by_model: dict[ModelKey, set[ObjectKey]] = field(default_factory=lambda: defaultdict(set))
    _incidents_by_model: dict[ModelKey, set[ObjectKey]] = field(default_factory=lambda: defaultdict(set))
    # original -> the models whose spec.derivedFrom.modelRef names it (the value chain)
    _derived_from: dict[ModelKey, set[ModelKey]] = field(default_factory=lambda: defaultdict(set))
    _workloads_by_model: dict[ModelKey, set[WorkloadKey]] = field(default_factory=lambda: defaultdict(set))
    # (controller kind, namespace, controller name) -> the workloads whose controller reference names it
    _claimed_by: dict[WorkloadKey, set[WorkloadKey]] = field(default_factory=lambda: defaultdict(set))
    _models_by_namespace: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    # ---- reads -------------------------------------------------------------------------------
    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        """Labels of a namespace; one we have not seen has only the name label Kubernetes sets."""
        return self.namespaces.get(namespace) or {NAMESPACE_NAME_LABEL: namespace}

    def documentation_for(self, key: ModelKey) -> list[Resource[ModelDocumentationSpec]]:
        return [self.documentation[k] for k in sorted(self._docs_by_model.get(key, ()))]

    def evaluations_for(self, key: ModelKey) -> list[Resource[RiskEvaluationSpec]]:
        return [self.evaluations[k] for k in sorted(self._evals_by_model.get(key, ()))]

    def incidents_for(self, key: ModelKey) -> list[Resource[SeriousIncidentSpec]]:
        return [self.incidents[k] for k in sorted(self._incidents_by_model.get(key, ()))]

    def versions_of(self, key: ModelKey) -> tuple[VersionSeen, ...]:
        return self.versions.get(key, ())

    def original_of(self, key: ModelKey) -> ModelKey | None:
        """The GPAIModel that spec.derivedFrom.modelRef names (whether or not it exists)."""
        model = self.models.get(key)
        derived = model.spec.derived_from if model else None
        if derived is None or derived.model_ref is None:
            return None
        return (key[0], derived.model_ref.name)

    def with_derived(self, keys: set[ModelKey]) -> set[ModelKey]:
        """`keys` and every model made from one of them, directly or through others: a derived
        model's classification and upstream information are read from its original."""
        found = set(keys)
        todo = list(keys)
        while todo:
            for derived in self._derived_from.get(todo.pop(), ()):
                if derived not in found:
                    found.add(derived)
                    todo.append(derived)
        return found

    def copyright_policy_for(self, key: ModelKey) -> Resource[CopyrightPolicySpec] | None:
        model = self.models.get(key)
        if model is None or model.spec.copyright_policy_ref is None:
            return None
        return self.copyright_policies.get((key[0], model.spec.copyright_policy_ref.name))

    def workloads_for(self, key: ModelKey) -> list[Workload]:
        return [self.workloads[k] for k in sorted(self._workloads_by_model.get(key, ()))]

    def controller_of(self, workload: Workload) -> Workload | None:
        """The workload its controller reference names, when that exists with the same uid.

        A reference to anything else (a ConfigMap, a ReplicaSet that does not exist or was recreated)
        resolves to nothing: the object stands on its own.
        """
        ref = workload.controller
        if ref is None:
            return None
        owner = self.workloads.get((ref.kind, workload.namespace, ref.name))
        if owner is None or not ref.uid or owner.uid != ref.uid:
            return None
        return owner

    def gated_through_controller(self, workload: Workload) -> bool:
        """Its controller is a workload the gate judges: the controller carries the verdict for both."""
        return self.controller_of(workload) is not None

    def claimed_by(self, key: WorkloadKey) -> set[WorkloadKey]:
        """The workloads whose controller reference names this one (whether or not it resolves)."""
        return set(self._claimed_by.get(key, ()))

    def models_in(self, namespace: str) -> Iterator[ModelKey]:
        for name in sorted(self._models_by_namespace.get(namespace, ())):
            yield (namespace, name)

    # ---- writes: each returns the models whose verdict may change ----------------------------
    def put_model(self, model: Resource[GPAIModelSpec]) -> set[ModelKey]:
        self._forget_original(model.key)
        self.models[model.key] = model
        self._models_by_namespace[model.namespace].add(model.name)
        original = self.original_of(model.key)
        if original is not None:
            self._derived_from[original].add(model.key)
        return {model.key}

    def remove_model(self, namespace: str, name: str) -> set[ModelKey]:
        self._forget_original((namespace, name))
        self.models.pop((namespace, name), None)
        self.versions.pop((namespace, name), None)
        _discard(self._models_by_namespace, namespace, name)
        return {(namespace, name)}

    def _forget_original(self, key: ModelKey) -> None:
        original = self.original_of(key)
        if original is not None:
            _discard(self._derived_from, original, key)

    def put_versions(self, key: ModelKey, versions: tuple[VersionSeen, ...]) -> set[ModelKey]:
        if self.versions.get(key, ()) == versions:
            return set()
        if versions:
            self.versions[key] = versions
        else:
            self.versions.pop(key, None)
        return {key}

    def put_documentation(self, doc: Resource[ModelDocumentationSpec]) -> set[ModelKey]:
        return _put_artifact(self.documentation, self._docs_by_model, doc)

    def remove_documentation(self, namespace: str, name: str) -> set[ModelKey]:
        return _remove_artifact(self.documentation, self._docs_by_model, (namespace, name))

    def put_evaluation(self, evaluation: Resource[RiskEvaluationSpec]) -> set[ModelKey]:
        return _put_artifact(self.evaluations, self._evals_by_model, evaluation)

    def remove_evaluation(self, namespace: str, name: str) -> set[ModelKey]:
        return _remove_artifact(self.evaluations, self._evals_by_model, (namespace, name))

    def put_incident(self, incident: Resource[SeriousIncidentSpec]) -> set[ModelKey]:
        return _put_artifact(self.incidents, self._incidents_by_model, incident)

    def remove_incident(self, namespace: str, name: str) -> set[ModelKey]:
        return _remove_artifact(self.incidents, self._incidents_by_model, (namespace, name))

    def put_copyright_policy(self, policy: Resource[CopyrightPolicySpec]) -> set[ModelKey]:
        self.copyright_policies[policy.key] = policy
        return self._models_referencing_copyright_policy(*policy.key)

    def remove_copyright_policy(self, namespace: str, name: str) -> set[ModelKey]:
        self.copyright_policies.pop((namespace, name), None)
        return self._models_referencing_copyright_policy(namespace, name)

    def _models_referencing_copyright_policy(self, namespace: str, name: str) -> set[ModelKey]:
        return {
            key
            for key in self.models_in(namespace)
            if (ref := self.models[key].spec.copyright_policy_ref) is not None and ref.name == name
        }

    def put_policy(self, policy: Resource[CompliancePolicySpec]) -> set[ModelKey]:
        old = self.policies.get(policy.name)
        self.policies[policy.name] = policy
        if old is not None and old.spec == policy.spec:
            return set()
        return self._models_selected_by(policy.spec, *([old.spec] if old else []))

    def remove_policy(self, name: str) -> set[ModelKey]:
        old = self.policies.pop(name, None)
        return self._models_selected_by(old.spec) if old else set()

    def _models_selected_by(self, *specs: CompliancePolicySpec) -> set[ModelKey]:
        """Models in the namespaces any of these policies select (the old and the new version)."""
        affected: set[ModelKey] = set()
        for namespace, names in self._models_by_namespace.items():
            labels = self.namespace_labels(namespace)
            if names and any(selects(spec, labels) for spec in specs):
                affected.update((namespace, name) for name in names)
        return affected

    def put_namespace(self, name: str, labels: Mapping[str, str]) -> set[ModelKey]:
        if self.namespaces.get(name) == labels:
            return set()
        self.namespaces[name] = dict(labels)
        return set(self.models_in(name))

    def remove_namespace(self, name: str) -> set[ModelKey]:
        self.namespaces.pop(name, None)
        return set(self.models_in(name))

    def put_workload(self, workload: Workload) -> set[ModelKey]:
        affected = self.remove_workload(*workload.key)
        self.workloads[workload.key] = workload
        if workload.model_key is not None:
            self._workloads_by_model[workload.model_key].add(workload.key)
            affected.add(workload.model_key)
        if workload.controller is not None:
            self._claimed_by[_claim(workload)].add(workload.key)
        return affected

    def remove_workload(self, kind: str, namespace: str, name: str) -> set[ModelKey]:
        old = self.workloads.pop((kind, namespace, name), None)
        if old is None:
            return set()
        if old.controller is not None:
            _discard(self._claimed_by, _claim(old), old.key)
        if old.model_key is None:
            return set()
        _discard(self._workloads_by_model, old.model_key, old.key)
        return {old.model_key}


# The evidence kinds that name their model in spec.modelRef, kept with an index by model.
Artifact = TypeVar("Artifact", ModelDocumentationSpec, RiskEvaluationSpec, SeriousIncidentSpec)


def _put_artifact(
    table: dict[ObjectKey, Resource[Artifact]],
    index: dict[ModelKey, set[ObjectKey]],
    artifact: Resource[Artifact],
) -> set[ModelKey]:
    """Store an artifact; the models it named before and names now are affected."""
    affected = _remove_artifact(table, index, artifact.key)
    table[artifact.key] = artifact
    model = (artifact.namespace, artifact.spec.model_ref.name)
    index[model].add(artifact.key)
    return affected | {model}


def _remove_artifact(
    table: dict[ObjectKey, Resource[Artifact]], index: dict[ModelKey, set[ObjectKey]], key: ObjectKey
) -> set[ModelKey]:
    old = table.pop(key, None)
    if old is None:
        return set()
    model = (key[0], old.spec.model_ref.name)
    _discard(index, model, key)
    return {model}


Key = TypeVar("Key")
Member = TypeVar("Member")


def _discard(index: dict[Key, set[Member]], key: Key, member: Member) -> None:
    """Removes `member` from the index's set at `key`, and the set once it is empty: names that come
    and go (generated model names, short-lived namespaces) leave nothing behind."""
    members = index.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del index[key]


def _claim(workload: Workload) -> WorkloadKey:
    assert workload.controller is not None
    return (workload.controller.kind, workload.namespace, workload.controller.name)
