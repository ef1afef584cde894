"""`gpai run` refuses unusable flags before touching any cluster."""

from __future__ import annotations

import pytest

from gpai_operator.cli.main import main


def test_the_webhook_needs_its_certificate_files(capsys):
    assert main(["run", "--kubeconfig", __file__]) == 2
    err = capsys.readouterr().err
    assert "--webhook-cert-file is required to serve the admission webhook (or pass --no-webhook)" in err
    assert "--webhook-key-file is required" in err


def test_a_missing_kubeconfig_is_named(capsys, tmp_path):
    assert main(["run", "--no-webhook", "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert f"--kubeconfig {tmp_path / 'nope'}: not a readable file" in capsys.readouterr().err


def test_leader_election_needs_a_namespace_and_sane_timing(capsys, monkeypatch):
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    assert main(["run", "--no-webhook", "--leader-elect", "--renew-deadline", "20"]) == 2
    err = capsys.readouterr().err
    assert "--leader-elect needs --leader-election-namespace (or $POD_NAMESPACE)" in err
    assert "retry period < renew deadline < lease duration" in err


def test_a_bad_workload_kind_is_refused(capsys):
    assert main(["run", "--no-webhook", "--workload-kind", "rollouts"]) == 2
    assert (
        "--workload-kind: workload kind 'rollouts': expected GROUP/VERSION/RESOURCE:KIND:PATH"
        in capsys.readouterr().err
    )


def test_ports_are_checked(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--metrics-port", "70000"])
    assert "is not a port" in capsys.readouterr().err
