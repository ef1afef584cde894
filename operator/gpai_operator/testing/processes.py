"""Child processes that never outlive the Python process that started them.

Each child runs in its own session (so a Ctrl-C in the terminal reaches only Python, which then
stops the children in order) and is stopped as a whole process group: SIGTERM, then SIGKILL after
a timeout. Three nets catch the cases where the owner forgets to stop them:

- ``atexit``: normal interpreter exit, including an unhandled exception;
- SIGTERM and SIGHUP: while a child runs, these stop every child, then the signal takes its usual
  course (only when nobody else installed a handler for it);
- Linux ``PR_SET_PDEATHSIG``: the kernel kills the child when its parent dies, even by SIGKILL.
  Strictly, when the *thread* that started it ends: start children from a long-lived thread,
  such as the main thread.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

STOP_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1
_CLEANUP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stoppable(Protocol):
    def stop(self) -> None: ...


_live: dict[int, Stoppable] = {}
_lock = threading.Lock()
_hooks_installed = False


def register(owner: Stoppable) -> None:
    """Stops `owner` at interpreter exit or on SIGTERM/SIGHUP unless it is unregistered first."""
    with _lock:
        _install_hooks()
        _live[id(owner)] = owner


def unregister(owner: Stoppable) -> None:
    with _lock:
        _live.pop(id(owner), None)


def stop_all() -> None:
    """Stops everything registered, newest first."""
    with _lock:
        owners = list(_live.values())
    for owner in reversed(owners):
        owner.stop()


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _CLEANUP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _stop_all_then_die)


def _stop_all_then_die(signum: int, _frame: FrameType | None) -> None:
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    prctl = ctypes.CDLL(None).prctl  # looked up here: the child must not load anything after fork

    def preexec() -> None:  # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class ManagedProcess:
    """One child process (and anything it spawns), its output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = [os.fspath(arg) for arg in argv]
        self.env = env
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        preexec = _die_with_parent(os.getpid()) if sys.platform == "linux" else None
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=preexec,
            )
        except BaseException:
            self._log.close()
            raise
        register(self)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self._popen.poll()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to the process group, SIGKILL after `timeout` seconds; safe to call twice."""
        unregister(self)
        if self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._popen.wait()
        self._signal_group(signal.SIGKILL)  # whatever the leader left behind in its group
        self._log.close()

    def kill(self) -> None:
        """SIGKILL to the process group, as a crash or the OOM killer would; waits until it is gone."""
        unregister(self)
        self._signal_group(signal.SIGKILL)
        self._popen.wait()
        self._log.close()

    def signal(self, signum: int) -> None:
        """Sends `signum` to the process group (SIGSTOP freezes it, SIGCONT resumes it)."""
        self._signal_group(signum)

    def respawn(self) -> ManagedProcess:
        """A new process with the same command line, environment and log (appended to); this one
        must have ended."""
        if self._popen.poll() is None:
            raise RuntimeError(f"{self.name} (pid {self.pid}) is still running")
        return ManagedProcess(self.name, self.argv, self.log_path, self.env)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signum)

    def __repr__(self) -> str:
        return f"ManagedProcess({self.name!r}, pid={self.pid}, exit_code={self.exit_code()})"


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a text file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path.name} was not written)"
    return "\n".join(text.splitlines()[-lines:])


def rss_bytes(pid: int) -> int:
    """Resident memory of a running process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for pid {pid}")
