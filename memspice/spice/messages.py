"""Turn what ngspice printed into the right memspice error."""

from __future__ import annotations

import re

from memspice.errors import SpiceConvergenceError, SpiceError

# Phrases ngspice 39 prints when the numerics fail, as opposed to the input.
_CONVERGENCE_PATTERNS = (
    "timestep too small",
    "singular matrix",
    "gmin stepping failed",
    "source stepping failed",
    "iteration limit reached",
    "no convergence",
    "transient op failed",
    "dc solution failed",
    "op failed",
)

# Of those, the ones ngspice prints only when it gives up (gmin stepping may
# fail and source stepping then succeed; that run is fine).
_FATAL_CONVERGENCE = (
    "timestep too small",
    "dc solution failed",
    "transient op failed",
    "op failed",
)

# Phrases that mean the deck itself is wrong (or the run was otherwise aborted).
_ERROR_PATTERNS = (
    "error on line",
    "error:",
    "unknown subckt",
    "could not find",
    "can't find model",
    "unable to find definition",
    "undefined",
    "simulation interrupted",
    "circuit not parsed",
    "fatal",
    "syntax error",
)

_LINE_AFTER = re.compile(r"error on line\s*\d*[^:\n]*:\s*\n\s*(\S.*)", re.IGNORECASE)


def problem_lines(output: str) -> list[str]:
    """The lines of ngspice's output that report an error or a convergence failure."""
    lines = []
    for line in output.splitlines():
        low = line.lower()
        if any(p in low for p in _CONVERGENCE_PATTERNS + _ERROR_PATTERNS):
            lines.append(line.strip())
    return lines


def raise_for_output(output: str, deck: str, *, failed: bool) -> None:
    """Raise the memspice error that ngspice's ``output`` describes.

    ``failed`` says whether the run produced no usable result; warnings alone
    in a successful run do not raise. The netlist line ngspice complained
    about is looked up in ``deck`` so the user sees it in their own words.
    """
    low = output.lower()
    convergence = any(p in low for p in _FATAL_CONVERGENCE) or (
        failed and any(p in low for p in _CONVERGENCE_PATTERNS)
    )
    complaint = "\n".join(problem_lines(output)) or output.strip()[-2000:]
    line = _offending_line(output, deck)
    if convergence:
        raise SpiceConvergenceError(
            "ngspice did not converge; check for nodes without a DC path to ground, "
            "ideal switches or sources in loops, and bound the time step (a fifth of a pulse edge)",
            ngspice_message=complaint,
            netlist_line=line,
        )
    if failed or any(p in low for p in ("error on line", "circuit not parsed", "simulation interrupted")):
        raise SpiceError("ngspice could not run the netlist", ngspice_message=complaint, netlist_line=line)


def _offending_line(output: str, deck: str) -> str | None:
    match = _LINE_AFTER.search(output)
    if not match:
        return None
    quoted = match.group(1).strip().lower()
    for line in deck.splitlines():
        if line.strip().lower() == quoted:
            return line
    return match.group(1)
