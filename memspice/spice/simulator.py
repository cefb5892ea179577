"""The ``Simulator`` interface and the factory that picks a backend by name."""

from __future__ import annotations

import re
import subprocess
from typing import Protocol

from memspice.errors import ParameterError, SimulatorNotFound
from memspice.spice.result import SimResult
from memspice.spice.settings import BACKENDS, DEFAULT_TIMEOUT_S, PROBE_TIMEOUT_S, RunSettings, settings_or_default
from memspice.spice.shared_backend import NgspiceShared
from memspice.spice.subprocess_backend import NgspiceSubprocess, find_ngspice
from memspice.spice.vacask import Vacask


class Simulator(Protocol):
    """Anything that runs a SPICE deck and returns its result."""

    name: str

    def run(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> SimResult: ...


def get_simulator(backend: str = "subprocess") -> Simulator:
    """A simulator by name: ``subprocess`` (``ngspice -b``, isolated), ``shared`` (libngspice in-process) or ``vacask``."""
    if backend == "subprocess":
        return NgspiceSubprocess()
    if backend == "shared":
        return NgspiceShared()
    if backend == "vacask":
        return Vacask()
    raise ParameterError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)} (or the engine vacask)")


def simulate(netlist: str, settings: RunSettings | None = None) -> SimResult:
    """Run ``netlist`` (a full deck with one analysis card) as ``settings`` say and return its result.

    ``settings.engine`` picks the dialect's simulator (an ngspice deck, or a
    VACASK netlist); ``settings.backend`` how ngspice runs (default
    :class:`RunSettings()`).
    """
    settings = settings_or_default(settings)
    sim = get_simulator(settings.simulator)
    try:
        return sim.run(netlist, timeout_s=settings.timeout_s)
    finally:
        close = getattr(sim, "close", None)
        if close is not None:
            close()


def ngspice_info() -> dict:
    """What the doctor reports: executable, version, shared library, OSDI support."""
    info: dict = {"executable": None, "version": None, "shared_library": None, "osdi": False, "problems": []}
    try:
        exe = find_ngspice()
        info["executable"] = exe
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S).stdout
        match = re.search(r"ngspice-(\S+)", out)
        info["version"] = match.group(1) if match else out.strip().splitlines()[0] if out.strip() else None
    except SimulatorNotFound as exc:
        info["problems"].append(str(exc))
    except (OSError, subprocess.SubprocessError) as exc:
        info["problems"].append(f"ngspice -v failed: {exc}")
    try:
        from memspice.spice.shared_backend import _library

        ngs = _library()
        info["shared_library"] = str(ngs.library_path).format("")
    except SimulatorNotFound as exc:
        info["problems"].append(str(exc))
    if info["executable"]:
        info["osdi"] = _has_osdi(info["executable"])
    return info


def _has_osdi(executable: str) -> bool:
    """Whether this ngspice can load compiled Verilog-A (the ``osdi`` command exists)."""
    deck = "osdi probe\n.control\nosdi\n.endc\n.end\n"
    try:
        out = subprocess.run([executable, "-b"], input=deck, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return False
    return "no such command" not in (out.stdout + out.stderr).lower()
