"""The engine's public functions: a model's verdict, a workload's decision, a whole report.

Pure: the cluster state and `now` (a timezone-aware instant) in, frozen verdicts out.
"""

from __future__ import annotations

import datetime as dt

from gpai_operator.api.policy import CompliancePolicySpec
from gpai_operator.engine.aggregation import worst_obligations
from gpai_operator.engine.catalogue import BY_ID, CATALOGUE
from gpai_operator.engine.classification import classify, combine
from gpai_operator.engine.days import day_start, utc_day
from gpai_operator.engine.evidence import Terms, gather
from gpai_operator.engine.incidents import deadline_changes, judge_incident
from gpai_operator.engine.policies import CompiledPolicy, selecting_policies
from gpai_operator.engine.selectors import selects
from gpai_operator.engine.state import ClusterState, ModelKey, Resource, Workload
from gpai_operator.engine.status_rules import Judgement, judge
from gpai_operator.engine.value_chain import Original
from gpai_operator.engine.verdicts import (
    Classification,
    ModelVerdict,
    ObligationVerdict,
    PolicyVerdict,
    Report,
    WorkloadDecision,
)
from gpai_operator.engine.workloads import decide

__all__ = [
    "Report",
    "decide_from_verdict",
    "decide_workload",
    "evaluate_all",
    "evaluate_model",
    "selecting_policies",
    "selects",
]

_CATALOGUE_ORDER = tuple(o.id for o in CATALOGUE)
_DOWNSTREAM_INFORMATION = BY_ID["transparency/downstream-information"]


def evaluate_model(state: ClusterState, key: ModelKey, now: dt.datetime) -> ModelVerdict:
    """The verdict on one GPAIModel under every policy selecting its namespace. KeyError if absent."""
    return _Run(state, now).model(key)


def decide_workload(
    state: ClusterState, workload: Workload, now: dt.datetime, verdict: ModelVerdict | None = None
) -> WorkloadDecision:
    """Allow, Warn or Deny for one workload; `verdict` (e.g. a cached one) spares evaluating its model."""
    return _Run(state, now).workload(workload, verdict)


def decide_from_verdict(workload: Workload, verdict: ModelVerdict) -> WorkloadDecision:
    """The decision on a workload that names `verdict`'s model (`workload.model` set): the verdict
    already holds every selecting policy's view of the model, so no policy is compiled and neither the
    state nor the clock is read. What `decide_workload` returns given the same verdict, cheaper."""
    return decide(workload, (), verdict)


def evaluate_all(state: ClusterState, now: dt.datetime) -> Report:
    """Every model and every workload, each model evaluated once.

    Every workload is judged, owner references or not: offline there is no requester identity to
    tell a controller's object from anyone else's (SPEC section 5).
    """
    run = _Run(state, now)
    models = tuple(run.model(key) for key in sorted(state.models))
    verdicts = {(m.namespace, m.name): m for m in models}
    workloads = sorted(state.workloads.values(), key=lambda w: (w.namespace, w.kind, w.name))
    return Report(
        models=models,
        workloads=tuple(
            run.workload(w, verdicts.get(w.model_key) if w.model_key else None) for w in workloads
        ),
    )


class _Run:
    """One call's caches: compiled policies by name, which of them select each namespace, and the
    classifications of the models met along a value chain."""

    def __init__(self, state: ClusterState, now: dt.datetime) -> None:
        self.state = state
        self.today = utc_day(now)
        self._compiled: dict[str, CompiledPolicy] = {}
        self._selecting: dict[str, tuple[CompiledPolicy, ...]] = {}
        self._classified: dict[tuple[ModelKey, tuple[object, ...]], Classification] = {}

    def policies(self, namespace: str) -> tuple[CompiledPolicy, ...]:
        found = self._selecting.get(namespace)
        if found is None:
            found = tuple(self._compile(p) for p in selecting_policies(self.state, namespace))
            self._selecting[namespace] = found
        return found

    def _compile(self, policy: Resource[CompliancePolicySpec]) -> CompiledPolicy:
        compiled = self._compiled.get(policy.name)
        if compiled is None:
            compiled = self._compiled[policy.name] = CompiledPolicy.of(policy)
        return compiled

    def model(self, key: ModelKey) -> ModelVerdict:
        evidence = gather(self.state, key)
        today = self.today
        verdicts: list[PolicyVerdict] = []
        changes: set[dt.date] = set()
        memo: dict[tuple[object, ...], Judgement] = {}
        for policy in self.policies(key[0]):
            parameters = policy.spec.parameters
            classification = self.classification(key, policy)
            terms = Terms(today, parameters, classification, self.upstream(key, classification, policy))
            judgements = [judge(o, evidence, terms, policy, memo) for o in policy.obligations]
            for judgement in judgements:
                changes.update(judgement.changes)
            verdicts.append(
                PolicyVerdict(
                    policy=policy.name,
                    actions=policy.actions,
                    obligations=tuple(j.verdict for j in judgements),
                    classification=classification,
                )
            )
        # Each incident's own state (overdue or not) changes at its deadlines, whether or not the
        # obligation applies: its status and metrics follow them.
        changes.update(deadline_changes(evidence.incidents, today))
        return ModelVerdict(
            namespace=evidence.namespace,
            name=evidence.name,
            generation=evidence.model.generation,
            classification=combine([v.classification for v in verdicts if v.classification]),
            obligations=worst_obligations(verdicts, _CATALOGUE_ORDER),
            policies=tuple(verdicts),
            next_review=day_start(min(changes)) if changes else None,
            version=evidence.version,
            incidents=tuple(judge_incident(i, today) for i in evidence.incidents),
        )

    def classification(self, key: ModelKey, policy: CompiledPolicy) -> Classification:
        """The model's classification under the policy; a derived model's reads its original's."""
        cache_key = (key, policy.parameters_key)
        found = self._classified.get(cache_key)
        if found is None:
            spec = self.state.models[key].spec
            found = classify(spec, policy.spec.parameters, self._original(key, policy))
            self._classified[cache_key] = found
        return found

    def _original(self, key: ModelKey, policy: CompiledPolicy) -> Original | None:
        derived = self.state.models[key].spec.derived_from
        if derived is None:
            return None
        original = self.state.original_of(key)
        known = None
        if original is not None and original in self.state.models and not self._in_a_cycle(key):
            known = self.classification(original, policy)
        if derived.training_flops is not None:
            return Original(
                derived.training_flops, bool(known and known.systemic_risk), "spec.derivedFrom.trainingFlops"
            )
        if known is not None and original is not None:
            where = f"GPAIModel {original[0]}/{original[1]}"
            return Original(known.compute, known.systemic_risk, where)
        return Original(None, False, "")

    def _in_a_cycle(self, key: ModelKey) -> bool:
        """Its value chain leads back to it (a mistake in the specs): nothing is known of its original."""
        seen: set[ModelKey] = set()
        original = self.state.original_of(key)
        while original is not None and original not in seen:
            if original == key:
                return True
            seen.add(original)
            original = self.state.original_of(original)
        return False

    def upstream(
        self, key: ModelKey, classification: Classification, policy: CompiledPolicy
    ) -> ObligationVerdict | None:
        """A downstream model's original: its transparency/downstream-information under the policy."""
        original = self.state.original_of(key)
        if classification.role != "Downstream" or original is None or original not in self.state.models:
            return None
        terms = Terms(self.today, policy.spec.parameters, self.classification(original, policy))
        return judge(_DOWNSTREAM_INFORMATION, gather(self.state, original), terms, policy).verdict

    def workload(self, workload: Workload, verdict: ModelVerdict | None) -> WorkloadDecision:
        key = workload.model_key
        if verdict is None and key is not None and key in self.state.models:
            verdict = self.model(key)
        if verdict is not None and workload.model is not None:
            return decide_from_verdict(workload, verdict)
        return decide(workload, self.policies(workload.namespace), verdict)
