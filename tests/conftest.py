"""Shared test set-up.

The SPICE tests run the real ngspice and never skip: if ngspice is missing the
whole session stops with an error saying how to install it (CI must fail, not
pass with the circuit path untested).
"""

from __future__ import annotations

import os

# One BLAS thread per test process: on 2 cores, OpenBLAS's threads fight each
# other (and ngspice) and small products get 10-100x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil
from pathlib import Path

import numpy as np
import pytest


def pytest_sessionstart(session):
    if shutil.which("ngspice") is None:
        pytest.exit(
            "ngspice is not installed; the SPICE tests cannot run. "
            "Run `make test` (installs it) or `apt-get install -y ngspice libngspice0 libngspice0-dev`.",
            returncode=3,
        )


#: environment variables naming a user folder memspice reads or writes (imported models, compiled Verilog-A)
USER_FOLDERS = ("MEMSPICE_MODELS", "MEMSPICE_CACHE", "XDG_DATA_HOME", "XDG_CACHE_HOME")


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    """One compile cache for the session (compiling a Verilog-A model once per session, not once per test)."""
    return tmp_path_factory.mktemp("memspice-cache")


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path_factory, _session_cache, monkeypatch):
    """Every test sees its own empty models folder and the session's cache, never the user's own
    (~/.local/share/memspice/models, ~/.cache/memspice); subprocesses inherit the same variables."""
    models = tmp_path_factory.mktemp("memspice-models")
    monkeypatch.setenv("MEMSPICE_MODELS", str(models))
    monkeypatch.setenv("MEMSPICE_CACHE", str(_session_cache))
    monkeypatch.setenv("XDG_DATA_HOME", str(models.parent / (models.name + "-xdg-data")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache / "xdg"))
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests that draw random numbers take this."""
    return np.random.default_rng(20161)


@pytest.fixture(params=["subprocess", "shared"])
def backend(request) -> str:
    """Both ngspice backends, for tests that must hold for each."""
    return request.param


class CliHang(Exception):
    """A CLI call under the ``cli`` fixture ran past its hard time limit."""


@pytest.fixture
def cli(capsys):
    """Run ``memspice ARGV`` in this process under a hard time limit: returns (exit status, stdout, stderr).

    argparse usage errors (SystemExit) count as an exit status; any other
    exception escapes and fails the test, and so does a call past ``timeout_s``.
    """
    import signal

    from memspice.cli import main

    def run(argv, timeout_s: float = 60.0):
        def _raise(signum, frame):
            raise CliHang(f"memspice {' '.join(map(str, argv))} ran longer than {timeout_s} s")

        old = signal.signal(signal.SIGALRM, _raise)
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            try:
                code = main([str(a) for a in argv])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
