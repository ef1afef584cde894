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
    assert main(["run", "--no-webhook", "--no-metrics-secure", "--kubeconfig", str(tmp_path / "nope")]) == 2
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


def test_write_concurrency_is_a_positive_number(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--no-webhook", "--write-concurrency", "0"])
    assert "--write-concurrency: 0 is not a positive whole number" in capsys.readouterr().err


def test_secure_metrics_need_a_certificate(capsys):
    assert main(["run", "--no-webhook", "--kubeconfig", __file__]) == 2
    err = capsys.readouterr().err
    assert "--metrics-secure (the default) serves /metrics over HTTPS: give --metrics-cert-file" in err
    assert "or --no-metrics-secure to serve it open over plain HTTP" in err


def test_metrics_certificate_files_go_together(capsys):
    assert main(["run", "--no-webhook", "--metrics-cert-file", __file__, "--kubeconfig", __file__]) == 2
    assert "--metrics-cert-file and --metrics-key-file go together" in capsys.readouterr().err


def test_client_names_need_the_client_ca(capsys, tmp_path):
    argv = ["run", "--no-webhook", "--no-metrics-secure", "--webhook-client-name", "kube-apiserver"]
    assert main([*argv, "--kubeconfig", __file__]) == 2
    assert "--webhook-client-name needs --webhook-client-ca-file" in capsys.readouterr().err

    argv = ["run", "--no-webhook", "--no-metrics-secure", "--webhook-client-ca-file", str(tmp_path / "ca")]
    assert main([*argv, "--kubeconfig", __file__]) == 2
    assert f"--webhook-client-ca-file {tmp_path / 'ca'}: not a readable file" in capsys.readouterr().err


def test_reports_take_one_of_the_formats_or_off(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--reports", "policyreport"])
    err = capsys.readouterr().err
    assert "--reports: invalid choice: 'policyreport'" in err
    assert "'openreports', 'wgpolicyk8s', 'off'" in err


def test_the_namespaces_without_verdicts_are_kube_system_and_the_given_ones_else_the_operators_own(
    monkeypatch,
):
    import argparse

    from gpai_operator.cli.run import _verdicts_excluded

    monkeypatch.setenv("POD_NAMESPACE", "gpai-system")
    assert _verdicts_excluded(argparse.Namespace(admission_exclude_namespace=[])) == (
        "gpai-system",
        "kube-system",
    )
    given = argparse.Namespace(admission_exclude_namespace=["gpai", "sandbox"])
    assert _verdicts_excluded(given) == ("gpai", "kube-system", "sandbox")
    monkeypatch.delenv("POD_NAMESPACE")
    assert _verdicts_excluded(argparse.Namespace(admission_exclude_namespace=[])) == ("kube-system",)
