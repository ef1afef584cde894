"""etcd's v3 HTTP gateway (JSON over plain HTTP on the test control plane's loopback port): the
current revision, and compaction.

Compacting at the current revision discards every older revision: a watch that resumes from an
older resourceVersion and is served by etcd gets `410 Gone` ("the requested revision has been
compacted") and its client must list again, as after days of uptime in a real cluster.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")  # type: ignore[no-any-return]


def revision(url: str) -> int:
    """etcd's current revision (every write to any key moves it)."""
    answer = _post(url, "/v3/kv/range", {"key": base64.b64encode(b"\0").decode(), "limit": 1})
    return int(answer["header"]["revision"])


def compact(url: str, at: int | None = None) -> int:
    """Compacts the key space at `at` (default: the current revision), physically; returns it."""
    target = at if at is not None else revision(url)
    _post(url, "/v3/kv/compaction", {"revision": str(target), "physical": True})
    return target
