"""status.versions: the versions a GPAIModel has declared, as the operator saw them (a pure function).

The status is where the history lives: what the watches last saw of it, plus the version the model
declares now. A new version is added with `firstSeen: now`; the one it replaces gets
`superseded: now`; a version that comes back is current again. The engine reads the history from the
status (transparency/documentation-retention, and the admission warning on deleting documentation).

Entries whose ten years have passed are dropped; beyond VERSIONS_MAX entries, the oldest superseded
ones go first (docs/operator.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gpai_operator.api.status import VERSIONS_MAX, VersionSeen, instant
from gpai_operator.engine import retained


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recorded(observed: Mapping[str, Any] | None) -> list[VersionSeen]:
    """The entries of the observed status that can be read (the API server validated them)."""
    entries = (observed or {}).get("versions")
    found: list[VersionSeen] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            found.append(VersionSeen.model_validate(entry))
        except ValidationError:
            continue  # written by hand and unreadable: the operator's own entries are always valid
    return found


def version_history(observed: Mapping[str, Any] | None, current: str, now: dt.datetime) -> list[VersionSeen]:
    """The history to write: the observed one, brought up to the version the model declares `now`."""
    stamp = _stamp(now)
    history: list[VersionSeen] = []
    seen = False
    for entry in _recorded(observed):
        if any(e.version == entry.version for e in history):
            continue  # one entry per version, the first recorded
        if entry.version == current:
            history.append(entry.model_copy(update={"superseded": None}))
            seen = True
        elif entry.superseded is None:
            history.append(entry.model_copy(update={"superseded": stamp}))
        else:
            history.append(entry)
    if not seen:
        history.append(VersionSeen(version=current, first_seen=stamp))
    today = now.astimezone(dt.UTC).date()
    history = [e for e in history if e.version == current or retained(e, today)]
    while len(history) > VERSIONS_MAX:
        oldest = min(
            (e for e in history if e.version != current), key=lambda e: instant(e.superseded or e.first_seen)
        )
        history.remove(oldest)
    return history
