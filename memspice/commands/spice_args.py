"""The simulator options of the CLI (--engine, --backend, --timeout, --solver) and the one parser into a RunSettings."""

from __future__ import annotations

from memspice.inputs import arg_timeout
from memspice.spice.settings import BACKENDS, DEFAULT_TIMEOUT_S, ENGINES, SOLVERS, RunSettings

__all__ = ["ENGINES", "BACKENDS", "SOLVERS", "add_backend", "add_engine", "add_timeout", "run_settings"]

def add_timeout(parser, what: str = "simulator timeout in seconds") -> None:
    parser.add_argument("--timeout", type=arg_timeout, default=DEFAULT_TIMEOUT_S, metavar="S",
                        help=f"{what} (default {DEFAULT_TIMEOUT_S:g})")


def add_backend(parser, help: str = "ngspice backend") -> None:
    parser.add_argument("--backend", choices=BACKENDS, default="subprocess", help=help)


def add_engine(parser, help: str = "circuit engine (default ngspice)") -> None:
    parser.add_argument("--engine", choices=ENGINES, default="ngspice", help=help)


def run_settings(args) -> RunSettings:
    """The RunSettings of a parsed command line: its --engine (or a circuit --solver), --backend and --timeout."""
    kw = {}
    engine = getattr(args, "engine", None)
    solver = getattr(args, "solver", None)
    if solver in ENGINES:
        engine = solver
    if engine is not None:
        kw["engine"] = engine
    if getattr(args, "backend", None) is not None:
        kw["backend"] = args.backend
    if getattr(args, "timeout", None) is not None:
        kw["timeout_s"] = args.timeout
    return RunSettings(**kw)
