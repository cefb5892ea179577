"""Where user input meets the program: one check per input kind, so each rule is written once.

paths    :func:`input_file` (exists and is a file, not a folder), :func:`output_file`
         and :func:`output_dir` (parent exists, not a folder where a file goes or
         a file where a folder goes, writable) -- called before any work starts;
sizes    :func:`positive_int` (rows, columns, hidden units, counts) and
         :func:`check_allocation` (a memory estimate before a large array is
         allocated: an error with the size and the limit, never a MemoryError);
numbers  :func:`number` -- a float, NaN and infinities refused, with optional
         sign bounds (:func:`seed`, :func:`timeout` are the common cases);
names    :func:`check_name` -- the one pattern of a name a user chooses for
         something memspice files under it (an imported model);
files    :func:`read_text` -- a file that must be UTF-8 text.

Each check raises :class:`memspice.errors.ParameterError` (or DataError for
files) naming the input, its value and the fix. The ``arg_*`` functions
are the same checks as argparse ``type=`` callables: argparse then prints
``argument --rows: <the message>`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from memspice.errors import DataError, ParameterError

__all__ = [
    "NAME_PATTERN", "arg_float", "arg_floats", "arg_nonnegative_float", "arg_nonnegative_int", "arg_positive_float",
    "arg_positive_int", "arg_seed", "arg_timeout", "available_memory_bytes", "check_allocation", "check_name", "format_bytes",
    "floats", "input_file", "nonnegative_int", "number", "output_dir", "output_file", "positive_int", "read_text", "seed", "timeout",
]

#: a user-chosen name: a letter or digit, then letters, digits, '_' or '-'; at most 64 characters
#: (it becomes a file name and a table key: no path separator, dot, space or newline)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: share of the memory available at start that one allocation may take
MEMORY_FRACTION = 0.5


# --------------------------------------------------------------------------- paths

def input_file(path, what: str = "input file") -> Path:
    """``path`` as a Path if it names an existing file; else DataError saying whether it is missing or a folder."""
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{what} {str(p)!r} is a folder; give a file")
    if not p.exists():
        raise DataError(f"{what} {str(p)!r} does not exist; check the path")
    if not p.is_file():
        raise DataError(f"{what} {str(p)!r} is not a regular file; give a file")
    return p


def output_file(path, what: str = "output file") -> Path:
    """``path`` if a file can be written there: not a folder, its folder exists and is writable."""
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{what} {str(p)!r} is a folder; give a file name (e.g. {str(p / 'out')!r})")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise ParameterError(f"{what} {str(p)!r}: its folder {str(parent)!r} does not exist; create it first")
    if not parent.is_dir():
        raise ParameterError(f"{what} {str(p)!r}: {str(parent)!r} is a file, not a folder")
    if p.exists() and not os.access(p, os.W_OK):
        raise ParameterError(f"{what} {str(p)!r} exists and is not writable; choose another path")
    if not p.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} {str(p)!r}: the folder {str(parent)!r} is not writable; choose another path")
    return p


def output_dir(path, what: str = "output folder") -> Path:
    """``path`` if it is a folder or can be made one: not a file, the nearest existing parent a writable folder.

    Nothing is created here (the caller does ``mkdir(parents=True)`` when it starts writing).
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"{what} {str(p)!r} is a file; give a folder (it is created if missing)")
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ParameterError(f"{what} {str(p)!r}: {str(probe)!r} is a file, so the folder cannot be made")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} {str(p)!r}: {str(probe)!r} is not writable; choose another folder")
    return p


# --------------------------------------------------------------------------- sizes

def _whole(value, what: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (an integral float such as 8.0 is accepted); else ParameterError."""
    fix = f"{what} = {value!r}: give a whole number >= {minimum}"
    if isinstance(value, bool):
        raise ParameterError(fix)
    try:
        f = float(value)
        n = int(f)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(fix) from None
    if n != f or n < minimum:
        raise ParameterError(fix)
    return n


def positive_int(value, what: str) -> int:
    """``value`` as an int >= 1 (an integral float such as 8.0 is accepted); else ParameterError."""
    return _whole(value, what, 1)


def nonnegative_int(value, what: str) -> int:
    """``value`` as an int >= 0; else ParameterError."""
    return _whole(value, what, 0)


def available_memory_bytes() -> int:
    """Memory the system can give now (MemAvailable of /proc/meminfo; else physical pages x page size)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 34  # 16 GiB: no way to ask; do not refuse what may well fit


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} TiB"  # pragma: no cover


def check_allocation(n_bytes: float, what: str, fix: str, *, limit: int | None = None) -> None:
    """ParameterError if ``n_bytes`` (an estimate, made before allocating) exceeds the limit.

    The limit is :data:`MEMORY_FRACTION` of the memory available now unless
    ``limit`` is given. ``what`` says what needs the memory (with its size),
    ``fix`` what to change.
    """
    source = "the given limit" if limit is not None else f"{MEMORY_FRACTION:.0%} of the memory available now"
    limit = int(MEMORY_FRACTION * available_memory_bytes()) if limit is None else int(limit)
    if n_bytes > limit:
        raise ParameterError(f"{what} needs about {format_bytes(n_bytes)} of memory; the limit here is "
                             f"{format_bytes(limit)} ({source}); {fix}")


# --------------------------------------------------------------------------- numbers

def number(value, what: str, *, positive: bool = False, nonnegative: bool = False, finite: bool = True) -> float:
    """``value`` as a float: NaN refused; infinities refused unless ``finite=False``; sign bounds on request."""
    if isinstance(value, bool):
        raise ParameterError(f"{what} = {value!r}: give a number")
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{what} = {value!r} is not a number; write e.g. 0.5, -1e-9 or 50e-9") from None
    if math.isnan(x):
        raise ParameterError(f"{what} = {value!r}: NaN is not a value; give a number")
    if finite and math.isinf(x):
        raise ParameterError(f"{what} = {value!r}: give a finite number")
    if positive and not x > 0:
        raise ParameterError(f"{what} = {value!r}: give a number > 0")
    if nonnegative and not x >= 0:
        raise ParameterError(f"{what} = {value!r}: give a number >= 0")
    return x


def seed(value, what: str = "seed") -> int:
    """A random seed: a whole number >= 0 (what numpy.random.default_rng takes)."""
    return nonnegative_int(value, what)


def timeout(value, what: str = "timeout") -> float:
    """A time limit in seconds: finite and > 0."""
    return number(value, what, positive=True)


# --------------------------------------------------------------------------- names

def check_name(value, what: str = "name") -> str:
    """``value`` if it matches :data:`NAME_PATTERN`; else ParameterError (no paths, dots, spaces, newlines)."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise ParameterError(f"{what} = {value!r}: use 1 to 64 letters, digits, '_' or '-', starting with a letter "
                             "or digit (no path separators, dots, spaces or newlines)")
    return value


# --------------------------------------------------------------------------- files

def read_text(path, what: str = "file") -> str:
    """The UTF-8 text of the file at ``path`` (checked by :func:`input_file`); DataError if it is not text."""
    p = input_file(path, what)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{what} {str(p)!r} cannot be read: {exc.strerror}") from None
    if b"\0" in data:
        raise DataError(f"{what} {str(p)!r} is a binary file, not text; give a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} {str(p)!r} is not UTF-8 text (byte {exc.start}); give a text file") from None


# --------------------------------------------------------------------------- argparse adapters

def _arg(check, *args, **kwargs):
    def convert(text: str):
        try:
            return check(text, "value", *args, **kwargs)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("value = ", "", 1)) from None

    convert.__name__ = check.__name__
    return convert


arg_positive_int = _arg(positive_int)
arg_nonnegative_int = _arg(nonnegative_int)
arg_float = _arg(number)
arg_positive_float = _arg(number, positive=True)
arg_nonnegative_float = _arg(number, nonnegative=True)
arg_seed = _arg(seed)
arg_timeout = _arg(timeout)


def floats(text: str, what: str = "value") -> tuple[float, ...]:
    """``"0.25,0.5,1"`` -> (0.25, 0.5, 1.0); each item by :func:`number`."""
    items = [t for t in str(text).split(",") if t.strip()]
    try:
        return tuple(number(t, what) for t in items)
    except ParameterError:
        raise ParameterError(f"{what} = {text!r}: give comma-separated finite numbers, e.g. 0.25,0.5,1") from None


arg_floats = _arg(floats)

#: an argument that is a number or a comma list of numbers, negative ones included (1e-9 notation too)
NUMBER_ARGUMENT = re.compile(r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:,[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)*,?$"
                             r"|^-(?:inf|nan|infinity)$", re.IGNORECASE)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with negative numbers as values: ``--width -1e-9`` and ``--amplitude -0.2,0.1`` need no ``=``.

    argparse itself takes only ``-5`` and ``-.5`` as numbers; everything else
    that starts with ``-`` is read as an option. No memspice option looks like
    a number, so every such argument is a value.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NUMBER_ARGUMENT
