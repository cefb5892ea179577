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

import numpy as np
import pytest


def pytest_sessionstart(session):
    if shutil.which("ngspice") is None:
        pytest.exit(
            "ngspice is not installed; the SPICE tests cannot run. "
            "Run `make test` (installs it) or `apt-get install -y ngspice libngspice0 libngspice0-dev`.",
            returncode=3,
        )


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
