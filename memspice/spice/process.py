"""Run a command in its own process group with a hard time limit; on timeout or interrupt kill the whole group.

The one subprocess helper of memspice: ngspice (``ngspice -b``), VACASK and
the co-simulation worker all start through :func:`run_in_group`, so a run
that hangs, or a Ctrl-C while it runs, leaves no child process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

__all__ = ["Completed", "run_in_group"]


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
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env,
        stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        start_new_session=True,  # own process group: a kill reaches everything it started
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
