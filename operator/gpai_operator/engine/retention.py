"""transparency/documentation-retention: the documentation of every model version on the market in
the last ten years is kept (Art. 53(1)(a), 54(3)(b); CoP Transparency M1.1).

The versions a model has declared come from its status.versions, the history the operator keeps
(first seen, superseded). A version is on the market until it is superseded; its documentation is
kept through the same day ten years later. The current version's documentation is what
transparency/technical-documentation checks, field by field; this obligation is about the earlier
ones, which no other obligation looks at once the model has moved on.

`documentation_duty` answers the admission webhook's question when a ModelDocumentation is deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gpai_operator.api.documentation import ModelDocumentationSpec
from gpai_operator.api.status import VersionSeen, instant
from gpai_operator.engine.days import ONE_DAY
from gpai_operator.engine.evidence import Evidence, Finding, Terms
from gpai_operator.engine.state import ClusterState

RETENTION_YEARS = 10


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def on_market_until(entry: VersionSeen) -> dt.date | None:
    """The UTC day the version was superseded; None while it is current (or when not recorded)."""
    return instant(entry.superseded).date() if entry.superseded else None


def kept_through(entry: VersionSeen) -> dt.date | None:
    """The last day its documentation must be kept; None: no end yet (it is, or may be, on the market)."""
    until = on_market_until(entry)
    return years_after(until, RETENTION_YEARS) if until is not None else None


def retained(entry: VersionSeen, today: dt.date) -> bool:
    through = kept_through(entry)
    return through is None or today <= through


def _documented(evidence: Evidence) -> set[str]:
    versions = set(evidence.other_versions.get("ModelDocumentation", ()))
    if evidence.documentation is not None:
        versions.add(evidence.version)
    return versions


def _period(entry: VersionSeen) -> str:
    until, through = on_market_until(entry), kept_through(entry)
    if until is None or through is None:
        return f"version {entry.version} (no longer current; when it was superseded is not recorded)"
    return f"version {entry.version} (on the market until {until}, to be kept through {through})"


def check(evidence: Evidence, terms: Terms, fields: tuple[str, ...]) -> Finding:
    today = terms.today
    earlier = [v for v in evidence.versions if v.version != evidence.version]
    if not earlier:
        return Finding(
            "Met", "no earlier version on record (status.versions, the history the operator keeps)"
        )
    within = [v for v in earlier if retained(v, today)]
    documented = _documented(evidence)
    missing = [v for v in within if v.version not in documented]
    ends = [through + ONE_DAY for v in missing if (through := kept_through(v)) is not None]
    changes = tuple(sorted(d for d in ends if d > today))
    if missing:
        return Finding(
            "Missing",
            "no ModelDocumentation for " + "; ".join(_period(v) for v in missing),
            fix_args={"versions": ", ".join(f'"{v.version}"' for v in missing)},
            changes=changes,
        )
    if not within:
        return Finding(
            "Met", "every earlier version is past its ten years: " + ", ".join(v.version for v in earlier)
        )
    return Finding(
        "Met",
        "the ModelDocumentation of every earlier version is kept: " + "; ".join(_period(v) for v in within),
    )


@dataclass(frozen=True, slots=True)
class Duty:
    """Why a ModelDocumentation must be kept."""

    version: str
    current: bool  # the model's current version
    on_market_until: dt.date | None = None
    kept_through: dt.date | None = None


def documentation_duty(
    state: ClusterState, namespace: str, doc: ModelDocumentationSpec, today: dt.date
) -> Duty | None:
    """The retention duty on a ModelDocumentation: its version is the model's current one, or was on
    the market within the last ten years; None when neither is known."""
    key = (namespace, doc.model_ref.name)
    model = state.models.get(key)
    if model is None:
        return None
    if doc.model_version == model.spec.version:
        return Duty(doc.model_version, current=True)
    entry = next((v for v in state.versions_of(key) if v.version == doc.model_version), None)
    if entry is None or not retained(entry, today):
        return None
    return Duty(doc.model_version, False, on_market_until(entry), kept_through(entry))
