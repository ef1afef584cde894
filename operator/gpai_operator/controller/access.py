"""Who may read `/metrics`: the API server decides, as for its own endpoints.

The caller's bearer token is checked with a TokenReview (who is it?), then that identity with a
SubjectAccessReview for the non-resource URL `/metrics`, verb `get` (may it?): what
controller-runtime's `WithAuthenticationAndAuthorization` filter and kube-rbac-proxy do. Prometheus
scrapes with its service account's token; binding it to the chart's `<release>-metrics-reader`
ClusterRole (or any role granting `get` on `/metrics`) lets it in.

    access = DelegatedAccess(client)
    decision = await access.check(request.headers.get("Authorization"))   # 200, 401, 403 or 503

Decisions are cached briefly, keyed by a hash of the token (never the token itself): a scrape every
15 to 30 s costs the API server two small reviews a minute at most, and a revoked token or binding
stops working within `allowed_ttl` seconds. The cache is bounded (least recently used entries go
first), and at most `concurrency` reviews are in flight at once, so a caller trying random tokens
cannot turn the endpoint into a flood against the API server.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gpai_operator.controller.kube import ApiError

TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


class Reviews(Protocol):
    """What is needed of the API client: POST a review object, get the answer (KubeClient.create)."""

    async def create(self, path: str, body: Mapping[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Decision:
    status: int  # 200 allowed, 401 not authenticated, 403 not authorised, 503 could not be checked
    message: str  # said to the caller; names the identity once known, never the token


class DelegatedAccess:
    def __init__(
        self,
        client: Reviews,
        *,
        path: str = "/metrics",
        allowed_ttl: float = 60.0,
        denied_ttl: float = 10.0,
        size: int = 1024,
        concurrency: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.path = client, path
        self.allowed_ttl, self.denied_ttl, self.size = allowed_ttl, denied_ttl, size
        self.clock = clock
        self.reviews = 0  # TokenReviews and SubjectAccessReviews sent, for tests and logs
        self._cache: OrderedDict[str, tuple[float, Decision]] = OrderedDict()
        self._concurrency = concurrency
        self._limit: asyncio.Semaphore | None = None

    async def check(self, authorization: str | None) -> Decision:
        """The decision for a request carrying this Authorization header (or none)."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Decision(401, "Unauthorized: send a bearer token (Authorization: Bearer <token>)")
        key = hashlib.sha256(token.encode()).hexdigest()
        if (cached := self._cached(key)) is not None:
            return cached
        if self._limit is None:
            self._limit = asyncio.Semaphore(self._concurrency)
        async with self._limit:
            if (cached := self._cached(key)) is not None:  # decided while this one waited
                return cached
            try:
                decision = await self._review(token)
            except ApiError as error:  # not cached: the next scrape asks again
                return Decision(503, f"the API server could not check the token: {error}")
        ttl = self.allowed_ttl if decision.status == 200 else self.denied_ttl
        self._cache[key] = (self.clock() + ttl, decision)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return decision

    def _cached(self, key: str) -> Decision | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return entry[1]

    async def _review(self, token: str) -> Decision:
        self.reviews += 1
        answer = await self.client.create(
            TOKEN_REVIEWS,
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}},
        )
        status = (answer or {}).get("status") or {}
        if not status.get("authenticated"):
            return Decision(401, "Unauthorized: the API server does not accept this token")
        user = status.get("user") or {}
        username = str(user.get("username") or "")
        self.reviews += 1
        spec = {
            "user": username,
            "groups": list(user.get("groups") or []),
            "nonResourceAttributes": {"path": self.path, "verb": "get"},
        }
        if user.get("uid"):
            spec["uid"] = user["uid"]
        if user.get("extra"):
            spec["extra"] = user["extra"]
        answer = await self.client.create(
            SUBJECT_ACCESS_REVIEWS,
            {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec},
        )
        if ((answer or {}).get("status") or {}).get("allowed"):
            return Decision(200, "allowed")
        return Decision(403, f'Forbidden: {username} may not get "{self.path}"')
