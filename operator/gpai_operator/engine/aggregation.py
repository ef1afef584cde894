"""One model under several policies: the worst status of each obligation, in SEVERITY order."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from gpai_operator.engine.verdicts import SEVERITY, ObligationVerdict, PolicyVerdict

RANK: dict[str, int] = {status: rank for rank, status in enumerate(SEVERITY)}


def worst_obligations(
    policies: Iterable[PolicyVerdict], order: Iterable[str]
) -> tuple[ObligationVerdict, ...]:
    """Per obligation id (in `order`), the verdict with the worst status across `policies`.

    Between equally bad verdicts the one whose evidence runs out first is shown, flagged expiring
    when any of them is.
    """
    by_id: dict[str, list[ObligationVerdict]] = {}
    for policy in policies:
        for verdict in policy.obligations:
            by_id.setdefault(verdict.id, []).append(verdict)
    return tuple(_worst(by_id[i]) for i in order if i in by_id)


def _worst(verdicts: list[ObligationVerdict]) -> ObligationVerdict:
    if len(verdicts) == 1:
        return verdicts[0]
    rank = min(RANK[v.status] for v in verdicts)
    tied = [v for v in verdicts if RANK[v.status] == rank]
    shown = min(tied, key=lambda v: v.expires or dt.date.max)
    expiring = any(v.expiring for v in tied)
    return shown if shown.expiring == expiring else dataclasses.replace(shown, expiring=expiring)
