"""Other projects' CRDs in the test session are the real ones, with their real schemas.

They come from the Go modules that publish them (hack/third-party-crds.sh, pinned in
hack/third-party-crds.txt), so a policy report the operator writes or a ServiceMonitor the chart
renders is validated as on a real cluster. Only KServe's InferenceService is a stand-in: KServe
publishes no Go module with its CRD.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gpai_operator.testing.rest import request_json

SERVED = {
    "openreports.io/v1alpha1": {"Report", "ClusterReport"},
    "wgpolicyk8s.io/v1alpha2": {"PolicyReport", "ClusterPolicyReport"},
    "monitoring.coreos.com/v1": {"ServiceMonitor", "PrometheusRule"},
    "cert-manager.io/v1": {"Certificate", "Issuer"},
}


def test_the_session_serves_the_third_party_kinds(api_client: ApiClient) -> None:
    served = {
        group_version: {
            r["kind"] for r in request_json(api_client, "GET", f"/apis/{group_version}")["resources"]
        }
        for group_version in SERVED
    }
    assert {gv: kinds & served[gv] for gv, kinds in SERVED.items()} == SERVED


def report(namespace: str, result: str) -> dict[str, Any]:
    return {
        "apiVersion": "openreports.io/v1alpha1",
        "kind": "Report",
        "metadata": {"name": "gpai", "namespace": namespace},
        "summary": {"pass": 0, "fail": 1, "warn": 0, "error": 0, "skip": 0},
        "results": [
            {
                "source": "gpai-operator",
                "policy": "eu-ai-act",
                "rule": "systemic-risk/evaluation",
                "result": result,
                "message": "no RiskEvaluation for version 1.0",
            }
        ],
    }


def test_a_report_is_validated_by_the_real_openreports_schema(api_client: ApiClient, namespace: str) -> None:
    path = f"/apis/openreports.io/v1alpha1/namespaces/{namespace}/reports"
    created = request_json(api_client, "POST", path, body=report(namespace, "fail"))
    assert created["results"][0]["rule"] == "systemic-risk/evaluation"

    with pytest.raises(ApiException) as refused:
        request_json(api_client, "POST", path, body={**report(namespace, "maybe"), "metadata": {"name": "x"}})
    assert "results[0].result" in json.loads(refused.value.body)["message"]
