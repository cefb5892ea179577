"""Turn what VACASK (and openvaf-r) printed into the right memspice error."""

from __future__ import annotations

import re

from memspice.errors import SpiceConvergenceError, SpiceError

# Phrases VACASK 0.3 prints when the numerics fail, as opposed to the input
# (from the messages in the vacask binary; checked against real failures).
_CONVERGENCE_PATTERNS = (
    "homotopy failed",
    "factorization failed",
    "refactorization failed",
    "timestep too small",
    "transient nr solver failed",
    "operating point analysis failed",
    "initial op analysis failed",
    "gmin steps exhausted",
    "source steps exhausted",
    "leaving core nr loop",
    "is not finite",
)

# VACASK points at a netlist position with "LINE:COLUMN (0xOFFSET) in FILE".
_LOCATION = re.compile(r"^\s*(\d+):(\d+) \(0x[0-9a-fA-F]+\) in (.+?)\s*$", re.MULTILINE)
_ABORTED = re.compile(r"analysis '([^']*)' aborted", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: Stands for the temporary deck file in VACASK's messages.
NETLIST_PLACEHOLDER = "<netlist>"


def tool_error(cls: type[SpiceError], summary: str, tool: str, said: str,
               line: str | None = None, *, line_label: str = "netlist line") -> SpiceError:
    """A SpiceError (or subclass) whose text quotes ``tool`` by name.

    ``SpiceError`` words its detail as "ngspice said"; for VACASK and openvaf-r
    we put the tool's own words into the message ourselves and keep them in
    ``ngspice_message`` (the attribute callers read) as well.
    """
    detail = summary
    if said.strip():
        detail += f"\n{tool} said:\n" + "\n".join("    " + s for s in said.strip().splitlines())
    if line:
        detail += f"\n{line_label}: {line.strip()}"
    err = cls(detail)
    err.ngspice_message = said
    err.netlist_line = line
    return err


def strip_banner(output: str) -> str:
    """VACASK's output without its start-up banner (name, copyright, CPU counts)."""
    output = _ANSI.sub("", output)
    lines = output.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("OpenBLAS CPUs"):
            return "\n".join(lines[k + 1:]).strip()
    return output.strip()


def offending_line(output: str, deck: str, deck_path: str | None = None) -> str | None:
    """The netlist line VACASK's first "LINE:COL (...) in FILE" refers to, in the user's words."""
    match = _LOCATION.search(output)
    if not match:
        return None
    number = int(match.group(1))
    if deck_path is None or match.group(3).strip() in (str(deck_path), NETLIST_PLACEHOLDER):
        lines = deck.splitlines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
    return f"line {number} of {match.group(3)}"


def raise_for_vacask_output(output: str, deck: str, *, failed: bool, deck_path: str | None = None) -> None:
    """Raise the memspice error that VACASK's ``output`` describes.

    ``failed`` says whether the run produced no usable result (a non-zero
    exit code or a missing raw file). VACASK exits with 0 even when an
    analysis aborts, so an "Analysis '...' aborted." line counts as failure.
    """
    said = strip_banner(output)
    if deck_path:
        # The run's temporary deck is gone by the time anyone reads this.
        said = said.replace(str(deck_path), NETLIST_PLACEHOLDER)
    low = said.lower()
    aborted = _ABORTED.search(said) is not None
    if not (failed or aborted):
        return
    line = offending_line(said, deck, deck_path)
    if any(p in low for p in _CONVERGENCE_PATTERNS) and line is None:
        raise tool_error(
            SpiceConvergenceError,
            "VACASK did not converge; check for nodes without a DC path to ground (a state node needs a "
            "weak path to its initial value), sources in loops, and bound the time step (maxstep)",
            "VACASK", said,
        )
    raise tool_error(SpiceError, "VACASK could not run the netlist", "VACASK", said or "(no output)", line)


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes (openvaf-r colours its diagnostics)."""
    return _ANSI.sub("", text)
