"""Run a command in its own process group with a hard time limit; on timeout or interrupt kill the whole group.

The one subprocess helper of memspice: ngspice (``ngspice -b``), VACASK and
the co-simulation worker all start through :func:`run_in_group`, so a run
that hangs, or a Ctrl-C while it runs, leaves no child process behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from dataclasses import dataclass

__all__ = ["Completed", "die_with_parent", "remove_stale_tempdirs", "run_in_group", "temp_prefix"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent ends (Linux; elsewhere nothing).

    Called in a child right after fork: a sweep worker, an ngspice run. If the
    parent has already gone (re-parented to init), the signal is sent now.
    """
    prctl = _prctl()
    if prctl is None:
        return
    parent = os.getppid()
    prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if parent == 1:
        os.kill(os.getpid(), sig)


_PRCTL: list = []
_SIGKILL = int(signal.SIGKILL)


def _prctl():
    """libc's prctl (Linux), looked up once in the parent: a child after fork only calls it."""
    if not _PRCTL:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).prctl
            except (OSError, AttributeError):
                fn = None
        _PRCTL.append(fn)
    return _PRCTL[0]


def _child_setup() -> None:  # preexec_fn of run_in_group: nothing but the prctl call (no import, no allocation)
    fn = _PRCTL[0]
    if fn is not None:
        fn(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)


@dataclass(frozen=True)
class Completed:
    """What a finished child process returned."""

    returncode: int
    stdout: bytes
    stderr: bytes  #: empty when stderr was merged into stdout


def run_in_group(argv: list[str], *, timeout_s: float, input: bytes | None = None, cwd=None, env=None,
                 merge_stderr: bool = True) -> Completed:
    """Run ``argv`` in a new session (its own process group) and wait at most ``timeout_s`` seconds.

    ``input``: bytes for its standard input (None: no standard input).
    ``merge_stderr``: standard error goes into ``stdout``. On timeout the
    group is killed and ``subprocess.TimeoutExpired`` is raised (callers turn
    it into their own error); an interrupt or any other exception while
    waiting also kills the group before it propagates. OSError from starting
    the program propagates unchanged.
    """
    _prctl()  # looked up here, before the fork
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env,
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=True,  # own process group: a kill reaches everything it started
        preexec_fn=_child_setup,  # and it is killed if this process dies without killing it (SIGKILL of us)
    )
    try:
        out, err = proc.communicate(input, timeout=timeout_s)
    except BaseException:
        kill_group(proc)
        raise
    return Completed(returncode=proc.returncode, stdout=out or b"", stderr=err or b"")


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (a session leader) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()  # reap the child and close its pipes


_CLEANED: set = set()


def temp_prefix(kind: str) -> str:
    """The prefix of this process's temporary folders of ``kind``: it names the process (pid, start time)."""
    from memspice.runlock import process_start_time

    return f"{kind}{os.getpid()}-{process_start_time(os.getpid()) or 0}-"


def remove_stale_tempdirs(kind: str) -> int:
    """Remove the temporary folders of ``kind`` left by processes that are gone (killed with SIGKILL, which no
    cleanup survives); once per process and kind. Returns how many were removed."""
    from memspice.runlock import process_alive

    if kind in _CLEANED:
        return 0
    _CLEANED.add(kind)
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{kind}*-*-*"):
        try:
            pid, start = path.name[len(kind):].split("-")[:2]
            pid = int(pid)
        except ValueError:
            continue
        if pid != os.getpid() and not process_alive(pid, start if start != "0" else None):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
