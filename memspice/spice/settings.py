"""How to run a circuit simulation: one frozen value (engine, backend, time limit, options) and its one validation.

Every function that runs a deck takes ``settings: RunSettings`` instead of
loose ``engine`` / ``backend`` / ``timeout_s`` keywords, and the lists of
engines and backends live here only.

A time limit only matters when a run fails to finish (it never changes a
result), so there is one default, :data:`DEFAULT_TIMEOUT_S`. Jobs that are
long by construction (a transient of a large array, a whole co-simulation
checkpoint) ask :meth:`RunSettings.long` for a larger limit instead of
writing their own literal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from memspice.errors import ParameterError, SpiceTimeout

__all__ = ["BACKENDS", "DEFAULT_TIMEOUT_S", "ENGINES", "LONG_RUN_FACTOR", "PROBE_TIMEOUT_S", "RunSettings", "SOLVERS",
           "check_settings", "settings_or_default"]

#: circuit engines: ngspice decks, or VACASK's own netlist dialect (the model's Verilog-A)
ENGINES = ("ngspice", "vacask")
#: read solvers: the numpy nodal solver (memspice.circuit.nodal) or a circuit engine
SOLVERS = ("nodal", *ENGINES)
#: how ngspice is run: ``ngspice -b`` in a child process (isolated), or libngspice in this process
BACKENDS = ("subprocess", "shared")
#: wall-clock limit of one simulator run (s) unless a caller asks for another one
DEFAULT_TIMEOUT_S = 600.0
#: limit of a quick probe of an installed tool (``ngspice -v``, ``vacask --version``) by memspice doctor (s)
PROBE_TIMEOUT_S = 30.0
#: factor of :meth:`RunSettings.long`: the limit of a job that is long by construction
LONG_RUN_FACTOR = 3.0


def _frozen_options(options) -> tuple:
    if options is None:
        return ()
    if not isinstance(options, Mapping):
        try:
            options = dict(options)
        except (TypeError, ValueError):
            raise ParameterError(f"RunSettings.options = {options!r}: give a table of ngspice option name -> value") from None
    for name, value in options.items():
        if not isinstance(name, str) or not name:
            raise ParameterError(f"RunSettings.options: option name {name!r} must be a non-empty string")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ParameterError(f"RunSettings.options[{name!r}] = {value!r}: give a number or one word")
    return tuple(options.items())


@dataclass(frozen=True)
class RunSettings:
    """Where and how a deck runs.

    ``engine``: one of :data:`ENGINES`. ``backend``: one of :data:`BACKENDS`
    (how ngspice runs; VACASK always runs in its own process). ``timeout_s``:
    wall-clock limit of one run (s); a run past it is killed (SpiceTimeout).
    ``options``: ngspice ``.options`` (name -> value) added to the deck's
    defaults (memspice.circuit.spice_writer.DEFAULT_OPTIONS); given as a
    mapping, kept as a tuple of (name, value) pairs (hashable, picklable;
    ``dict(settings.options)`` gives the table back).
    """

    engine: str = "ngspice"
    backend: str = "subprocess"
    timeout_s: float = DEFAULT_TIMEOUT_S
    options: tuple = ()

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ParameterError(f"RunSettings.engine = {self.engine!r} is unknown; choose one of {', '.join(ENGINES)}")
        if self.backend not in BACKENDS:
            raise ParameterError(f"RunSettings.backend = {self.backend!r} is unknown; choose one of {', '.join(BACKENDS)}")
        try:
            t = float(self.timeout_s)
        except (TypeError, ValueError):
            raise ParameterError(f"RunSettings.timeout_s = {self.timeout_s!r}: give a time limit in seconds") from None
        if isinstance(self.timeout_s, bool) or not math.isfinite(t) or t <= 0:
            raise ParameterError(f"timeout_s must be positive, got {self.timeout_s!r} (RunSettings.timeout_s, seconds)")
        object.__setattr__(self, "timeout_s", t)
        object.__setattr__(self, "options", _frozen_options(self.options))

    def replace(self, **changes) -> "RunSettings":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def long(self) -> "RunSettings":
        """The same settings for a job that is long by construction (a large-array transient, a checkpoint).

        The one place where a longer limit is derived: ``timeout_s`` times
        :data:`LONG_RUN_FACTOR`. Only a run that would fail anyway is affected.
        """
        return self.replace(timeout_s=self.timeout_s * LONG_RUN_FACTOR)

    def remaining(self, started_s: float, what: str) -> "RunSettings":
        """These settings with the time already spent since ``started_s`` (time.monotonic()) taken off the limit.

        The limit covers the whole job, deck building included: SpiceTimeout
        naming ``what`` (the step that used the time) when nothing is left.
        """
        import time

        left = self.timeout_s - (time.monotonic() - started_s)
        if left <= 0:
            raise SpiceTimeout(f"{what} took longer than the time limit of {self.timeout_s:g} s (--timeout / "
                               "timeout_s) before the simulator started; raise the limit or use a smaller circuit")
        return self.replace(timeout_s=left)

    @property
    def simulator(self) -> str:
        """The simulator that runs the deck: ``"vacask"`` for the VACASK engine, else the ngspice backend."""
        return "vacask" if self.engine == "vacask" else self.backend

    def describe(self) -> dict:
        return {"engine": self.engine, "backend": self.backend, "timeout_s": self.timeout_s,
                "options": dict(self.options)}


def check_settings(settings, name: str = "settings") -> RunSettings:
    """``settings`` itself if it is a :class:`RunSettings`; else a ParameterError naming the input as ``name``."""
    if not isinstance(settings, RunSettings):
        raise ParameterError(f"{name} must be a memspice.spice.RunSettings, got {type(settings).__name__}")
    return settings


def settings_or_default(settings: RunSettings | None, *, engine: str | None = None) -> RunSettings:
    """``settings``, or :class:`RunSettings()` when it is None (the default of every ``settings=`` parameter).

    ``engine``: the dialect of the deck the caller wrote (``"ngspice"`` or
    ``"vacask"``); the settings returned run that engine whatever
    ``settings.engine`` says (backend, time limit and options are kept).
    """
    settings = RunSettings() if settings is None else check_settings(settings)
    return settings if engine is None or settings.engine == engine else settings.replace(engine=engine)
