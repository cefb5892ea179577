"""Error types of memspice.

Every error a user can provoke with bad input is one of these, and its message
names the offending input, its value, and what would fix it. Code in memspice
raises these instead of letting numpy, scipy or PySpice tracebacks escape.
"""

from __future__ import annotations


class MemspiceError(Exception):
    """Base class of every error memspice raises on purpose."""


class ParameterError(MemspiceError, ValueError):
    """A model, crossbar or stimulus parameter is missing, unknown or out of range."""


class ConfigError(MemspiceError, ValueError):
    """A TOML configuration file is malformed or has unknown or invalid keys."""


class DataError(MemspiceError, ValueError):
    """A data file (CSV, IDX, checkpoint) is missing or malformed."""


class CircuitError(MemspiceError, ValueError):
    """A crossbar or netlist is ill-formed: floating node, short, unconnected cell."""


class SpiceError(MemspiceError):
    """ngspice rejected or failed to run a netlist.

    ``ngspice_message`` holds ngspice's own words; ``netlist_line`` the line of
    the deck it complained about, when it named one.
    """

    def __init__(self, message: str, *, ngspice_message: str = "", netlist_line: str | None = None):
        detail = message
        if ngspice_message:
            detail += "\nngspice said:\n" + _indent(ngspice_message.strip())
        if netlist_line:
            detail += f"\nnetlist line: {netlist_line.strip()}"
        super().__init__(detail)
        self.ngspice_message = ngspice_message
        self.netlist_line = netlist_line


class SpiceConvergenceError(SpiceError):
    """The circuit did not converge (timestep too small, singular matrix, gmin/source stepping failed)."""


class SpiceTimeout(SpiceError):
    """A simulation ran longer than its timeout and was stopped."""


class SimulatorNotFound(MemspiceError, RuntimeError):
    """A simulator (ngspice executable, libngspice, VACASK) is not installed or not usable."""


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


class MissingDependency(MemspiceError, ImportError):
    """An optional package a feature needs (pandas, pyarrow, ...) is not installed; the message says how to add it."""
