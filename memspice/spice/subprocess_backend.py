"""ngspice in a child process (``ngspice -b -r``): isolation and hard timeouts."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memspice.errors import SimulatorNotFound, SpiceError, SpiceTimeout
from memspice.spice.messages import raise_for_output
from memspice.spice.process import remove_stale_tempdirs, run_in_group, temp_prefix
from memspice.spice.rawfile import read_raw
from memspice.spice.result import SimResult
from memspice.spice.settings import DEFAULT_TIMEOUT_S


def find_ngspice() -> str:
    """Path of the ngspice executable, or SimulatorNotFound saying how to install it."""
    path = os.environ.get("MEMSPICE_NGSPICE") or shutil.which("ngspice")
    if not path:
        raise SimulatorNotFound(
            "ngspice is not on PATH; install it with `apt-get install -y ngspice libngspice0 libngspice0-dev` "
            "(or `make setup`), or point MEMSPICE_NGSPICE at the executable"
        )
    return path


@dataclass(frozen=True)
class NgspiceSubprocess:
    """Runs each netlist in a fresh ``ngspice -b`` process.

    A crash of ngspice cannot take the caller down, several runs can go at
    once, and a run that exceeds ``timeout_s`` is killed with its whole
    process group, so no ngspice process is left behind.
    """

    executable: str | None = None
    name: str = "subprocess"

    def run(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> SimResult:
        return self.run_all(netlist, timeout_s=timeout_s)[-1]

    def run_all(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[SimResult]:
        """Every analysis of ``netlist``, in the order ngspice ran them."""
        exe = self.executable or find_ngspice()
        remove_stale_tempdirs(TEMP_PREFIX)
        with tempfile.TemporaryDirectory(prefix=temp_prefix(TEMP_PREFIX)) as tmp:
            deck = Path(tmp) / "deck.cir"
            raw = Path(tmp) / "out.raw"
            deck.write_text(_with_end(netlist))
            try:
                proc = run_in_group([exe, "-b", "-r", str(raw), str(deck)], timeout_s=timeout_s, cwd=tmp)
            except subprocess.TimeoutExpired:
                raise SpiceTimeout(
                    f"ngspice ran longer than timeout_s={timeout_s:g} s and was killed; "
                    "raise the timeout, shorten the analysis or use a smaller array"
                ) from None
            output = proc.stdout.decode("utf-8", "replace")
            failed = proc.returncode != 0 or not raw.exists() or raw.stat().st_size == 0
            if proc.returncode is not None and proc.returncode < 0:
                raise SpiceError(
                    f"ngspice crashed (signal {-proc.returncode})", ngspice_message=output[-2000:]
                )
            raise_for_output(output, netlist, failed=failed)
            if failed:
                raise SpiceError("ngspice produced no results", ngspice_message=output[-2000:])
            return read_raw(raw)


#: temporary folders of ngspice runs: <tmp>/memspice-ngspice-<pid>-<start time>-<random suffix>
TEMP_PREFIX = "memspice-ngspice-"


def _with_end(netlist: str) -> str:
    text = netlist.rstrip() + "\n"
    if not text.lower().rstrip().endswith(".end"):
        text += ".end\n"
    return text
