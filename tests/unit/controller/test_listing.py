"""The start-up listing's gap: objects deleted before kopf's watches start leave the state."""

from __future__ import annotations

import asyncio

from gpai_operator import objects
from gpai_operator.controller.kube import ApiError
from gpai_operator.controller.listing import Sweeper
from tests.unit.controller.fakes import FakeCluster
from tests.unit.engine import builders as b


class Lookups:
    """Answers GETs: 404 for the paths in `gone`; records every lookup."""

    def __init__(self, gone: set[str]) -> None:
        self.gone, self.asked = gone, list[str]()

    async def get(self, path: str) -> dict:
        self.asked.append(path)
        if path in self.gone:
            raise ApiError("GET", path, 404, "NotFound", "not found")
        return {}


def test_what_kopf_never_mentions_and_is_gone_leaves_the_state():
    cluster = FakeCluster(b.NOW)
    kept, deleted = b.workload(name="kept"), b.workload(name="deleted")
    listed = {objects.identity(cluster.create(obj)) for obj in (*b.frontier(), kept, deleted)}
    cluster.start()
    gone = "/apis/apps/v1/namespaces/ml/deployments/deleted"
    lookups = Lookups({gone})
    sweeper = Sweeper(lookups, cluster.sync, set(listed))  # type: ignore[arg-type]
    for obj in (*b.frontier(), kept):  # kopf's own listing reports what still exists
        sweeper.confirm(obj)
    asyncio.run(sweeper.run(delays=(0,)))
    assert lookups.asked == [gone]
    assert ("Deployment", "ml", "deleted") not in cluster.runtime.state.workloads
    assert ("Deployment", "ml", "kept") in cluster.runtime.state.workloads
    assert not sweeper.unconfirmed


def test_verdicts_the_operator_created_and_someone_deleted_before_kopf_listed_are_written_again():
    from gpai_operator.controller.derived_kinds import admission_verdicts

    created: list[tuple[str, str, str, str]] = []
    cluster = FakeCluster(b.NOW, derived=[admission_verdicts()])
    cluster.reconciler.writes.created = created.append
    cluster.create(b.namespace("ml"))
    cluster.start()
    asyncio.run(cluster.settle())
    assert created == [("gpai.dev/v1alpha1", "AdmissionVerdicts", "ml", "gpai-verdicts")]
    # deleted behind the operator's back, before kopf's watch would have reported it
    cluster.objects.pop(("AdmissionVerdicts", "ml", "gpai-verdicts"))
    gone = "/apis/gpai.dev/v1alpha1/namespaces/ml/admissionverdicts/gpai-verdicts"
    sweeper = Sweeper(Lookups({gone}), cluster.sync, set(), {"AdmissionVerdicts": "admissionverdicts"})  # type: ignore[arg-type]
    sweeper.expect(created[0])
    asyncio.run(sweeper.run(delays=(0,)))
    asyncio.run(cluster.settle())
    assert ("AdmissionVerdicts", "ml", "gpai-verdicts") in cluster.objects
