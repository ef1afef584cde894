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


def test_peering_and_standalone_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--no-webhook", "--peering", "gpai", "--standalone"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_ports_are_checked(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--metrics-port", "70000"])
    assert "is not a port" in capsys.readouterr().err
