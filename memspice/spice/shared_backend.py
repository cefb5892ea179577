"""ngspice in this process, through its shared library (libngspice, via PySpice).

Faster than a child process for many small runs (no start-up, no raw file),
but it shares the process: a segmentation fault inside ngspice ends Python.
ngspice's own controlled exits (fatal errors) are caught and reported; use the
subprocess backend when a netlist might crash the simulator.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from pathlib import Path

import numpy as np

from memspice.errors import SimulatorNotFound, SpiceError, SpiceTimeout
from memspice.spice.messages import raise_for_output
from memspice.spice.result import SimResult, analysis_from_plotname
from memspice.spice.settings import DEFAULT_TIMEOUT_S

_PYSPICE_LOGGER = "PySpice.Spice.NgSpice.Shared.NgSpiceShared"

# libngspice keeps one circuit database per process; runs through it take turns.
_LIBRARY_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_pyspice():
    """Hold PySpice's logger quiet for one call.

    PySpice logs every line ngspice writes to stderr as an error, and warns
    "Unsupported Ngspice version 39" when the library is loaded; memspice
    reports ngspice's messages itself (inside SpiceError), and version 39 is
    the one we test against, so those log records are noise for this call only.
    """
    logger = logging.getLogger(_PYSPICE_LOGGER)
    old = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(old)


def _library():
    """The PySpice handle on libngspice, created on first use."""
    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
    except Exception as exc:  # PySpice raises OSError or NameError when libngspice is missing
        raise SimulatorNotFound(
            f"cannot load ngspice's shared library through PySpice ({exc}); install "
            "`apt-get install -y libngspice0 libngspice0-dev` (the -dev package provides libngspice.so)"
        ) from exc

    class _Handle(NgSpiceShared):
        dead_status: int | None = None

        @staticmethod
        def _exit(exit_status, immediate_unloading, quit_exit, ngspice_id, user_data):
            # ngspice calls this on a controlled exit (fatal error or `quit`):
            # remember it, so the next call raises instead of touching a dead library.
            from PySpice.Spice.NgSpice.Shared import ffi

            self = ffi.from_handle(user_data)
            self.dead_status = int(exit_status)
            return exit_status

        finished = None  # threading.Event set when a background run ends

        @staticmethod
        def _background_thread_running(not_running, ngspice_id, user_data):
            # ngspice calls this with false when its background thread starts
            # and with true when it ends (the flag means "not running"; checked
            # against ngSpice_running()). PySpice's version returns None where
            # the C callback wants an int.
            from PySpice.Spice.NgSpice.Shared import ffi

            self = ffi.from_handle(user_data)
            self._is_running = not not_running
            if not_running and self.finished is not None:
                self.finished.set()
            return 0

    main = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        with _quiet_pyspice():
            try:
                return _Handle.new_instance()
            except Exception as exc:
                raise SimulatorNotFound(
                    f"cannot start ngspice's shared library ({exc}); install libngspice0 and libngspice0-dev"
                ) from exc
    finally:
        # libngspice installs its own SIGINT handler on load; Python's must stay, so that Ctrl-C reaches
        # NgspiceShared.run, which halts ngspice's thread before unwinding (no segfault at exit)
        for s, handler in handlers.items():
            if handler is not None:
                signal.signal(s, handler)


class NgspiceShared:
    """In-process ngspice. One object per session; ``close()`` frees its plots and circuits.

    Every run starts from a clean library: previous circuits are removed and
    their plots destroyed, so memory does not grow across thousands of runs.
    """

    name = "shared"

    def __init__(self) -> None:
        self._ngs = None

    def __enter__(self) -> NgspiceShared:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._ngs is not None:
            with _LIBRARY_LOCK, _quiet_pyspice():
                self._clean()
            self._ngs = None

    def run(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> SimResult:
        from memspice.spice.includes import resolve_includes

        # an include loop makes libngspice recurse until it segfaults, taking this process with it: refuse first
        netlist = resolve_includes(netlist, Path.cwd(), missing_ok=True)
        with _LIBRARY_LOCK, _quiet_pyspice():
            ngs = self._handle()
            self._clean()
            output: list[str] = []
            try:
                ngs.load_circuit(netlist)
            except Exception:
                output.append(ngs.stdout + "\n" + ngs.stderr)
                self._raise_if_exited(ngs, output)
                self._clean()
                raise_for_output("\n".join(output), netlist, failed=True)
                raise SpiceError("ngspice could not load the netlist", ngspice_message="\n".join(output))
            output.append(ngs.stdout + "\n" + ngs.stderr)
            self._run_with_timeout(ngs, netlist, timeout_s, output)
            self._raise_if_exited(ngs, output)
            text = "\n".join(output)
            plot = ngs._ngspice_shared.ngSpice_CurPlot()
            from PySpice.Spice.NgSpice.Shared import ffi_string_utf8

            plot_name = ffi_string_utf8(plot)
            failed = plot_name.startswith("const") or ngs.dead_status is not None
            raise_for_output(text, netlist, failed=failed)
            if failed:
                raise SpiceError("ngspice produced no results", ngspice_message=text[-2000:])
            return self._collect(ngs, plot_name)

    @staticmethod
    def _raise_if_exited(ngs, output: list[str]) -> None:
        if ngs.dead_status is not None:
            raise SpiceError(
                f"ngspice's shared library exited (status {ngs.dead_status}) during this run; it cannot be "
                "used again in this process (restart Python, or use backend='subprocess', which isolates each run)",
                ngspice_message="\n".join(output)[-2000:],
            )

    def _handle(self):
        if self._ngs is None:
            self._ngs = _library()
        if self._ngs.dead_status is not None:
            raise SpiceError(
                f"ngspice's shared library exited (status {self._ngs.dead_status}) and cannot be used again "
                "in this process; restart Python or use backend='subprocess'"
            )
        return self._ngs

    def _run_with_timeout(self, ngs, netlist: str, timeout_s: float, output: list[str]) -> None:
        # ngSpice_running() is still false for a moment after bg_run returns,
        # so the end of the run is taken from ngspice's own end-of-thread callback.
        ngs.finished = threading.Event()
        try:
            ngs.exec_command("bg_run")
        except Exception:
            output.append(ngs.stdout + "\n" + ngs.stderr)
            raise_for_output("\n".join(output), netlist, failed=True)
            raise
        started = time.monotonic()
        try:
            finished = ngs.finished.wait(timeout_s)
            if not finished and time.monotonic() - started < timeout_s:
                raise KeyboardInterrupt  # the wait was cut short by a signal ngspice took for itself
        except BaseException:  # Ctrl-C / SIGTERM while ngspice's thread runs: stop it first, or the library
            self._halt(ngs)    # is torn down under a running thread at exit (a segfault)
            raise
        if not finished:
            self._halt(ngs)
            raise SpiceTimeout(
                f"ngspice ran longer than timeout_s={timeout_s:g} s and was halted; "
                "raise the timeout, shorten the analysis or use a smaller array"
            )
        while ngs._ngspice_shared.ngSpice_running():  # the thread is past its callback; let it exit
            time.sleep(0.001)
        output.append(ngs.stdout + "\n" + ngs.stderr)

    def _halt(self, ngs) -> None:
        """Stop ngspice's background run and wait until its thread has ended; then drop the circuit."""
        with contextlib.suppress(Exception):
            ngs.exec_command("bg_halt")
        ngs.finished.wait(5.0)
        while ngs._ngspice_shared.ngSpice_running():
            time.sleep(0.01)
        self._clean()

    def _clean(self) -> None:
        ngs = self._ngs
        if ngs is None or ngs.dead_status is not None:
            return
        for command in ("destroy all", "remcirc"):
            with contextlib.suppress(Exception):
                ngs.exec_command(command)

    @staticmethod
    def _collect(ngs, plot_name: str) -> SimResult:
        from PySpice.Spice.NgSpice.Shared import FFI, ffi, ffi_string_utf8

        lib = ngs._ngspice_shared
        sim_type = ngs.simulation_type
        names = lib.ngSpice_AllVecs(plot_name.encode())
        vectors: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        k = 0
        while names[k] != FFI.NULL:
            raw_name = ffi_string_utf8(names[k])
            k += 1
            info = lib.ngGet_Vec_Info(f"{plot_name}.{raw_name}".encode())
            n = info.v_length
            if info.v_compdata == FFI.NULL:
                data = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
            else:
                pairs = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
                data = pairs[0::2] + 1j * pairs[1::2]
            v_type = ngs._simulation_type[info.v_type]
            name, unit = _normalise(raw_name.lower(), v_type, sim_type)
            vectors[name] = data
            units[name] = unit
        title = ""
        analysis = analysis_from_plotname(_plot_type(plot_name))
        axis = None
        if analysis == "tran":
            axis = "time"
        elif analysis == "dc":
            axis = next((n for n in vectors if "sweep" in n), None)
        return SimResult(analysis, title, vectors, units, axis)


def _plot_type(plot_name: str) -> str:
    base = plot_name.rstrip("0123456789")
    return {"op": "operating point", "tran": "transient analysis", "dc": "dc transfer characteristic", "ac": "ac analysis"}.get(base, base)


def _normalise(name: str, v_type, sim_type) -> tuple[str, str]:
    """Shared-library vector names, rewritten to the raw-file names (``v(out)``, ``i(v1)``)."""
    if name.endswith("#branch"):
        return f"i({name[: -len('#branch')]})", "A"
    if v_type == sim_type.time:
        return name, "s"
    if v_type == sim_type.voltage and not name.startswith(("@", "v(")):
        return f"v({name})", "V"
    if v_type == sim_type.current:
        return name, "A"
    return name, "V" if v_type == sim_type.voltage else ""
