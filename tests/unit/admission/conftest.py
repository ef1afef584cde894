"""What the server tests share: certificates made once per module, and a runtime that denies."""

from __future__ import annotations

from typing import Any

import pytest

from gpai_operator.admission.testing import WebhookCertificates
from tests.unit.admission.builders import model, policy, runtime


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> WebhookCertificates:
    """A CA and a serving certificate for loopback (an ECDSA key)."""
    return WebhookCertificates.create(tmp_path_factory.mktemp("webhook-certs"))


@pytest.fixture
def rt() -> Any:
    """A systemic-risk model without evidence under a Deny policy: its workloads are denied."""
    return runtime(model(systemic=True), policy("eu-ai-act", ["Deny"]))
