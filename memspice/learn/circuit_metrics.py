"""Per-epoch agreement of the surrogates' write models with the circuit, for circuit-in-the-loop layers.

A layer in ``[tile.array] circuit_layers`` plays every mini-batch's pulses in
the circuit engine. Before each transient the tile also asks the array-aware
surrogate (the nodal write circuit) and the wire-blind one (every device at
its nominal voltage) what the same pulses would do from the same states
(memspice.surrogate.array_tile). This module turns the sums the tile keeps
into the epoch's columns of metrics.csv, for layer k (0 = the first):

* ``circuit_dg_rel_rms_array_L<k>``: RMS over the epoch's mini-batches and the
  layer's devices of (ΔG_array-aware − ΔG_circuit), relative to the RMS of
  ΔG_circuit;
* ``circuit_dg_rel_rms_wire_blind_L<k>``: the same for the wire-blind model.

Each mini-batch starts both predictions from the circuit's own states, so the
figures are the write models' per-step errors, not drift between two runs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["circuit_columns", "circuit_epoch_metrics"]

_KINDS = (("array", 1), ("wire_blind", 2))  # column name part, index in the tile's agreement sums


def _circuit_tiles(net) -> list[tuple[int, object]]:
    out = []
    for k, layer in enumerate(net.layers):
        aw = getattr(getattr(getattr(layer, "tile", None), "config", None), "array_write", None)
        if aw is not None and aw.engine != "nodal":
            out.append((k, layer.tile))
    return out


def circuit_columns(net) -> tuple[str, ...]:
    """The metrics.csv columns of the network's circuit-in-the-loop layers (none without such layers)."""
    return tuple(f"circuit_dg_rel_rms_{name}_L{k}" for k, _ in _circuit_tiles(net) for name, _ in _KINDS)


def circuit_epoch_metrics(net) -> dict[str, float]:
    """This epoch's agreement figures (see the module docstring); the tiles' sums start again from zero."""
    out = {}
    for k, tile in _circuit_tiles(net):
        sums = tile.__dict__.get("_circuit_agreement")
        for name, i in _KINDS:
            ok = sums is not None and sums[0] > 0
            out[f"circuit_dg_rel_rms_{name}_L{k}"] = float(np.sqrt(sums[i] / sums[0])) if ok else float("nan")
        if sums is not None:
            sums[:] = 0.0
    return out
