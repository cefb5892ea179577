"""The ``memspice`` command.

Each module in :mod:`memspice.commands` that defines ``register(subparsers)``
adds its own subcommands; this file only assembles them and turns memspice
errors into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading

from memspice import __version__
from memspice.errors import MemspiceError
from memspice.inputs import ArgumentParser

_DESCRIPTION = """\
Train neural networks on memristive crossbars with the circuit in the loop.

Compact memristor models run as ngspice subcircuits, Verilog-A and numpy;
crossbars are solved in ngspice (reads, write pulses, energy) and by a fast
nodal solver; a surrogate calibrated against the circuit trains networks with
the hardware learning rules of the literature.
"""

_EPILOG = """\
examples:
  memspice doctor                       check ngspice and the shared library
  memspice run netlists/read_8x8.cir    run a deck, print the result vectors
  memspice <command> --help             options of one command
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="memspice",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"memspice {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    import memspice.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"memspice.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    from memspice.commands.help_examples import add_examples

    add_examples(parser)  # one example in each command's --help
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (argparse printed it) or --help / --version
        return exc.code if isinstance(exc.code, int) else 2
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 1
    _terminate_as_interrupt()
    try:
        return int(func(args) or 0)
    except MemspiceError as exc:
        print(f"memspice: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memspice: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `memspice ... --json | head`: the reader has gone; no traceback, exit like SIGPIPE
        _drop_stdout()
        return 141


def _terminate_as_interrupt() -> None:
    """SIGTERM (``kill PID``, a batch system's stop) unwinds like Ctrl-C: child simulators are killed, temporary
    folders removed, a training run saves its checkpoint (memspice.learn.trainer takes both signals itself)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: signal.default_int_handler(signum, frame))


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of the broken pipe raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
