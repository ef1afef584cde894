"""Who may read /metrics: the decision from TokenReview and SubjectAccessReview, and its cache.

The API server is a fake here (its answers are the documented shapes); tests/integration/operator/
test_metrics_access.py asks the real one with real service-account tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from gpai_operator.controller.access import SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS, DelegatedAccess
from gpai_operator.controller.kube import ApiError

PROMETHEUS = {
    "username": "system:serviceaccount:monitoring:prometheus",
    "uid": "7d6c",
    "groups": ["system:serviceaccounts", "system:authenticated"],
    "extra": {"authentication.kubernetes.io/pod-name": ["prometheus-0"]},
}


class FakeApiServer:
    """Knows some tokens and who may get /metrics; records every review it is sent."""

    def __init__(self, users: Mapping[str, Mapping[str, Any]], readers: set[str]) -> None:
        self.users, self.readers = users, readers
        self.sent: list[tuple[str, Mapping[str, Any]]] = []
        self.down = False

    async def create(self, path: str, body: Mapping[str, Any]) -> Any:
        self.sent.append((path, body))
        await asyncio.sleep(0)
        if self.down:
            raise ApiError("POST", path, 0, "", "connection refused")
        if path == TOKEN_REVIEWS:
            user = self.users.get(body["spec"]["token"])
            return {"status": {"authenticated": True, "user": user} if user else {"authenticated": False}}
        assert path == SUBJECT_ACCESS_REVIEWS
        return {"status": {"allowed": body["spec"]["user"] in self.readers}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api() -> FakeApiServer:
    return FakeApiServer(
        {"prom-token": PROMETHEUS, "other-token": {"username": "system:serviceaccount:ml:app"}},
        {str(PROMETHEUS["username"])},
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


def check(access: DelegatedAccess, header: str | None) -> tuple[int, str]:
    decision = asyncio.run(access.check(header))
    return decision.status, decision.message


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic cHJvbTpwYXNz", "prom-token"])
def test_without_a_bearer_token_the_answer_is_401_and_nobody_is_asked(
    api: FakeApiServer, header: Any
) -> None:
    assert check(DelegatedAccess(api), header)[0] == 401
    assert api.sent == []


def test_a_token_the_api_server_does_not_accept_gets_401(api: FakeApiServer) -> None:
    status, message = check(DelegatedAccess(api), "Bearer forged")

    assert status == 401
    assert message == "Unauthorized: the API server does not accept this token"
    assert [path for path, _ in api.sent] == [TOKEN_REVIEWS]


def test_an_identity_without_get_on_metrics_gets_403_naming_it(api: FakeApiServer) -> None:
    status, message = check(DelegatedAccess(api), "Bearer other-token")

    assert (status, message) == (403, 'Forbidden: system:serviceaccount:ml:app may not get "/metrics"')


def test_the_access_review_asks_for_get_on_the_non_resource_url_as_the_tokens_user(
    api: FakeApiServer,
) -> None:
    assert check(DelegatedAccess(api), "bearer prom-token") == (200, "allowed")

    [(_, token_review), (_, access_review)] = api.sent
    assert token_review["spec"] == {"token": "prom-token"}
    assert access_review["spec"] == {
        "user": PROMETHEUS["username"],
        "uid": PROMETHEUS["uid"],
        "groups": PROMETHEUS["groups"],
        "extra": PROMETHEUS["extra"],
        "nonResourceAttributes": {"path": "/metrics", "verb": "get"},
    }


def test_decisions_are_cached_briefly_allowed_longer_than_denied(api: FakeApiServer, clock: Clock) -> None:
    access = DelegatedAccess(api, allowed_ttl=60, denied_ttl=10, clock=clock)
    for _ in range(3):
        check(access, "Bearer prom-token")
        check(access, "Bearer forged")
    assert access.reviews == 3  # two for the scraper, one for the forged token

    clock.now += 11
    check(access, "Bearer prom-token")
    check(access, "Bearer forged")
    assert access.reviews == 4

    clock.now += 50
    check(access, "Bearer prom-token")
    assert access.reviews == 6


def test_the_cache_is_bounded(api: FakeApiServer, clock: Clock) -> None:
    access = DelegatedAccess(api, size=2, clock=clock)
    for token in ("a", "b", "c", "c", "b"):
        check(access, f"Bearer {token}")
    assert access.reviews == 3
    check(access, "Bearer a")  # the least recently used, gone
    assert access.reviews == 4


def test_when_the_api_server_cannot_answer_the_caller_gets_503_and_nothing_is_cached(
    api: FakeApiServer,
) -> None:
    access = DelegatedAccess(api)
    api.down = True
    status, message = check(access, "Bearer prom-token")
    assert status == 503
    assert message.startswith("the API server could not check the token: POST /apis/authentication")

    api.down = False
    assert check(access, "Bearer prom-token")[0] == 200


def test_concurrent_scrapes_with_one_token_are_reviewed_once(api: FakeApiServer) -> None:
    access = DelegatedAccess(api, concurrency=1)

    async def scrapes() -> list[int]:
        decisions = await asyncio.gather(*(access.check("Bearer prom-token") for _ in range(10)))
        return [decision.status for decision in decisions]

    assert asyncio.run(scrapes()) == [200] * 10
    assert access.reviews == 2
