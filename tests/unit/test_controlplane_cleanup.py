"""The control-plane helper leaves nothing behind and explains its failures, without any binaries.

Real processes throughout (sh, sleep, a child Python); only etcd and kube-apiserver are stand-ins,
shell scripts that fail the way a broken binary would.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client import Configuration
from kubernetes.config import load_kube_config

from gpai_operator.testing.controlplane import BINARIES, ControlPlane, ControlPlaneError, find_binaries
from gpai_operator.testing.namespaces import namespace_name
from gpai_operator.testing.pki import CONTROLLER_MANAGER_USER, write_kubeconfig, write_pki
from gpai_operator.testing.processes import ManagedProcess

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and relies on Linux signals")


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def eventually_dead(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path):
    stubborn = ManagedProcess(
        "stubborn", ["sh", "-c", "trap '' TERM; sleep 60 & echo $! ; wait"], tmp_path / "stubborn.log"
    )
    while not (tmp_path / "stubborn.log").read_text().strip():
        time.sleep(0.01)
    grandchild = int((tmp_path / "stubborn.log").read_text())

    started = time.monotonic()
    stubborn.stop(timeout=0.3)

    assert time.monotonic() - started >= 0.3
    assert not alive(stubborn.pid)
    assert eventually_dead(grandchild), "the whole process group goes"
    stubborn.stop()  # a second stop is harmless


OWNER = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from gpai_operator.testing.processes import ManagedProcess
    for signum in (signal.SIGTERM, signal.SIGHUP):  # as in any process, whatever pytest inherited
        signal.signal(signum, signal.SIG_DFL)
    script = 'trap "echo stopped cleanly; exit 0" TERM; echo ready; sleep 60 & wait'
    child = ManagedProcess("sleeper", ["sh", "-c", script], Path(sys.argv[1]))
    print(child.pid, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_owner_stops_its_children_cleanly_first(tmp_path, signum):
    log = tmp_path / "sleeper.log"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(log)], stdout=subprocess.PIPE, text=True)
    sleeper = int(owner.stdout.readline())
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text():  # the child's trap is set: a signal now is a fair test
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.01)

    owner.send_signal(signum)

    assert owner.wait(10) == -signum, "the owner still dies of the signal"
    assert eventually_dead(sleeper)
    assert "stopped cleanly" in log.read_text(), "SIGTERM reached the child before its owner died"


def test_a_killed_owner_takes_its_children_with_it(tmp_path):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path / "sleeper.log")], stdout=subprocess.PIPE, text=True
    )
    sleeper = int(owner.stdout.readline())
    assert alive(sleeper)

    owner.kill()  # no handler runs: the kernel's parent-death signal does the work

    assert owner.wait(10) == -signal.SIGKILL
    assert eventually_dead(sleeper)


def fake_binaries(folder: Path, etcd: str) -> Path:
    folder.mkdir()
    for name in BINARIES:
        (folder / name).write_text(f"#!/bin/sh\n{etcd if name == 'etcd' else 'exit 0'}\n")
        (folder / name).chmod(0o755)
    return folder


def test_a_start_failure_names_the_process_and_shows_its_log(tmp_path):
    binaries = fake_binaries(
        tmp_path / "bin", etcd='echo "etcdmain: cannot listen: address already in use"; exit 3'
    )
    control_plane = ControlPlane(binaries=binaries, start_timeout=10)

    with pytest.raises(ControlPlaneError) as failure:
        control_plane.start()

    assert "etcd exited with code 3" in str(failure.value)
    assert "address already in use" in str(failure.value)
    with pytest.raises(ControlPlaneError, match="not been started"):
        _ = control_plane.workdir  # the temporary folder is gone


def test_a_start_that_never_gets_ready_times_out_and_stops_everything(tmp_path):
    binaries = fake_binaries(tmp_path / "bin", etcd="echo $$ ; exec sleep 60")
    control_plane = ControlPlane(binaries=binaries, start_timeout=0.5)

    with pytest.raises(
        ControlPlaneError, match=r"timed out after \d+ s waiting until etcd is healthy"
    ) as failure:
        control_plane.start()

    etcd_pid = int(re.search(r"^(\d+)$", str(failure.value), re.MULTILINE).group(1))
    assert eventually_dead(etcd_pid)


def test_kubebuilder_assets_with_both_binaries_is_used_as_is(tmp_path, monkeypatch):
    binaries = fake_binaries(tmp_path / "assets", etcd="exit 0")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(binaries))

    assert find_binaries() == binaries


def test_the_kubeconfig_reaches_the_server_as_the_admin(tmp_path):
    pki = write_pki(tmp_path / "pki")
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", pki)

    configuration = Configuration()
    load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)

    assert configuration.host == "https://127.0.0.1:6443"
    assert Path(configuration.ssl_ca_cert).read_bytes() == pki.ca_cert.read_bytes()
    assert Path(configuration.cert_file).read_bytes() == pki.admin_cert.read_bytes()
    for secret in (
        kubeconfig,
        pki.admin_key,
        pki.controller_manager_key,
        pki.serving_key,
        pki.service_account_key,
    ):
        assert secret.stat().st_mode & 0o777 == 0o600, f"{secret.name} is readable by its owner only"


def test_the_controller_manager_kubeconfig_carries_its_own_identity(tmp_path):
    pki = write_pki(tmp_path / "pki")
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig", "https://127.0.0.1:6443", pki, user=CONTROLLER_MANAGER_USER
    )

    configuration = Configuration()
    load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    cert = x509.load_pem_x509_certificate(Path(configuration.cert_file).read_bytes())

    # the API server reads CN as the user and each O as a group
    assert (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:kube-controller-manager"
    )
    assert [o.value for o in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:authenticated"
    ]


@given(st.text())
def test_test_namespace_names_are_dns_labels(hint):
    name = namespace_name(hint)

    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    assert len(name) <= 63
