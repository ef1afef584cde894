"""`gpai check` and issue 10's inputs: the version history an exported manifest carries, and
SeriousIncidents checked against their schema and CEL rules like every kind."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import evidence, model, run_gpai

RETENTION = "transparency/documentation-retention"
HISTORY = """status:
  versions:
    - {version: "0.9", firstSeen: "2025-10-01T08:00:00Z", superseded: "2026-01-15T09:00:00Z"}
    - {version: "1.0", firstSeen: "2026-01-15T09:00:00Z"}
"""


def retention(path: Path) -> dict:
    run = run_gpai("check", str(path), "-o", "json")
    [acme] = run.json["models"]
    return next(o for o in acme["obligations"] if o["id"] == RETENTION)


def test_hand_written_manifests_carry_no_history_and_retention_is_met(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(model() + "---\n" + evidence())
    found = retention(tmp_path)
    assert found["status"] == "Met"
    assert "no earlier version on record" in found["message"]


def test_an_exported_model_with_its_history_is_checked_for_retention(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(model() + HISTORY + "---\n" + evidence())
    found = retention(tmp_path)
    assert found["status"] == "Missing"
    assert (
        "no ModelDocumentation for version 0.9 (on the market until 2026-01-15, to be kept through "
        "2036-01-15)" in found["message"]
    )
    (tmp_path / "kept.yaml").write_text(evidence(version="0.9").replace("acme-docs", "acme-docs-0-9"))
    assert retention(tmp_path)["status"] == "Met"


def test_a_malformed_history_is_an_input_error_naming_the_field(tmp_path: Path) -> None:
    broken = HISTORY.replace('"2025-10-01T08:00:00Z"', "last autumn")
    (tmp_path / "acme.yaml").write_text(model() + broken)
    run = run_gpai("check", str(tmp_path))
    assert run.code == 2
    assert run.error_lines == [
        f"{tmp_path / 'acme.yaml'}#1: error: GPAIModel ml/acme: status.versions[0].firstSeen: Value error, "
        "must be an RFC 3339 date-time, e.g. 2026-11-28T12:30:00Z"
    ]


INCIDENT = """apiVersion: gpai.dev/v1alpha1
kind: SeriousIncident
metadata: {name: breach, namespace: ml}
spec:
  modelRef: {name: acme}
  modelVersion: "1.0"
  category: Cybersecurity
  aware: 2026-11-20
"""


def test_an_incident_reported_before_it_was_known_is_refused_like_the_api_server_does(tmp_path: Path) -> None:
    (tmp_path / "incident.yaml").write_text(INCIDENT + "  initialReport: 2026-11-19\n")
    run = run_gpai("check", str(tmp_path))
    assert run.code == 2
    assert run.error_lines == [
        f"{tmp_path / 'incident.yaml'}#1: error: SeriousIncident ml/breach: spec.initialReport: "
        "initialReport must not be before aware"
    ]


def test_an_incident_of_a_model_without_systemic_risk_is_read_and_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(model() + "---\n" + evidence() + "---\n" + INCIDENT)
    run = run_gpai("check", str(tmp_path), "-o", "json")
    assert run.code == 0, run.stderr
    [acme] = run.json["models"]
    found = next(o for o in acme["obligations"] if o["id"] == "systemic-risk/incident-timeliness")
    assert found["status"] == "NotApplicable"
